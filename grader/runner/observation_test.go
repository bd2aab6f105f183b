package runner

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/sandbox"
)

// journalBytes writes a journal of n requests, with its end line or without (a mock that died).
func journalBytes(t *testing.T, n int, end bool) []byte {
	t.Helper()
	var b bytes.Buffer
	j := journal.New(journal.NewClock(), journal.Start{Scenario: "happy"}, &b)
	for i := range n {
		j.AddRequest(journal.Request{Seq: int64(i + 1), Endpoint: "source.list", Outcome: "response", EndedBy: "server"})
	}
	if end {
		require.NoError(t, j.Finish())
	}
	return b.Bytes()
}

// TestAJournalCutShortIsReadUpToTheCut: however the journal was cut (the sandbox's read cap,
// the mock dying mid-line or between lines), every complete line before the cut is parsed and
// judged; only a journal that is not one fails to read.
func TestAJournalCutShortIsReadUpToTheCut(t *testing.T) {
	t.Parallel()
	whole := journalBytes(t, 10, true)
	endAt := bytes.LastIndexByte(whole[:len(whole)-1], '\n') + 1 // where the end line starts
	unended := journalBytes(t, 10, false)
	cases := []struct {
		name      string
		out       sandbox.Output
		requests  int
		ended     bool
		truncated bool
		err       string
	}{
		{"a whole journal", sandbox.Output{Data: whole}, 10, true, false, ""},
		{"cut mid-line by the read cap", sandbox.Output{Data: whole[:endAt-7], Truncated: true}, 9, false, true, ""},
		{"cut at a line's end by the read cap", sandbox.Output{Data: whole[:endAt], Truncated: true}, 10, false, true, ""},
		{"cut inside the end line", sandbox.Output{Data: whole[:len(whole)-5], Truncated: true}, 10, false, true, ""},
		{"the mock died mid-line", sandbox.Output{Data: unended[:len(unended)-7]}, 9, false, true, ""},
		{"the mock died between lines", sandbox.Output{Data: unended}, 10, false, false, ""},
		{"cut inside the start line", sandbox.Output{Data: whole[:20], Truncated: true}, 0, false, true, "no start line"},
		{"not a journal", sandbox.Output{Data: []byte("panic: oops\n")}, 0, false, false, "journal line 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, truncated, errText := readJournal(tc.out)
			require.Equal(t, tc.truncated, truncated)
			if tc.err != "" {
				require.Nil(t, l)
				require.Contains(t, errText, tc.err)
				return
			}
			require.Empty(t, errText)
			require.Len(t, l.Requests, tc.requests)
			require.Equal(t, tc.ended, l.End != nil)
		})
	}
}
