package runner

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/plan"
	"github.com/itsm-grader/grader/harness/secrets"
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
// the mock dying mid-line or between lines), every complete line before the cut is kept and
// judged; only a journal that is not one fails to read.
func TestAJournalCutShortIsReadUpToTheCut(t *testing.T) {
	t.Parallel()
	whole := journalBytes(t, 10, true)
	endAt := bytes.LastIndexByte(whole[:len(whole)-1], '\n') + 1 // where the end line starts
	unended := journalBytes(t, 10, false)
	cases := []struct {
		name         string
		out          sandbox.Output
		requests     int
		ended        bool
		cut, overCap bool
		err          string
	}{
		{"a whole journal", sandbox.Output{Data: whole}, 10, true, false, false, ""},
		{"cut mid-line by the read cap", sandbox.Output{Data: whole[:endAt-7], Truncated: true}, 9, false, true, true, ""},
		{"cut at a line's end by the read cap", sandbox.Output{Data: whole[:endAt], Truncated: true}, 10, false, true, true, ""},
		{"cut inside the end line", sandbox.Output{Data: whole[:len(whole)-5], Truncated: true}, 10, false, true, true, ""},
		{"the mock died mid-line", sandbox.Output{Data: unended[:len(unended)-7]}, 9, false, true, false, ""},
		{"the mock died between lines", sandbox.Output{Data: unended}, 10, false, false, false, ""},
		{"cut inside the start line", sandbox.Output{Data: whole[:20], Truncated: true}, 0, false, true, true, "no start line"},
		{"not a journal", sandbox.Output{Data: []byte("panic: oops\n")}, 0, false, false, false, "journal line 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := capture(testJob(), secrets.New("", ""), "@@m", &sandbox.Result{Journal: tc.out})
			require.Equal(t, tc.cut, r.JournalCut)
			require.Equal(t, tc.overCap, r.JournalOverCap)
			l, err := r.ParseJournal()
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, l.Requests, tc.requests)
			require.Equal(t, tc.ended, l.End != nil)
		})
	}
}

func testJob() job {
	return job{sc: suite.Scenario{Name: "happy", Trials: 1}, plan: &plan.Plan{Name: "happy", Seed: 7}, source: "name: happy\n", trial: 1}
}

// TestCaptureFindsTokensThenRedactsThem: a token in the output or in a file is recorded as a
// leak (where, which line, which form) and never kept: the evidence holds no token at all.
func TestCaptureFindsTokensThenRedactsThem(t *testing.T) {
	t.Parallel()
	tok := secrets.New("src_aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "tgt_bbbbbbbbbbbbbbbbbbbbbbbbbbbb")
	res := &sandbox.Result{
		Stdout:   sandbox.Output{Data: []byte("starting\nusing Bearer tgt_bbbbbbbbbbbbbbbbbbbbbbbbbbbb\n@@m {\"kind\":\"rejected\",\"error\":\"401 for src_aaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"ms\":5}\n")},
		Stderr:   sandbox.Output{Data: []byte("warn\nconfigured with tgt_bbbbbb…\n")},
		TmpFiles: []sandbox.File{{Path: "debug.log", Type: "file", Data: []byte("token=src_aaaaaaaaaaaaaaaaaaaaaaaaaaaa")}},
	}
	r := capture(testJob(), tok, "@@m", res)
	require.Equal(t, []evidence.Leak{
		{Where: "stdout", Line: 2, Token: "target", Form: "plain"},
		{Where: "stdout", Line: 3, Token: "source", Form: "plain"},
		{Where: "stderr", Line: 2, Token: "target", Form: "fragment", Random: 6},
		{Where: "/tmp/debug.log", Token: "source", Form: "plain"},
	}, r.Leaks)
	require.Equal(t, "rejected", r.Outcome.Kind, "the driver's record is read before redaction")
	require.Equal(t, "401 for [REDACTED-source-token]", r.Outcome.Error)
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "aaaaaaaaaaaa")
	require.NotContains(t, string(raw), "tgt_bbbb", "fragments are redacted too")
	require.Equal(t, "name: happy\n", r.Plan)
	require.Equal(t, int64(7), r.Seed)
}
