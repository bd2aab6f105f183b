// Package intake fetches a submission: a local folder, or a git repository (cloned with the
// system's git, at a named ref). The folder is not copied here: the build copies it under the
// sandbox's caps, never following a link out of it.
package intake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Submission is a fetched submission.
type Submission struct {
	Dir    string // the folder to build
	Source string // what the user named
	Ref    string
	Commit string // the commit graded, for git sources
}

// IsGit reports whether source names a git repository rather than a folder.
func IsGit(source string) bool {
	if st, err := os.Stat(source); err == nil && st.IsDir() {
		return false
	}
	return strings.Contains(source, "://") || strings.HasPrefix(source, "git@") || strings.HasSuffix(source, ".git")
}

// Fetch resolves a folder, or clones a repository into workdir.
func Fetch(ctx context.Context, source, ref, workdir string) (*Submission, error) {
	if !IsGit(source) {
		if ref != "" {
			return nil, errors.New("a ref names a commit of a git repository, not of a folder")
		}
		abs, err := filepath.Abs(source)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", source, err)
		}
		st, err := os.Stat(abs)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("submission %s is not a folder or a git URL", source)
		}
		return &Submission{Dir: abs, Source: source}, nil
	}
	dir := filepath.Join(workdir, "clone")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := git(ctx, "", "clone", "--quiet", "--no-checkout", "--", source, dir); err != nil {
		return nil, err
	}
	target := ref
	if target == "" {
		target = "HEAD"
	}
	if err := git(ctx, dir, "-c", "core.symlinks=true", "checkout", "--quiet", "--detach", target); err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return nil, fmt.Errorf("read commit: %w", err)
	}
	_ = os.RemoveAll(filepath.Join(dir, ".git"))
	return &Submission{Dir: dir, Source: source, Ref: ref, Commit: strings.TrimSpace(string(out))}, nil
}

// git runs the system's git without prompts, hooks or the user's configuration.
func git(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent", "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}
