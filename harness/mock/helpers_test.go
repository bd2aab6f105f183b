package mock

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/plan"
)

// startMock runs a mock with the exercise's data under the plan written in YAML.
func startMock(t testing.TB, planYAML string) *Server {
	t.Helper()
	p, err := plan.Parse([]byte(planYAML))
	require.NoError(t, err)
	rows, err := exercise.IncidentRows()
	require.NoError(t, err)
	srv, err := Start(context.Background(), Config{
		Plan: p, Rows: rows, OpenAPI: exercise.OpenAPI(), TicketSchema: exercise.TargetSchema(),
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	return srv
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// client is a Go client with no keep-alive, so every request is a fresh connection.
func client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

// golden returns the expected payload of one incident.
func golden(t *testing.T, externalID string) []byte {
	t.Helper()
	g, err := exercise.Golden()
	require.NoError(t, err)
	b, ok := g[externalID]
	require.True(t, ok, "no golden payload for %s", externalID)
	return b
}

// postTicket sends one create.
func postTicket(t *testing.T, c *http.Client, srv *Server, body []byte, key string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL(HTTP)+"/v1/tickets", bytes.NewReader(body))
	require.NoError(t, err)
	_, target := srv.Tokens()
	req.Header.Set("Authorization", "Bearer "+target)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// getPage reads one source page.
func getPage(t *testing.T, c *http.Client, base, token, query string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/now/table/incident"+query, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// journaled polls until the journal holds n requests (a handler journals after the client may
// already have its answer) and returns it.
func journaled(t *testing.T, srv *Server, n int) *journal.Log {
	t.Helper()
	var l *journal.Log
	require.Eventually(t, func() bool {
		l = srv.Journal()
		return len(l.Requests) >= n
	}, 20*time.Second, 5*time.Millisecond, "journal never reached %d requests", n)
	return l
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return m
}
