package intake

import (
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// setupEnv is the environment of the git commands that build the test repositories: no host
// configuration, a fixed author.
var setupEnv = []string{
	"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
	"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
	"GIT_AUTHOR_DATE=2020-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2020-01-01T00:00:00Z",
}

// setupGit runs git in dir for a test's setup and returns its trimmed output.
func setupGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = setupEnv
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

// gitServer serves the bare repositories under root over HTTPS on loopback with git's own
// http-backend, counting every connection and request. Paths under /v0/ are served without
// the Git-Protocol header (protocol v0, where a server refuses unadvertised commit ids unless
// configured to allow them); /stall/ never answers; /slow/ answers at slowRate bytes a second.
type gitServer struct {
	root     string
	url      string // https://127.0.0.1:port
	caFile   string
	conns    atomic.Int64
	requests atomic.Int64
	// slowBytes counts what /slow/ responses wrote: how much a client got before it stopped.
	slowBytes atomic.Int64
}

// slowRate is the pace of /slow/ responses: a few MiB take seconds, so the byte cap's poll
// sees the repository grow.
const slowRate = 2 << 20

func newGitServer(t *testing.T) *gitServer {
	t.Helper()
	s := &gitServer{root: t.TempDir()}
	testOver := make(chan struct{})
	backend := &cgi.Handler{
		Path: filepath.Join(setupGit(t, s.root, "--exec-path"), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME=/nonexistent"},
		// A client killed mid-response (the byte cap's test) makes the copy fail: expected.
		Logger: log.New(io.Discard, "", 0),
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		switch {
		case strings.HasPrefix(r.URL.Path, "/stall/"):
			select {
			case <-r.Context().Done(): // the client gave up (killed at its time cap)
			case <-testOver: // or a client left alive holds on: the test fails, without hanging
			}
		case strings.HasPrefix(r.URL.Path, "/slow/"):
			r.URL.Path = strings.TrimPrefix(r.URL.Path, "/slow")
			backend.ServeHTTP(&throttled{ResponseWriter: w, start: time.Now(), count: &s.slowBytes}, r)
		case strings.HasPrefix(r.URL.Path, "/v0/"):
			r.URL.Path = strings.TrimPrefix(r.URL.Path, "/v0")
			r.Header.Del("Git-Protocol")
			backend.ServeHTTP(w, r)
		default:
			backend.ServeHTTP(w, r)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(testOver) })
	s.url = srv.URL
	s.caFile = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(s.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	return s
}

// throttled writes a response no faster than slowRate (the pace is the point of the test
// server, not a wait for anything).
type throttled struct {
	http.ResponseWriter
	start   time.Time
	written int64
	count   *atomic.Int64
}

func (w *throttled) Write(p []byte) (int, error) {
	const chunk = 16 << 10
	total := 0
	for len(p) > 0 {
		n, err := w.ResponseWriter.Write(p[:min(chunk, len(p))])
		total += n
		w.written += int64(n)
		w.count.Add(int64(n))
		if err != nil {
			return total, err
		}
		p = p[n:]
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		due := w.start.Add(time.Duration(w.written) * time.Second / slowRate)
		time.Sleep(time.Until(due))
	}
	return total, nil
}

// repoFile is one entry of a test repository: a file, or with link a symbolic link.
type repoFile struct {
	path, content, link string
}

// serve commits files into a new repository and serves it bare as name.git with
// uploadpack.allowReachableSHA1InWant (so a commit id can be fetched at depth 1). It returns
// the bare repository's path.
func (s *gitServer) serve(t *testing.T, name string, files ...repoFile) string {
	t.Helper()
	work := t.TempDir()
	setupGit(t, work, "init", "-q")
	for _, f := range files {
		p := filepath.Join(work, f.path)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		if f.link != "" {
			require.NoError(t, os.Symlink(f.link, p))
			continue
		}
		require.NoError(t, os.WriteFile(p, []byte(f.content), 0o644))
	}
	setupGit(t, work, "add", "-A")
	setupGit(t, work, "commit", "-q", "--allow-empty", "-m", "first")
	return s.publish(t, work, name)
}

// publish clones work bare into the served root as name.git.
func (s *gitServer) publish(t *testing.T, work, name string) string {
	t.Helper()
	bare := filepath.Join(s.root, name+".git")
	setupGit(t, s.root, "clone", "-q", "--bare", work, bare)
	setupGit(t, bare, "config", "uploadpack.allowReachableSHA1InWant", "true")
	return bare
}

// repoURL is the https URL of a served repository, under prefix ("", "/v0", "/slow", "/stall").
func (s *gitServer) repoURL(prefix, name string) string {
	return s.url + prefix + "/" + name + ".git"
}

// leftoverGit lists processes still working in dir (git and its children run there), polling
// until none are left or the deadline passes: a killed process group is gone within moments.
func leftoverGit(t *testing.T, dir string) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left []string
		procs, err := filepath.Glob("/proc/[0-9]*")
		require.NoError(t, err)
		for _, p := range procs {
			cwd, err := os.Readlink(filepath.Join(p, "cwd"))
			if err == nil && strings.HasPrefix(cwd, dir) {
				cmdline, _ := os.ReadFile(filepath.Join(p, "cmdline"))
				left = append(left, p+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}
