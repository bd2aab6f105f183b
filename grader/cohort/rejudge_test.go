package cohort

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/store"
)

// TestRejudgeUsesTheStoredEvidenceOnly: a grading judged by older rules is judged again from its
// evidence file by the current ones (nothing captured again), its findings replaced; a second
// rejudge finds it current.
func TestRejudgeUsesTheStoredEvidenceOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "round.db"))
	const old = "2026-01-01.0"
	_, _, err := st.Enqueue(ctx, store.Entry{Cohort: "round", Candidate: "alice", Source: "/subs/alice", ContentHash: "sha256:a", Track: "ai", RulesVersion: old})
	require.NoError(t, err)
	job, ok, err := st.Claim(ctx, "round", "w", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	fake := &fakeCapture{calls: map[string]int{}}
	sub := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(sub, "package.json"), []byte("alice"), 0o644))
	ev, err := fake.capture(ctx, sub, "")
	require.NoError(t, err)
	ev.Versions.Rules = old
	rep, err := judge.Judge(ev, time.Now())
	require.NoError(t, err)
	rep.Versions.Rules = old
	require.NoError(t, os.MkdirAll(job.Dir, 0o700))
	evPath := filepath.Join(job.Dir, "evidence.json.gz")
	require.NoError(t, writeEvidence(ev, evPath))
	require.NoError(t, st.Finish(ctx, job.Ticket, store.Result{Report: rep, EvidencePath: evPath, ReportDir: job.Dir}))

	n, err := Rejudge(ctx, st, "round", writeReport)
	require.NoError(t, err)
	require.Equal(t, Rejudged{Judged: 1}, n)
	graded, err := st.LatestGradings(ctx, "round")
	require.NoError(t, err)
	require.Len(t, graded, 1)
	require.Equal(t, judge.RulesVersion, graded[0].RulesVersion)
	require.Equal(t, evPath, graded[0].EvidencePath, "the evidence stays")
	require.NotEqual(t, job.Dir, graded[0].ReportDir, "the new reports have a folder of their own")
	require.FileExists(t, filepath.Join(graded[0].ReportDir, "report.json"))
	require.NotEmpty(t, graded[0].Findings)
	require.Empty(t, fake.calls["alice"]-1, "nothing was captured again")

	n, err = Rejudge(ctx, st, "round", writeReport)
	require.NoError(t, err)
	require.Equal(t, Rejudged{Current: 1}, n)
}
