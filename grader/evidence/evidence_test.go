package evidence

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEvidenceRoundTrips(t *testing.T) {
	t.Parallel()
	ev := &Evidence{
		SchemaVersion: SchemaVersion, CapturedAt: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
		Versions:   Versions{Grader: "v1", Suite: "suite-abc", Rules: "2026-12-01.1"},
		Submission: Submission{Source: "https://example.com/a.git", Ref: "main", Commit: "0123"},
		Build:      Build{OK: true, Warnings: []Message{{Text: "w", File: "src/index.ts", Line: 3, Col: 1}}},
		Static:     Static{Facts: []byte(`{"root":"/submission/0"}`), Sources: []byte(`{"nodeModulesBytes":0}`), TypeScript: "6.0.3", TookMS: 1900},
		Runs: []Run{{Scenario: "happy", Trial: 1, Seed: 1, Budget: time.Minute, Plan: "name: happy\n", Marker: "@@m",
			Process: Process{Wall: 2 * time.Second, CPU: 300 * time.Millisecond, CPUKnown: true},
			Stdout:  Output{Data: "ok\n", Total: 3}, Outcome: Outcome{Kind: "resolved", Result: []byte(`{"created":1,"failed":[]}`)},
			Leaks:       []Leak{{Where: "stdout", Line: 1, Token: "target", Form: "fragment", Random: 4}},
			JournalText: "{\"kind\":\"start\"}\n", Mock: Mock{Log: Output{Data: "listening"}}}},
	}
	var b bytes.Buffer
	require.NoError(t, Write(&b, ev))
	back, err := Read(&b)
	require.NoError(t, err)
	require.Equal(t, ev, back)
	res, ok := back.Runs[0].Outcome.SyncResult()
	require.True(t, ok)
	require.Equal(t, 1, res.Created)
}

func TestReadOutcomePrefersTheFileToTheMarkedLine(t *testing.T) {
	t.Parallel()
	file := File{Path: ResultFile, Type: "file", Data: `{"kind":"resolved","result":{"created":2,"failed":[]},"ms":3}`}
	require.Equal(t, "resolved", ReadOutcome([]File{file}, "@@m {\"kind\":\"rejected\",\"ms\":1}\n", "@@m").Kind)
	require.Equal(t, "rejected", ReadOutcome(nil, "noise\n@@m {\"kind\":\"rejected\",\"ms\":1}\n", "@@m").Kind)
	require.Equal(t, "none", ReadOutcome(nil, "@@x {\"kind\":\"resolved\"}\n", "@@m").Kind, "another marker is the candidate's forgery")
	require.Equal(t, "none", ReadOutcome(nil, "crashed\n", "@@m").Kind)
}
