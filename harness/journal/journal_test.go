package journal

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func sample() *Journal {
	var sink bytes.Buffer
	j := New(NewClock(), Start{Scenario: "s", Seed: 3, Listeners: map[string]string{"http": "http://127.0.0.1:1"}}, &sink)
	off := 10
	j.AddRequest(Request{Seq: 2, Endpoint: "target.create", Ticket: "INC0010002", Attempt: 1, Auth: Auth{Token: "target"}, Outcome: "response", EndedBy: "server", Status: 201, Created: "TKT-000001"})
	j.AddRequest(Request{Seq: 1, Endpoint: "source.list", Offset: &off, Attempt: 1, Auth: Auth{Token: "source"}, Outcome: "reset", EndedBy: "server"})
	j.AddTicket(Ticket{ID: "TKT-000001", ExternalID: "INC0010002", Seq: 2, BodySHA256: "ab", Body: []byte(`{"x":"<b>"}`)})
	j.AddTLSError(TLSError{Conn: 4, Listener: "untrusted", Error: "bad certificate"})
	return j
}

func TestWriteThenReadRoundTrips(t *testing.T) {
	t.Parallel()
	j := sample()
	var buf bytes.Buffer
	_, err := j.WriteTo(&buf)
	require.NoError(t, err)
	require.Contains(t, buf.String(), `"<b>"`, "HTML is not escaped")
	l, err := Read(&buf, 0)
	require.NoError(t, err)
	require.Equal(t, "s", l.Start.Scenario)
	require.Equal(t, int64(1), l.Requests[0].Seq, "requests come back in arrival order")
	require.Len(t, l.Tickets, 1)
	require.Len(t, l.TLSErrors, 1)
	require.NotNil(t, l.End)
	require.Equal(t, 2, l.End.Requests)
	require.Len(t, l.Endpoint("source.list"), 1)
	require.Len(t, l.ByTicket()["INC0010002"], 1)
	require.Len(t, l.TicketsFor("INC0010002"), 1)
}

func TestStreamedSinkIsTheSameJournal(t *testing.T) {
	t.Parallel()
	var sink bytes.Buffer
	j := New(NewClock(), Start{Scenario: "s"}, &sink)
	j.AddRequest(Request{Seq: 1, Outcome: "response", EndedBy: "server"})
	require.NoError(t, j.Finish())
	j.AddRequest(Request{Seq: 2, Outcome: "response", EndedBy: "server"})
	l, err := Read(&sink, 0)
	require.NoError(t, err)
	require.Len(t, l.Requests, 1, "nothing is streamed after Finish")
	require.NotNil(t, l.End)
}

func TestReadIsStrict(t *testing.T) {
	t.Parallel()
	start := `{"kind":"start","wall":"2026-01-01T00:00:00Z","scenario":"s","seed":1,"listeners":{}}` + "\n"
	cases := []struct{ name, in, err string }{
		{"empty", "", "no start"},
		{"unknown kind", start + `{"kind":"gossip"}`, "unknown kind"},
		{"unknown field", start + `{"kind":"request","seq":1,"evil":true}`, "evil"},
		{"not JSON", start + "{", "line 2"},
		{"no start line", `{"kind":"end","at_us":1,"requests":0,"dropped":0}`, "no start"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Read(strings.NewReader(tc.in), 0)
			require.ErrorContains(t, err, tc.err)
		})
	}
	_, err := Read(strings.NewReader(start+strings.Repeat(" ", 100)+"\n"), 50)
	require.ErrorIs(t, err, ErrTooLarge)
}

func TestRequestsPastTheCapAreCountedNotKept(t *testing.T) {
	t.Parallel()
	j := New(NewClock(), Start{}, nil)
	j.maxRequests = 3
	for i := range 5 {
		j.AddRequest(Request{Seq: int64(i)})
	}
	l := j.Snapshot()
	require.Len(t, l.Requests, 3)
	require.Equal(t, 2, l.End.Dropped)
}
