package intake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/itsm-grader/grader/sandbox/safecopy"
)

// sizePoll is how often the fetched repository's size is measured against the byte cap.
const sizePoll = 100 * time.Millisecond

// git runs the system's git on one bare repository: no user or system configuration, no
// prompts, no credential helpers, no hooks, https only, and each command in its own process
// group, killed whole (remote helper, index-pack and all) when its context ends.
type git struct {
	dir      string // the bare repository
	caFile   string // http.sslCAInfo, when set
	maxBytes int64  // cap on the repository's size on disk while fetching
}

// config is what every command runs with, whatever the repository or the host says.
func (g *git) config() []string {
	settings := []string{
		"protocol.allow=never", "protocol.https.allow=always",
		"core.symlinks=false", "submodule.recurse=false", "core.hooksPath=/dev/null",
		"core.fsmonitor=false", "credential.helper=", "http.sslVerify=true",
		"fetch.unpackLimit=1",    // always one pack, written as it arrives, so the byte cap sees it grow
		"fetch.fsckObjects=true", // refuse malformed objects (tree entries named "..", ".git")
		"gc.auto=0", "maintenance.auto=false", "init.defaultBranch=main",
	}
	if g.caFile != "" {
		settings = append(settings, "http.sslCAInfo="+g.caFile)
	}
	args := make([]string, 0, 2*len(settings))
	for _, s := range settings {
		args = append(args, "-c", s)
	}
	return args
}

// env is git's whole environment: HOME a dead path, no global or system configuration.
func env() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent", "XDG_CONFIG_HOME=/nonexistent",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
		"GIT_ALLOW_PROTOCOL=https", "GIT_PROTOCOL_FROM_USER=0", "LC_ALL=C",
	}
}

// command is git with args, in the repository, killed with its whole process group when ctx
// ends.
func (g *git) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append(append([]string{"--git-dir=" + g.dir}, g.config()...), args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Dir = g.dir
	cmd.Env = env()
	inOwnGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs a git command to its end and returns its output.
func (g *git) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := g.command(ctx, args...)
	stdout, stderr := &capped{max: 64 << 10}, &capped{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return nil, failed(ctx, args[0], err, stderr)
	}
	return stdout.buf.Bytes(), nil
}

// failed words a git command's failure: the cap or cancellation that stopped it, else git's
// own message.
func failed(ctx context.Context, op string, err error, stderr *capped) error {
	if cause := context.Cause(ctx); cause != nil {
		return fmt.Errorf("git %s: %w", op, cause)
	}
	return fmt.Errorf("git %s: %w: %s", op, err, printable(stderr.buf.String()))
}

// init makes the empty bare repository, without templates (so without hooks).
func (g *git) init(ctx context.Context) error {
	if err := os.Mkdir(g.dir, 0o700); err != nil {
		return fmt.Errorf("make repository: %w", err)
	}
	_, err := g.run(ctx, "init", "--quiet", "--bare", "--template=", g.dir)
	return err
}

// fetchWatched runs git fetch with args while polling the repository's size, killing git the
// moment it passes the byte cap; a fetch that finished between two polls is measured once more.
func (g *git) fetchWatched(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := g.watchSize(ctx, cancel)
	_, err := g.run(ctx, append([]string{"fetch", "--quiet", "--no-tags", "--no-recurse-submodules"}, args...)...)
	stop()
	if err != nil {
		return err
	}
	if size := diskSize(g.dir); size > g.maxBytes {
		return g.overCap(fmt.Sprintf("the fetched repository is %d bytes", size))
	}
	return nil
}

func (g *git) overCap(what string) error {
	return fmt.Errorf("%w: %w: %s, over the byte cap of %d bytes", ErrRefused, safecopy.ErrOverCap, what, g.maxBytes)
}

// watchSize polls the repository's size until stop is called, cancelling with the byte cap as
// the cause once it is over.
func (g *git) watchSize(ctx context.Context, cancel context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(sizePoll)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				if size := diskSize(g.dir); size > g.maxBytes {
					cancel(g.overCap(fmt.Sprintf("the repository reached %d bytes while fetching (git was stopped)", size)))
					return
				}
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

// diskSize is the total size of the files under dir (entries vanishing meanwhile, like git's
// temporary packs, are passed over).
func diskSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
		}
		return nil
	})
	return total
}

// resolve returns the object id rev names.
func (g *git) resolve(ctx context.Context, rev string) (string, error) {
	out, err := g.run(ctx, "rev-parse", "--verify", "--quiet", rev)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", rev, err)
	}
	id := strings.TrimSpace(string(out))
	if len(id) != 40 || !hexRef.MatchString(id) {
		return "", fmt.Errorf("resolve %s: git answered %q", rev, printable(id))
	}
	return id, nil
}

// archive streams `git args` (a git archive) into safecopy.Untar at dst, killing git the
// moment Untar refuses an entry or a cap.
func (g *git) archive(ctx context.Context, dst string, caps safecopy.Caps, args ...string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := g.command(ctx, args...)
	stderr := &capped{max: 8 << 10}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("git archive: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git archive: %w", err)
	}
	_, uerr := safecopy.Untar(out, dst, safecopy.TarOptions{Caps: caps})
	if uerr == nil {
		// What follows the end marker is padding; more than that is not an archive.
		if n, _ := io.Copy(io.Discard, io.LimitReader(out, 1<<20)); n >= 1<<20 {
			uerr = errors.New("data after the end of the archive")
		}
	}
	if uerr != nil {
		cancel()
	}
	werr := cmd.Wait()
	switch {
	case context.Cause(ctx) != nil && !errors.Is(context.Cause(ctx), context.Canceled):
		err = fmt.Errorf("git archive: %w", context.Cause(ctx))
	case uerr != nil:
		err = refusal("extract the repository", uerr)
	case werr != nil:
		err = failed(ctx, "archive", werr, stderr)
	}
	if err != nil {
		return errors.Join(err, os.RemoveAll(dst))
	}
	return nil
}

// capped keeps the first max bytes written to it and drops the rest.
type capped struct {
	max int
	buf bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// printable is git's message made safe to show: control characters (a hostile server's
// remote: lines may hold terminal escapes) replaced, surrounding space trimmed.
func printable(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || (r >= 0x20 && r != 0x7f) {
			return r
		}
		return '?'
	}, s))
}
