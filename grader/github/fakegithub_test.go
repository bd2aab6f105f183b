package github

import (
	"crypto/sha1"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/itsm-grader/grader/grader/github/githubtest"
	"github.com/stretchr/testify/require"
)

// testToken is the personal token the fake accepts.
const testToken = "ghp_testtoken0123456789"

// sha is a commit id made from seed.
func sha(seed string) string {
	sum := sha1.Sum([]byte(seed))
	return hex.EncodeToString(sum[:])
}

// submissionFiles is a small submission as a candidate's repository holds it.
var submissionFiles = map[string]string{
	"package.json":             `{"name":"sync-client","type":"module"}` + "\n",
	"src/index.ts":             "export async function syncTickets() {}\n",
	"src/lib/retry.ts":         "export const retry = 3\n",
	"node_modules/x/index.js":  "module.exports = 1\n",
	"SUBMISSION.md":            "---\ntrack: manual\n---\n",
	"docs/deep/er/notes/a.txt": "a\n",
}

// fixture is the fake GitHub holding acme/sync-client (public) with main, a branch, a tag
// and an older commit, and acme/private-client (private, in installation 77).
type fixture struct {
	srv                  *githubtest.Server
	guard                *githubtest.Guard
	main, feature, v1    string
	privateMain          string
	mainFiles, v1Files   map[string]string
	publicRepo, privRepo *githubtest.Repo
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{srv: githubtest.NewServer(t), guard: &githubtest.Guard{},
		main: sha("main"), feature: sha("feature"), v1: sha("v1"), privateMain: sha("private")}
	f.mainFiles = submissionFiles
	f.v1Files = map[string]string{"package.json": "{}\n", "src/index.ts": "// v1\n"}
	f.publicRepo = &githubtest.Repo{Owner: "acme", Name: "sync-client", DefaultBranch: "main",
		Refs: map[string]string{"main": f.main, "feature/retry": f.feature, "v1": f.v1},
		Archives: map[string][]byte{
			f.main:    githubtest.Tarball("acme", "sync-client", f.main, f.mainFiles),
			f.feature: githubtest.Tarball("acme", "sync-client", f.feature, map[string]string{"src/index.ts": "// feature\n"}),
			f.v1:      githubtest.Tarball("acme", "sync-client", f.v1, f.v1Files),
		}}
	f.privRepo = &githubtest.Repo{Owner: "acme", Name: "private-client", DefaultBranch: "trunk", Private: true, Installation: 77,
		Refs:     map[string]string{"trunk": f.privateMain},
		Archives: map[string][]byte{f.privateMain: githubtest.Tarball("acme", "private-client", f.privateMain, map[string]string{"src/index.ts": "// private\n"})}}
	f.srv.AddRepo(f.publicRepo)
	f.srv.AddRepo(f.privRepo)
	f.srv.AddToken(testToken)
	t.Cleanup(func() { require.Zero(t, f.guard.Refused(), "no request tried to leave loopback") })
	return f
}

// config is a client configuration for the fake: its API as a GitHub Enterprise root, repositories
// named on github.com, the loopback-only transport, short rate-limit waits.
func (f *fixture) config(t *testing.T) Config {
	return Config{APIURL: f.srv.API.URL, WebHost: "github.com", Transport: githubtest.Transport(f.guard),
		MaxRateLimitWait: 10 * time.Second, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
}

func (f *fixture) client(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := NewClient(cfg)
	require.NoError(t, err)
	return c
}

// apiRequests are the recorded requests to the API whose path holds part.
func apiRequests(srv *githubtest.Server, host, part string) []githubtest.Request {
	var out []githubtest.Request
	for _, r := range srv.Requests() {
		if r.Host == host && strings.Contains(r.Path, part) {
			out = append(out, r)
		}
	}
	return out
}

// testWriter writes a logger's lines through t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
