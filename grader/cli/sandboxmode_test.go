package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/tlsca"
)

// TestMockSandboxModeStreamsTheJournal: in sandbox mode stdout is the journal and nothing else,
// its first line (the start record) announces readiness, and the TLS material comes from
// --tls-dir.
func TestMockSandboxModeStreamsTheJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trusted, err := tlsca.New("test CA")
	require.NoError(t, err)
	for name, a := range map[string]*tlsca.Authority{"trusted.pem": trusted, "untrusted.pem": trusted} {
		b, err := a.Encode()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	args := []string{"mock", "--sandbox", "--scenario", "happy", "--tls-dir", dir, "--source-token", "s3cret-source-token", "--target-token", "s3cret-target-token"}
	go func() { code <- Run(ctx, Env{Args: args, Stdout: &stdout, Stderr: &stderr}) }()
	require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "\n") }, 10*time.Second, 5*time.Millisecond, stderr.String())

	var start journal.Start
	first, _, _ := strings.Cut(stdout.String(), "\n")
	require.NoError(t, json.Unmarshal([]byte(first), &start))
	require.Equal(t, "start", start.Kind)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trusted.Pool}}}
	req, err := http.NewRequest(http.MethodGet, start.Listeners["https"]+"/api/now/table/incident", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer s3cret-source-token")
	resp, err := c.Do(req)
	require.NoError(t, err, "the HTTPS listener presents the leaf from --tls-dir")
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	require.Equal(t, ExitOK, <-code, stderr.String())
	l, err := journal.Read(strings.NewReader(stdout.String()), 0)
	require.NoError(t, err)
	require.Len(t, l.Requests, 1)
	require.NotNil(t, l.End)
	require.NotContains(t, stdout.String(), "s3cret")
	require.NotContains(t, stdout.String(), "export ")
}

func TestMockSandboxModeRefusesFileOutputs(t *testing.T) {
	t.Parallel()
	var stdout, stderr syncBuffer
	got := Run(context.Background(), Env{Args: []string{"mock", "--sandbox", "--admin", "127.0.0.1:0"}, Stdout: &stdout, Stderr: &stderr})
	require.Equal(t, ExitUsage, got)
	require.Contains(t, stderr.String(), "--sandbox")
}
