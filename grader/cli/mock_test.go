package cli

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/harness/journal"
)

// syncBuffer is a bytes.Buffer safe for one writer and one poller.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// exports parses "export K=V" lines.
func exports(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = strings.Trim(v, "'")
		}
	}
	return m
}

func TestMockCommandServesWhatItPrints(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[tls]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := []string{"mock", "--scenario", "happy", "--dir", dir}
			if tls {
				args = append(args, "--tls")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr syncBuffer
			code := make(chan int, 1)
			go func() { code <- Run(ctx, Env{Args: args, Stdout: &stdout, Stderr: &stderr}) }()
			require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "Ctrl-C") }, 10*time.Second, 5*time.Millisecond, stderr.String())

			env := exports(stdout.String())
			for _, k := range []string{"ITSM_SOURCE_URL", "ITSM_SOURCE_TOKEN", "ITSM_TARGET_URL", "ITSM_TARGET_TOKEN"} {
				require.NotEmpty(t, env[k], k)
			}
			c := &http.Client{Timeout: 5 * time.Second}
			if tls {
				require.True(t, strings.HasPrefix(env["ITSM_SOURCE_URL"], "https://"))
				require.FileExists(t, env["NODE_EXTRA_CA_CERTS"])
				c.Transport = caTransport(t, env["NODE_EXTRA_CA_CERTS"])
			} else {
				require.NotContains(t, env, "NODE_EXTRA_CA_CERTS")
			}
			req, err := http.NewRequest(http.MethodGet, env["ITSM_SOURCE_URL"]+"/api/now/table/incident", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+env["ITSM_SOURCE_TOKEN"])
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)

			cancel()
			select {
			case got := <-code:
				require.Equal(t, ExitOK, got, stderr.String())
			case <-time.After(10 * time.Second):
				t.Fatal("the mock did not stop on cancellation")
			}
			f, err := os.Open(filepath.Join(dir, "journal.jsonl"))
			require.NoError(t, err)
			defer f.Close()
			l, err := journal.Read(f, 0)
			require.NoError(t, err)
			require.Len(t, l.Requests, 1)
			require.NotNil(t, l.End, "the journal file is finished on exit")
			raw, err := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
			require.NoError(t, err)
			require.NotContains(t, string(raw), env["ITSM_SOURCE_TOKEN"])
		})
	}
}

func TestCommandLineErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no command", nil, ExitUsage, "", "usage: grader"},
		{"help", []string{"help"}, ExitOK, "", "mock"},
		{"unknown command", []string{"frobnicate"}, ExitUsage, "", "unknown command"},
		{"list scenarios", []string{"mock", "--list"}, ExitOK, "happy", ""},
		{"unknown scenario", []string{"mock", "--scenario", "nope"}, ExitFailure, "", "no scenario \"nope\""},
		{"not loopback", []string{"mock", "--host", "0.0.0.0"}, ExitUsage, "", "loopback only"},
		{"stray argument", []string{"mock", "extra"}, ExitUsage, "", "unexpected arguments"},
		{"bad flag", []string{"mock", "--nope"}, ExitUsage, "", "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			got := Run(context.Background(), Env{Args: tc.args, Stdout: &stdout, Stderr: &stderr})
			require.Equal(t, tc.code, got, stderr.String())
			require.Contains(t, stdout.String(), tc.stdout)
			require.Contains(t, stderr.String(), tc.stderr)
		})
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	require.Equal(t, "http://127.0.0.1:80", shellQuote("http://127.0.0.1:80"))
	require.Equal(t, "'/tmp/a b/ca.pem'", shellQuote("/tmp/a b/ca.pem"))
	require.Equal(t, `'it'\''s'`, shellQuote("it's"))
	require.Equal(t, "''", shellQuote(""))
}

func TestSandboxUsage(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	require.Equal(t, ExitUsage, Run(context.Background(), Env{Args: []string{"sandbox"}, Stdout: &stdout, Stderr: &stderr}))
	require.Contains(t, stderr.String(), "prune")
}
