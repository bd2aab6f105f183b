package mock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/plan"
)

// syncBuffer is a journal sink tests read while the mock writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// startCapped runs a mock under caps, streaming its journal to the returned sink. Close it
// (t.Cleanup does too) to get the end line.
func startCapped(t *testing.T, planYAML string, caps Caps) (*Server, *syncBuffer) {
	t.Helper()
	p, err := plan.Parse([]byte(planYAML))
	require.NoError(t, err)
	rows, err := exercise.IncidentRows()
	require.NoError(t, err)
	sink := &syncBuffer{}
	srv, err := Start(context.Background(), Config{
		Plan: p, Rows: rows, OpenAPI: exercise.OpenAPI(), TicketSchema: exercise.TargetSchema(),
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)), JournalSink: sink, Caps: caps,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv, sink
}

// endLine closes the mock and reads its streamed journal back strictly.
func endLine(t *testing.T, srv *Server, sink *syncBuffer) *journal.Log {
	t.Helper()
	require.NoError(t, srv.Close())
	l, err := journal.Read(bytes.NewReader(sink.Bytes()), 0)
	require.NoError(t, err)
	require.NotNil(t, l.End, "the journal ends with its end line")
	return l
}

// metric returns the value of one series in the mock's Prometheus output ("" when absent).
func metric(t *testing.T, srv *Server, series string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.Metrics().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return ""
}

// post sends a body to the target and returns the status (0 when the request failed).
func post(t *testing.T, c *http.Client, srv *Server, body []byte) int {
	t.Helper()
	resp, _, err := postTicket(t, c, srv, body, "")
	if err != nil {
		return 0
	}
	return resp.StatusCode
}

// padded is a target body of exactly n bytes for ticket id.
func padded(id string, n int) []byte {
	head := fmt.Sprintf(`{"externalId":%q,"pad":"`, id)
	return []byte(head + strings.Repeat("x", n-len(head)-2) + `"}`)
}

// TestConnectionsPastTheCapAreResetAndCounted holds the cap's worth of idle connections: one
// more is closed at once (never queued), counted on the end line and in the metrics, and a slot
// freed by a closed connection, or by a fault that took its connection over, serves again.
func TestConnectionsPastTheCapAreResetAndCounted(t *testing.T) {
	t.Parallel()
	srv, sink := startCapped(t, `
name: reset-first
rules:
  - endpoint: source.list
    attempts: [1]
    fault: {kind: reset}
`, Caps{Connections: 3})
	addr := strings.TrimPrefix(srv.URL(HTTP), "http://")
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		held = append(held, c)
	}
	require.Eventually(t, func() bool { return srv.openConns.Load() == 3 }, 5*time.Second, time.Millisecond)

	err := oneRequest(addr)
	require.Error(t, err, "the connection past the cap is closed unserved")
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "closed at once, not left waiting: %v", err)
	require.Equal(t, `1`, metric(t, srv, `itsm_mock_connections_refused_total{listener="http"}`))

	require.NoError(t, held[0].Close())
	require.Eventually(t, func() bool { return srv.openConns.Load() == 2 }, 5*time.Second, time.Millisecond)
	source, _ := srv.Tokens()
	c := client(5 * time.Second)
	backToTwo := func() bool { return srv.openConns.Load() == 2 }
	_, _, err = getPage(t, c, srv.URL(HTTP), source, "")
	require.Error(t, err, "the first page is reset by the plan")
	require.Eventually(t, backToTwo, 5*time.Second, time.Millisecond, "the reset connection gave its slot back")
	for range 4 {
		resp, _, err := getPage(t, c, srv.URL(HTTP), source, "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		// The client may dial again before the server has closed the last connection: the
		// slot comes back when it has.
		require.Eventually(t, backToTwo, 5*time.Second, time.Millisecond)
	}
	for _, c := range held[1:] {
		require.NoError(t, c.Close())
	}
	l := endLine(t, srv, sink)
	require.Equal(t, 1, l.End.RefusedConnections)
	require.True(t, l.End.Flooded())
	require.Len(t, l.Requests, 5)
}

// oneRequest sends a request on a new connection and reads the first byte of the answer.
func oneRequest(addr string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err // the reset can arrive before the dial returns
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("GET /api/now/table/incident HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		return err
	}
	_, err = c.Read(make([]byte, 1))
	return err
}

// TestBodiesPastTheRunsBudgetAreRefusedUnread spends the run's body budget: the request that
// does not fit is answered 503 with its body unread, requests without a body are still served,
// and the end line counts what was read and what was refused.
func TestBodiesPastTheRunsBudgetAreRefusedUnread(t *testing.T) {
	t.Parallel()
	srv, sink := startCapped(t, noFaults, Caps{BodyBytes: 10 << 10})
	c := client(5 * time.Second)
	statuses := []int{}
	for i := range 3 {
		statuses = append(statuses, post(t, c, srv, padded(fmt.Sprintf("INC001000%d", i), 4<<10)))
	}
	require.Equal(t, []int{http.StatusBadRequest, http.StatusBadRequest, http.StatusServiceUnavailable}, statuses,
		"two bodies are read (and fail the schema); the third does not fit in what is left")
	source, _ := srv.Tokens()
	resp, _, err := getPage(t, c, srv.URL(HTTP), source, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "a request without a body is still served")
	require.Equal(t, "4096", metric(t, srv, `itsm_mock_request_body_bytes_total{outcome="refused"}`))
	l := endLine(t, srv, sink)
	require.Equal(t, int64(8<<10), l.End.BodyBytes)
	require.Equal(t, 1, l.End.RefusedBodies)
	require.Equal(t, int64(4<<10), l.End.RefusedBodyBytes)
	require.Len(t, l.Requests, 3, "a refused request is counted, not journaled")
	require.True(t, l.End.Flooded())
}

// TestBodiesHeldAtOnceAreCapped holds one body in a hang; a second body that would take the
// bytes held past the cap is refused, and once the hang ends the bytes are free again.
func TestBodiesHeldAtOnceAreCapped(t *testing.T) {
	t.Parallel()
	srv, sink := startCapped(t, `
name: hold-one
hang_cap: 10s
rules:
  - endpoint: target.create
    tickets: [INC0010001]
    fault: {kind: hang}
`, Caps{BodiesInFlight: 3000})
	hung := make(chan int, 1)
	go func() { hung <- post(t, client(time.Second), srv, padded("INC0010001", 2000)) }()
	require.Eventually(t, func() bool { return srv.bodies.held.Load() == 1000 }, 5*time.Second, time.Millisecond)
	c := client(5 * time.Second)
	require.Equal(t, http.StatusServiceUnavailable, post(t, c, srv, padded("INC0010002", 2000)))
	require.Equal(t, 0, <-hung, "the hung request ends when its client gives up")
	require.Eventually(t, func() bool { return srv.bodies.held.Load() == 3000 }, 5*time.Second, time.Millisecond)
	require.Equal(t, http.StatusBadRequest, post(t, c, srv, padded("INC0010003", 2000)), "read and judged")
	l := endLine(t, srv, sink)
	require.Equal(t, 1, l.End.RefusedBodies)
	require.Equal(t, int64(4000), l.End.BodyBytes)
}

// TestRequestsPastTheRunsCapAreRefused: past the request cap every request is answered 503
// unserved and counted as dropped, so every request served is journaled.
func TestRequestsPastTheRunsCapAreRefused(t *testing.T) {
	t.Parallel()
	srv, sink := startCapped(t, noFaults, Caps{Requests: 3})
	source, _ := srv.Tokens()
	c := client(5 * time.Second)
	var statuses []int
	for range 5 {
		resp, _, err := getPage(t, c, srv.URL(HTTP), source, "")
		require.NoError(t, err)
		statuses = append(statuses, resp.StatusCode)
	}
	require.Equal(t, []int{200, 200, 200, 503, 503}, statuses)
	require.Equal(t, "2", metric(t, srv, `itsm_mock_requests_refused_total{reason="request_cap"}`))
	l := endLine(t, srv, sink)
	require.Len(t, l.Requests, 3)
	require.Equal(t, 2, l.End.Dropped)
}

// TestTheJournalByteCapEndsWithAParseableEndLine floods a mock whose journal may stream 32 KiB:
// the stream stops at the cap, the end line after it parses and says the cap stopped it, and
// every request is either journaled or counted.
func TestTheJournalByteCapEndsWithAParseableEndLine(t *testing.T) {
	t.Parallel()
	srv, sink := startCapped(t, noFaults, Caps{Journal: journal.Caps{MaxBytes: 32 << 10}})
	source, _ := srv.Tokens()
	c := &http.Client{Timeout: 5 * time.Second}
	const sent = 200
	for range sent {
		resp, _, err := getPage(t, c, srv.URL(HTTP), source, "?sysparm_limit=1")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "the byte cap limits the journal, not the service")
	}
	require.Eventually(t, func() bool { e := srv.journal.End(); return e.Requests+e.Dropped == sent }, 5*time.Second, time.Millisecond)
	require.NotEmpty(t, metric(t, srv, `itsm_mock_journal_dropped_total{kind="request"}`))
	l := endLine(t, srv, sink)
	require.True(t, l.End.ByteCapped)
	require.Positive(t, l.End.Dropped)
	require.Equal(t, sent, len(l.Requests)+l.End.Dropped)
	require.LessOrEqual(t, l.End.Bytes, int64(32<<10))
	require.Greater(t, int64(len(sink.Bytes())), l.End.Bytes, "the end line comes after the cap")
}
