package mock

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/harness/exchange"
)

// TestEveryFaultAsAGoClientSeesIt sends one create through each fault and checks both sides:
// what the client got, and what the journal says happened (including whether a ticket was
// created: the commit faults create one and lose the answer).
func TestEveryFaultAsAGoClientSeesIt(t *testing.T) {
	t.Parallel()
	type seen struct {
		status  int
		errIs   error // the client's error, when it gets no response
		timeout bool
		header  map[string]string
	}
	cases := []struct {
		name    string
		fault   string
		timeout time.Duration
		client  seen
		outcome string
		endedBy string
		created bool
		minTime time.Duration // least time the exchange takes
	}{
		{name: "500 internal error", fault: "{kind: status, status: 500}", client: seen{status: 500, header: map[string]string{"Content-Type": "application/problem+json"}}, outcome: "response", endedBy: "server"},
		{name: "502 bad gateway", fault: "{kind: status, status: 502}", client: seen{status: 502}, outcome: "response", endedBy: "server"},
		{name: "503 unavailable", fault: "{kind: status, status: 503}", client: seen{status: 503}, outcome: "response", endedBy: "server"},
		{name: "504 gateway timeout", fault: "{kind: status, status: 504}", client: seen{status: 504}, outcome: "response", endedBy: "server"},
		{name: "429 with Retry-After in seconds", fault: "{kind: status, status: 429, retry_after_seconds: 2}", client: seen{status: 429, header: map[string]string{"Retry-After": "2"}}, outcome: "response", endedBy: "server"},
		{name: "permanent 400", fault: "{kind: status, status: 400}", client: seen{status: 400}, outcome: "response", endedBy: "server"},
		{name: "permanent 422", fault: "{kind: status, status: 422}", client: seen{status: 422}, outcome: "response", endedBy: "server"},
		{name: "401", fault: "{kind: status, status: 401}", client: seen{status: 401, header: map[string]string{"WWW-Authenticate": `Bearer realm="itsm"`}}, outcome: "response", endedBy: "server"},
		{name: "connection reset", fault: "{kind: reset}", client: seen{errIs: syscall.ECONNRESET}, outcome: "reset", endedBy: "server"},
		{name: "empty reply", fault: "{kind: empty}", client: seen{errIs: io.EOF}, outcome: "empty", endedBy: "server"},
		{name: "hang abandoned by the client", fault: "{kind: hang}", timeout: 300 * time.Millisecond, client: seen{timeout: true}, outcome: "none", endedBy: "client", minTime: 300 * time.Millisecond},
		{name: "hang ended by the cap", fault: "{kind: hang}", client: seen{errIs: io.EOF}, outcome: "empty", endedBy: "cap", minTime: 400 * time.Millisecond},
		{name: "dribbled body read to the end", fault: "{kind: dribble, duration: 300ms}", client: seen{status: 201}, outcome: "response", endedBy: "server", created: true, minTime: 300 * time.Millisecond},
		{name: "dribbled body abandoned", fault: "{kind: dribble, duration: 400ms}", timeout: 150 * time.Millisecond, client: seen{timeout: true}, outcome: "truncated", endedBy: "client", created: true},
		{name: "malformed JSON", fault: "{kind: malformed}", client: seen{status: 201}, outcome: "response", endedBy: "server", created: true},
		{name: "commit then reset", fault: "{kind: commit_reset}", client: seen{errIs: syscall.ECONNRESET}, outcome: "reset", endedBy: "server", created: true},
		{name: "commit then hang, cap", fault: "{kind: commit_hang}", client: seen{errIs: io.EOF}, outcome: "empty", endedBy: "cap", created: true, minTime: 400 * time.Millisecond},
		{name: "commit then hang, client leaves", fault: "{kind: commit_hang}", timeout: 200 * time.Millisecond, client: seen{timeout: true}, outcome: "none", endedBy: "client", created: true},
		{name: "slow processing", fault: "{kind: slow, delay: 200ms}", client: seen{status: 201}, outcome: "response", endedBy: "server", created: true, minTime: 200 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startMock(t, fmt.Sprintf(`
name: one-fault
hang_cap: 400ms
rules:
  - endpoint: target.create
    attempts: [1]
    fault: %s
`, tc.fault))
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			start := time.Now()
			resp, body, err := postTicket(t, client(timeout), srv, golden(t, "INC0010001"), "")
			took := time.Since(start)
			switch {
			case tc.client.timeout:
				var ne interface{ Timeout() bool }
				require.Error(t, err)
				require.True(t, errors.As(err, &ne) && ne.Timeout(), "want a client timeout, got %v", err)
			case tc.client.errIs != nil:
				require.ErrorIs(t, err, tc.client.errIs)
			default:
				require.NoError(t, err)
				require.Equal(t, tc.client.status, resp.StatusCode, string(body))
				for k, v := range tc.client.header {
					require.Equal(t, v, resp.Header.Get(k), k)
				}
				if tc.fault != "{kind: slow, delay: 200ms}" {
					require.True(t, resp.Close, "a faulted response closes its connection")
				}
			}
			require.GreaterOrEqual(t, took, tc.minTime)

			l := journaled(t, srv, 1)
			r := l.Requests[0]
			require.Equal(t, "target.create", r.Endpoint)
			require.Equal(t, "INC0010001", r.Ticket)
			require.Equal(t, 1, r.Attempt)
			require.NotEmpty(t, r.Fault)
			require.Equal(t, tc.outcome, r.Outcome)
			require.Equal(t, tc.endedBy, r.EndedBy)
			require.Equal(t, tc.created, r.Created != "", "created %q", r.Created)
			require.Len(t, l.Tickets, map[bool]int{true: 1, false: 0}[tc.created])
			require.GreaterOrEqual(t, r.EndUS, r.ArrivalUS)
			if tc.outcome == exchange.OutcomeResponse {
				require.Equal(t, tc.client.status, r.Status)
				require.NotNil(t, r.RespStartUS)
			}
			// Faults apply to the attempts the plan names only: the second attempt is normal.
			if !tc.created {
				resp, body, err := postTicket(t, client(5*time.Second), srv, golden(t, "INC0010001"), "")
				require.NoError(t, err)
				require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
				l := journaled(t, srv, 2)
				require.Equal(t, 2, l.Requests[1].Attempt)
				require.Empty(t, l.Requests[1].Fault)
			}
		})
	}
}

func TestRetryAfterHTTPDateIsAtLeastTheLeadAhead(t *testing.T) {
	t.Parallel()
	srv := startMock(t, `
name: ra-date
rules:
  - endpoint: target.create
    fault: {kind: status, status: 503, retry_after_date: 3s}
`)
	before := time.Now()
	resp, _, err := postTicket(t, client(5*time.Second), srv, golden(t, "INC0010002"), "")
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	at, err := http.ParseTime(resp.Header.Get("Retry-After"))
	require.NoError(t, err, resp.Header.Get("Retry-After"))
	lead := at.Sub(before)
	require.GreaterOrEqual(t, lead, 3*time.Second, "one-second resolution is rounded up, never down")
	require.Less(t, lead, 5*time.Second)
}

func TestShutdownEndsHangsAndSaysSo(t *testing.T) {
	t.Parallel()
	srv := startMock(t, `
name: hang-forever
hang_cap: 30s
rules:
  - endpoint: target.create
    fault: {kind: hang}
`)
	done := make(chan error, 1)
	go func() {
		_, _, err := postTicket(t, client(30*time.Second), srv, golden(t, "INC0010001"), "")
		done <- err
	}()
	require.Eventually(t, func() bool { return srv.seq.Load() == 1 }, 5*time.Second, 5*time.Millisecond)
	start := time.Now()
	require.NoError(t, srv.Close())
	require.Less(t, time.Since(start), 5*time.Second, "close must not wait for the hang cap")
	require.Error(t, <-done)
	l := srv.Journal()
	require.Len(t, l.Requests, 1)
	require.Equal(t, "shutdown", l.Requests[0].EndedBy)
	require.NotNil(t, l.End)
}

func TestAttemptsAreCountedPerTicket(t *testing.T) {
	t.Parallel()
	srv := startMock(t, `
name: per-ticket
rules:
  - endpoint: target.create
    tickets: [INC0010002]
    attempts: "1-2"
    fault: {kind: status, status: 503}
`)
	c := client(5 * time.Second)
	statuses := func(id string) int {
		resp, _, err := postTicket(t, c, srv, golden(t, id), "")
		require.NoError(t, err)
		return resp.StatusCode
	}
	require.Equal(t, 201, statuses("INC0010001"))
	require.Equal(t, 503, statuses("INC0010002"))
	require.Equal(t, 201, statuses("INC0010001"))
	require.Equal(t, 503, statuses("INC0010002"))
	require.Equal(t, 201, statuses("INC0010002"))
	l := journaled(t, srv, 5)
	var got []string
	for _, r := range l.Requests {
		got = append(got, r.Ticket+"#"+strconv.Itoa(r.Attempt))
	}
	require.Equal(t, []string{"INC0010001#1", "INC0010002#1", "INC0010001#2", "INC0010002#2", "INC0010002#3"}, got)
}
