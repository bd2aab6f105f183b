// Package intake fetches a submission into a host-owned folder: a local folder is copied, a
// git repository (https only) is fetched with the system's git under a byte and a time cap and
// extracted from `git archive`. Either way the folder holds regular files and folders only,
// under safecopy's caps, and nothing of the candidate's is ever interpreted: no checkout, no
// hooks, no submodules, no links.
package intake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/itsm-grader/grader/sandbox/safecopy"
)

// ErrRefused is wrapped by every error that is the submission's doing (a link, a device, a
// tree or repository over a cap, an archive entry refused), beside the safecopy sentinel that
// says which: grading turns it into a finding rather than a grader error. Network failures,
// git missing and the time cap are plain errors.
var ErrRefused = errors.New("submission refused")

// Submission is a fetched submission.
type Submission struct {
	Dir    string // the host-owned copy to build: regular files and folders only
	Source string // what the user named
	Ref    string
	Commit string // the commit graded, for git sources
}

// Options shape a fetch.
type Options struct {
	// Workdir is an existing folder the submission is laid out in (Dir is Workdir/submission;
	// a git repository is fetched into Workdir/submission.git and removed afterwards).
	Workdir string
	// Caps bound the submission (safecopy's defaults where zero). node_modules and .git are
	// always left out, wherever they appear.
	Caps safecopy.Caps
	// GitTimeout caps the whole git intake (fetch and archive). Default 2 minutes.
	GitTimeout time.Duration
	// GitMaxBytes caps the fetched repository's size on disk. Default 100 MiB.
	GitMaxBytes int64
	// GitCAFile, when set, is the only CA bundle git trusts (for tests and private hosts).
	GitCAFile string
	// Remote takes the sources it claims (a GitHub repository); nil: folders and git URLs only.
	Remote Remote
}

// SkippedDirs are the folder names never taken into a submission: a committed node_modules is
// never graded (the lockfile says what is installed), and .git is history, not the submission.
var SkippedDirs = []string{"node_modules", ".git"}

func (o Options) withDefaults() Options {
	if o.GitTimeout <= 0 {
		o.GitTimeout = 2 * time.Minute
	}
	if o.GitMaxBytes <= 0 {
		o.GitMaxBytes = 100 << 20
	}
	o.Caps.SkipDirs = append(append([]string(nil), o.Caps.SkipDirs...), SkippedDirs...)
	return o
}

// IsGit reports whether source names a git repository rather than a folder: a git URL, or a
// repository remote (nil: none) claims.
func IsGit(source string, remote Remote) bool {
	if claimant(remote, source) != nil {
		return true
	}
	if st, err := os.Stat(source); err == nil && st.IsDir() {
		return false
	}
	return strings.Contains(source, "://") || strings.HasPrefix(source, "git@") || strings.HasSuffix(source, ".git")
}

// Check says, before any work, whether source and ref name something Fetch can take: an
// existing folder (without a ref), an https git URL and a well-formed ref, or a repository
// remote (nil: none) claims. Its errors say what to give instead.
func Check(source, ref string, remote Remote) error {
	if r := claimant(remote, source); r != nil {
		return r.Check(source, ref)
	}
	if IsGit(source, nil) {
		if err := checkGitURL(source); err != nil {
			return err
		}
		return checkRef(ref)
	}
	st, err := os.Stat(source)
	switch {
	case err != nil:
		return fmt.Errorf("submission %s: no such folder (give a folder holding package.json, or an https:// git URL)", source)
	case !st.IsDir():
		return fmt.Errorf("submission %s is a file: give the folder holding its package.json, or an https:// git URL", source)
	case ref != "":
		return errors.New("--ref names a commit of a git repository, not of a folder")
	}
	return nil
}

// Fetch lays the submission named by source out in opts.Workdir: a folder is copied, an
// https git URL is fetched at ref (HEAD when empty), a repository opts.Remote claims is
// fetched by it. Errors that are the submission's doing wrap ErrRefused.
func Fetch(ctx context.Context, source, ref string, opts Options) (*Submission, error) {
	opts = opts.withDefaults()
	dir := filepath.Join(opts.Workdir, "submission")
	if r := claimant(opts.Remote, source); r != nil {
		return r.Fetch(ctx, source, ref, dir, opts)
	}
	if IsGit(source, nil) {
		commit, err := fetchGit(ctx, source, ref, dir, opts)
		if err != nil {
			return nil, err
		}
		return &Submission{Dir: dir, Source: source, Ref: ref, Commit: commit}, nil
	}
	if ref != "" {
		return nil, errors.New("a ref names a commit of a git repository, not of a folder")
	}
	if err := copyFolder(source, dir, opts.Caps); err != nil {
		return nil, err
	}
	return &Submission{Dir: dir, Source: source}, nil
}

// copyFolder copies a folder source. The operator's own path may go through links (it is
// resolved first); nothing inside the folder may.
func copyFolder(source, dir string, caps safecopy.Caps) error {
	abs, err := filepath.Abs(source)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return fmt.Errorf("submission %s is not a folder or a git URL: %w", source, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return fmt.Errorf("submission %s is not a folder or a git URL", source)
	}
	if _, err := safecopy.Copy(abs, dir, caps); err != nil {
		return refusal("copy the submission", err)
	}
	return nil
}

// refusal words err for the operation, wrapping ErrRefused when safecopy refused the tree.
func refusal(op string, err error) error {
	if errors.Is(err, safecopy.ErrNotRegular) || errors.Is(err, safecopy.ErrOverCap) || errors.Is(err, safecopy.ErrBadEntry) {
		return fmt.Errorf("%w: %s: %w", ErrRefused, op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
