package mock

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const noFaults = "name: no-faults\n"

// TestIdempotencyKeySemantics plays request sequences against the real target and checks the
// statuses returned and the tickets actually created.
func TestIdempotencyKeySemantics(t *testing.T) {
	t.Parallel()
	type step struct {
		ticket string // golden payload to send
		key    string
		mutate func(map[string]any)
		status int
		replay bool
	}
	reorder := func(m map[string]any) {} // same value, re-encoded below with other spacing
	retitle := func(m map[string]any) { m["title"] = "A different title" }
	invalid := func(m map[string]any) { m["priority"] = "urgent" }
	cases := []struct {
		name    string
		steps   []step
		tickets int
	}{
		{"no key: every request creates, so a retry duplicates", []step{
			{ticket: "INC0010001", status: 201},
			{ticket: "INC0010001", status: 201},
		}, 2},
		{"a new key each time also duplicates", []step{
			{ticket: "INC0010001", key: "a-1", status: 201},
			{ticket: "INC0010001", key: "a-2", status: 201},
		}, 2},
		{"same key, same body: replayed, nothing created", []step{
			{ticket: "INC0010001", key: "k", status: 201},
			{ticket: "INC0010001", key: "k", status: 201, replay: true},
			{ticket: "INC0010001", key: "k", status: 201, replay: true},
		}, 1},
		{"same key, same JSON value written differently: replayed", []step{
			{ticket: "INC0010001", key: "k", status: 201},
			{ticket: "INC0010001", key: "k", mutate: reorder, status: 201, replay: true},
		}, 1},
		{"quoted and bare keys are the same key", []step{
			{ticket: "INC0010001", key: `"k-7"`, status: 201},
			{ticket: "INC0010001", key: "k-7", status: 201, replay: true},
		}, 1},
		{"same key, different body: 422", []step{
			{ticket: "INC0010001", key: "k", status: 201},
			{ticket: "INC0010001", key: "k", mutate: retitle, status: 422},
		}, 1},
		{"an invalid body is not stored: the key can be used again", []step{
			{ticket: "INC0010001", key: "k", mutate: invalid, status: 400},
			{ticket: "INC0010001", key: "k", status: 201},
			{ticket: "INC0010001", key: "k", status: 201, replay: true},
		}, 1},
		{"distinct keys for distinct tickets", []step{
			{ticket: "INC0010001", key: "k1", status: 201},
			{ticket: "INC0010002", key: "k2", status: 201},
		}, 2},
		{"an over-long key is refused", []step{
			{ticket: "INC0010001", key: string(bytes.Repeat([]byte("x"), 256)), status: 400},
		}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startMock(t, noFaults)
			c := client(5 * time.Second)
			var firstBody []byte
			for i, st := range tc.steps {
				body := golden(t, st.ticket)
				if st.mutate != nil {
					m := decode(t, body)
					st.mutate(m)
					var err error
					body, err = json.MarshalIndent(m, "", "    ")
					require.NoError(t, err)
				}
				resp, got, err := postTicket(t, c, srv, body, st.key)
				require.NoError(t, err)
				require.Equal(t, st.status, resp.StatusCode, "step %d: %s", i+1, got)
				require.Equal(t, st.replay, resp.Header.Get("Idempotent-Replayed") == "true", "step %d", i+1)
				if st.status != 201 {
					require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
					continue
				}
				if firstBody == nil {
					firstBody = got
				} else if st.replay {
					require.Equal(t, string(firstBody), string(got), "a replay returns the original response")
				}
			}
			l := journaled(t, srv, len(tc.steps))
			require.Len(t, l.Tickets, tc.tickets)
			replays := 0
			for _, r := range l.Requests {
				if r.Replayed {
					replays++
					require.Empty(t, r.Created)
				}
			}
			want := 0
			for _, st := range tc.steps {
				if st.replay {
					want++
				}
			}
			require.Equal(t, want, replays)
		})
	}
}

// TestKeyInFlightGets409 holds the first request in processing (slow fault) and sends the same
// key meanwhile: 409, no ticket; after it completes the key replays the one ticket.
func TestKeyInFlightGets409(t *testing.T) {
	t.Parallel()
	srv := startMock(t, `
name: slow-first
rules:
  - endpoint: target.create
    attempts: [1]
    fault: {kind: slow, delay: 600ms}
`)
	body := golden(t, "INC0010003")
	var wg sync.WaitGroup
	wg.Add(1)
	var firstStatus int
	go func() {
		defer wg.Done()
		// The client gives up before the server finishes: the work completes anyway.
		resp, _, err := postTicket(t, client(200*time.Millisecond), srv, body, "slow-key")
		if err == nil {
			firstStatus = resp.StatusCode
		}
	}()
	require.Eventually(t, func() bool { return srv.seq.Load() == 1 }, 5*time.Second, time.Millisecond)
	wg.Wait()
	require.Zero(t, firstStatus, "the first client timed out")

	resp, _, err := postTicket(t, client(5*time.Second), srv, body, "slow-key")
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, resp.StatusCode)

	require.Eventually(t, func() bool { return len(srv.Journal().Tickets) == 1 }, 5*time.Second, 5*time.Millisecond)
	resp, _, err = postTicket(t, client(5*time.Second), srv, body, "slow-key")
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"))
	l := journaled(t, srv, 3)
	require.Len(t, l.Tickets, 1)
	require.Equal(t, "slow-key", l.Tickets[0].IdempotencyKey)
	// The first client left after 200 ms: the journal says so, not that a 201 reached it when
	// the work finished at 600 ms.
	first := l.Requests[0]
	require.Equal(t, "none", first.Outcome)
	require.Equal(t, "client", first.EndedBy)
	require.Less(t, first.EndUS-first.ArrivalUS, int64(500_000), "ended when the client left, not when the work did")
	require.NotEmpty(t, first.Created, "the work it started still created the ticket")
}

// TestLostResponseThenRetry is the scenario idempotency exists for: the ticket is created, the
// answer lost; a retry with the same key gets the original 201, one without a key duplicates.
func TestLostResponseThenRetry(t *testing.T) {
	t.Parallel()
	for _, withKey := range []bool{true, false} {
		name := map[bool]string{true: "same key: no duplicate", false: "no key: duplicate"}[withKey]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startMock(t, `
name: lost
rules:
  - endpoint: target.create
    attempts: [1]
    fault: {kind: commit_reset}
`)
			key := ""
			if withKey {
				key = "ticket-INC0010004"
			}
			body := golden(t, "INC0010004")
			_, _, err := postTicket(t, client(5*time.Second), srv, body, key)
			require.Error(t, err)
			resp, _, err := postTicket(t, client(5*time.Second), srv, body, key)
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, resp.StatusCode)
			l := journaled(t, srv, 2)
			want := map[bool]int{true: 1, false: 2}[withKey]
			require.Len(t, l.TicketsFor("INC0010004"), want)
			require.Equal(t, withKey, l.Requests[1].Replayed)
		})
	}
}
