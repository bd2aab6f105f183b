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

func TestRecordsPastTheirCapsAreCountedNotKept(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		caps Caps
		add  func(j *Journal, i int)
		kept func(l *Log) int
		drop func(e End) int
	}{
		{"requests", Caps{MaxRequests: 3}, func(j *Journal, i int) { j.AddRequest(Request{Seq: int64(i)}) },
			func(l *Log) int { return len(l.Requests) }, func(e End) int { return e.Dropped }},
		{"tickets", Caps{MaxTickets: 3}, func(j *Journal, i int) { j.AddTicket(Ticket{Seq: int64(i), Body: []byte(`{}`)}) },
			func(l *Log) int { return len(l.Tickets) }, func(e End) int { return e.DroppedTickets }},
		{"TLS errors", Caps{MaxTLSErrors: 3}, func(j *Journal, i int) { j.AddTLSError(TLSError{Conn: int64(i)}) },
			func(l *Log) int { return len(l.TLSErrors) }, func(e End) int { return e.DroppedTLSErrors }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var sink bytes.Buffer
			j := NewCapped(NewClock(), Start{}, &sink, tc.caps)
			for i := range 5 {
				tc.add(j, i)
			}
			require.NoError(t, j.Finish())
			l, err := Read(&sink, 0)
			require.NoError(t, err)
			require.Equal(t, 3, tc.kept(l), "the stream holds the lines under the cap")
			require.Equal(t, 3, tc.kept(j.Snapshot()), "memory holds the same lines")
			require.Equal(t, 2, tc.drop(*l.End), "the end line counts the rest")
			require.True(t, l.End.Flooded())
			require.False(t, l.End.ByteCapped)
		})
	}
}

// TestTheByteCapEndsTheStreamWithAParseableEndLine fills a journal past its byte cap with lines
// of every kind: the stream stays under the cap plus one end line, parses strictly, and its end
// line says the cap stopped it and how much was dropped.
func TestTheByteCapEndsTheStreamWithAParseableEndLine(t *testing.T) {
	t.Parallel()
	const maxBytes = 64 << 10
	var sink bytes.Buffer
	j := NewCapped(NewClock(), Start{Scenario: "s"}, &sink, Caps{MaxBytes: maxBytes})
	big := []byte(`{"assignee":"` + strings.Repeat("x", 10<<10) + `"}`)
	for i := range 200 {
		j.AddRequest(Request{Seq: int64(i), Path: "/v1/tickets", Outcome: "response", EndedBy: "server"})
		j.AddTicket(Ticket{Seq: int64(i), Body: big})
		j.AddTLSError(TLSError{Conn: int64(i), Error: "bad certificate"})
	}
	require.NoError(t, j.Finish())
	streamed := sink.Len()
	endLine := bytes.LastIndexByte(sink.Bytes()[:streamed-1], '\n') + 1
	require.LessOrEqual(t, endLine, maxBytes, "every line before the end line fits under the cap")
	l, err := Read(bytes.NewReader(sink.Bytes()), 0)
	require.NoError(t, err)
	require.NotNil(t, l.End)
	require.True(t, l.End.ByteCapped)
	require.True(t, l.End.Flooded())
	require.Equal(t, int64(endLine), l.End.Bytes)
	require.Equal(t, 200, len(l.Requests)+l.End.Dropped)
	require.Equal(t, 200, len(l.Tickets)+l.End.DroppedTickets)
	require.Equal(t, 200, len(l.TLSErrors)+l.End.DroppedTLSErrors)
	require.Positive(t, l.End.DroppedTickets)
	snap := j.Snapshot()
	require.Len(t, snap.Requests, len(l.Requests), "memory keeps what was streamed, no more")
	require.Len(t, snap.Tickets, len(l.Tickets))
}

// TestAnEndLineWithoutTheFloodFieldsStillReads: journals written before the end line said how
// the client flooded the mock parse as before, with nothing flooded.
func TestAnEndLineWithoutTheFloodFieldsStillReads(t *testing.T) {
	t.Parallel()
	old := `{"kind":"start","wall":"2026-01-01T00:00:00Z","scenario":"s","seed":1,"listeners":{}}` + "\n" +
		`{"kind":"end","at_us":12,"requests":0,"dropped":0}` + "\n"
	l, err := Read(strings.NewReader(old), 0)
	require.NoError(t, err)
	require.Equal(t, End{Kind: KindEnd, AtUS: 12}, *l.End)
	require.False(t, l.End.Flooded())
}

func TestFloodCountersReachTheEndLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		count func(j *Journal)
		want  End
	}{
		{"a refused connection", func(j *Journal) { j.RefuseConnection() }, End{RefusedConnections: 1}},
		{"a refused body of known length", func(j *Journal) { j.RefuseBody(1 << 20) }, End{RefusedBodies: 1, RefusedBodyBytes: 1 << 20}},
		{"a refused body of unknown length", func(j *Journal) { j.RefuseBody(-1) }, End{RefusedBodies: 1}},
		{"a request refused past the cap", func(j *Journal) { j.DropRequest() }, End{Dropped: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var sink bytes.Buffer
			j := New(NewClock(), Start{}, &sink)
			j.CountBody(10)
			tc.count(j)
			require.NoError(t, j.Finish())
			l, err := Read(&sink, 0)
			require.NoError(t, err)
			got := *l.End
			require.Equal(t, int64(10), got.BodyBytes)
			require.True(t, got.Flooded())
			got.Kind, got.AtUS, got.Bytes, got.BodyBytes = "", 0, 0, 0
			require.Equal(t, tc.want, got)
		})
	}
	require.False(t, End{BodyBytes: 1 << 20, Bytes: 1 << 20}.Flooded(), "bytes read under the caps are not a flood")
}
