package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/report"
)

func TestFinishRecordsTheReportAndEveryFinding(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := newClock()
	s := openStore(t, WithClock(c.Now), WithHost("grading-box"))
	e := entry("spring", "alice")
	e.Track = TrackAI
	_, _, err := s.Enqueue(ctx, e)
	require.NoError(t, err)
	job := mustClaim(t, s, "spring", "w", time.Hour)
	c.Advance(40 * time.Second)
	r := sampleReport(testRules, 30)
	require.NoError(t, s.Finish(ctx, job.Ticket, resultFor(job, r)))

	graded, err := s.LatestGradings(ctx, "spring")
	require.NoError(t, err)
	require.Len(t, graded, 1)
	g := graded[0]
	require.Equal(t, "alice", g.Candidate)
	require.Equal(t, TrackAI, g.Track)
	require.Equal(t, r.Score.Total, g.Score)
	require.Equal(t, []string{testRules, "grader-capture", "suite-capture", "grading-box"},
		[]string{g.RulesVersion, g.GraderVersion, g.SuiteVersion, g.Host}, "judged by the rules, captured by the grader and suite of the evidence")
	require.Equal(t, filepath.Join(job.Dir, "evidence.json.gz"), g.EvidencePath)
	require.Equal(t, job.Dir, g.ReportDir)
	require.Equal(t, 40*time.Second, g.Ended.Sub(g.Started))
	require.Equal(t, r.JudgedAt, g.JudgedAt)

	require.Len(t, g.Findings, 30)
	for i, f := range r.Findings {
		var measured map[string]float64
		if len(f.Measured) > 0 {
			measured = f.Measured
		}
		require.Equal(t, Finding{
			ID: f.ID, Kind: f.Kind, Verdict: string(f.Verdict), Severity: string(f.Severity), Critical: f.Critical,
			IndicatorKind: f.Indicator.Kind, Indicator: f.Indicator.Text, Measured: measured,
		}, g.Findings[i])
	}

	raw, err := s.ReportJSON(ctx, g.GradingID)
	require.NoError(t, err)
	var back report.Report
	require.NoError(t, json.Unmarshal(raw, &back))
	require.Equal(t, r.Score, back.Score)
	require.Equal(t, r.Findings, back.Findings)

	var stored string
	require.NoError(t, s.reader.QueryRow(`SELECT evidence_path FROM gradings`).Scan(&stored))
	require.False(t, filepath.IsAbs(stored), "paths are stored relative to the data folder: %s", stored)
}

func TestFinishRefusesAResultItCannotKeep(t *testing.T) {
	t.Parallel()
	duplicate := sampleReport(testRules, 4)
	duplicate.Findings[3].ID = duplicate.Findings[1].ID
	cases := []struct {
		name   string
		result func(job Job, s *Store) Result
		want   error
	}{
		{"no report", func(job Job, _ *Store) Result { return Result{EvidencePath: filepath.Join(job.Dir, "e")} }, ErrInvalid},
		{"evidence outside the data folder", func(job Job, _ *Store) Result {
			r := resultFor(job, sampleReport(testRules, 3))
			r.EvidencePath = "/tmp/alice/evidence.json.gz"
			return r
		}, ErrInvalid},
		{"reports in the data folder itself", func(job Job, s *Store) Result {
			r := resultFor(job, sampleReport(testRules, 3))
			r.ReportDir = s.DataDir()
			return r
		}, ErrInvalid},
		{"reports beside the data folder", func(job Job, s *Store) Result {
			r := resultFor(job, sampleReport(testRules, 3))
			r.ReportDir = s.DataDir() + "-other/x"
			return r
		}, ErrInvalid},
		{"a report judged by other rules", func(job Job, _ *Store) Result {
			return resultFor(job, sampleReport("rules-test.0", 3))
		}, ErrRulesMismatch},
		{"a finding twice", func(job Job, _ *Store) Result { return resultFor(job, duplicate) }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			s := openStore(t)
			enqueueAll(t, s, "spring", "alice")
			job := mustClaim(t, s, "spring", "w", time.Hour)

			err := s.Finish(ctx, job.Ticket, tc.result(job, s))
			require.Error(t, err)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
			got := readGrading(t, s, job.ID)
			require.Equal(t, "running", got.Status, "nothing was recorded")
			require.Equal(t, 0, got.Findings)
			require.NoError(t, s.Finish(ctx, job.Ticket, resultFor(job, sampleReport(testRules, 3))), "the worker still holds it")
		})
	}
}

func TestLatestGradingsTakesEachCandidatesLatestSubmission(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := newClock()
	s := openStore(t, WithClock(c.Now))
	finishNext := func() int64 {
		job := mustClaim(t, s, "spring", "w", time.Hour)
		require.NoError(t, s.Finish(ctx, job.Ticket, resultFor(job, sampleReport(testRules, 3))))
		return job.ID
	}
	enqueue := func(e Entry, received time.Time) {
		e.ReceivedAt = received
		_, _, err := s.Enqueue(ctx, e)
		require.NoError(t, err)
	}
	day := 24 * time.Hour
	alice1, alice2 := entry("spring", "alice"), entry("spring", "alice")
	alice2.ContentHash = "sha256:alice-second"
	bob1, bob2 := entry("spring", "bob"), entry("spring", "bob")
	bob2.ContentHash = "sha256:bob-second"

	enqueue(alice2, c.Now().Add(-day)) // graded first, handed in last
	enqueue(alice1, c.Now().Add(-2*day))
	aliceLatest := finishNext()
	finishNext()
	enqueue(bob1, c.Now().Add(-2*day))
	bobGraded := finishNext()
	enqueue(bob2, c.Now()) // still queued: bob's graded submission is the older one
	enqueueAll(t, s, "spring", "carol")

	graded, err := s.LatestGradings(ctx, "spring")
	require.NoError(t, err)
	require.Len(t, graded, 2, "carol has no grading done")
	require.Equal(t, []string{"alice", "bob"}, []string{graded[0].Candidate, graded[1].Candidate})
	require.Equal(t, aliceLatest, graded[0].GradingID, "alice's latest submission, though graded first")
	require.Equal(t, "sha256:alice-second", graded[0].ContentHash)
	require.Equal(t, bobGraded, graded[1].GradingID)
	for _, g := range graded {
		require.Len(t, g.Findings, 3, "the findings of %s's grading only", g.Candidate)
	}
}

func TestReplaceJudgementRejudgesStoredEvidence(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	s := openStore(t)
	enqueueAll(t, s, "spring", "alice", "bob")
	alice := mustClaim(t, s, "spring", "w", time.Hour)
	require.NoError(t, s.Finish(ctx, alice.Ticket, resultFor(alice, sampleReport(testRules, 6))))
	bob := mustClaim(t, s, "spring", "w", time.Hour)
	_, err := s.Fail(ctx, bob.Ticket, errors.New("no such repository"), false)
	require.NoError(t, err)

	stored, err := s.StoredEvidence(ctx, "spring", "rules-test.2")
	require.NoError(t, err)
	require.Len(t, stored, 1, "bob's failure has no evidence")
	require.Equal(t, alice.ID, stored[0].GradingID)
	require.Equal(t, filepath.Join(alice.Dir, "evidence.json.gz"), stored[0].EvidencePath)
	require.Equal(t, filepath.Join(filepath.Dir(alice.Dir), "judged-rules-test.2"), stored[0].Dir)

	newer := sampleReport("rules-test.2", 4)
	newer.Findings[0].Verdict = finding.Fail
	require.ErrorIs(t, s.ReplaceJudgement(ctx, alice.ID, "rules-test.3", Result{Report: newer}), ErrRulesMismatch)
	require.ErrorIs(t, s.ReplaceJudgement(ctx, bob.ID, "rules-test.2", Result{Report: newer}), ErrInvalid)
	require.ErrorIs(t, s.ReplaceJudgement(ctx, 999, "rules-test.2", Result{Report: newer}), ErrNotFound)
	require.NoError(t, s.ReplaceJudgement(ctx, alice.ID, "rules-test.2", Result{Report: newer, ReportDir: stored[0].Dir}))

	graded, err := s.LatestGradings(ctx, "spring")
	require.NoError(t, err)
	require.Equal(t, "alice", graded[0].Candidate)
	require.Equal(t, "rules-test.2", graded[0].RulesVersion)
	require.Equal(t, "grader-capture", graded[0].GraderVersion, "the evidence's versions stay")
	require.Equal(t, filepath.Join(alice.Dir, "evidence.json.gz"), graded[0].EvidencePath, "the evidence stays")
	require.Equal(t, stored[0].Dir, graded[0].ReportDir)
	require.Len(t, graded[0].Findings, 4, "the old findings are gone")
	require.Equal(t, "fail", graded[0].Findings[0].Verdict)

	// Grading alice's content again under the old rules, then re-judging that grading by the
	// rules the first one now has, would make two gradings of one content by one rules version.
	_, created, err := s.Enqueue(ctx, entry("spring", "alice"))
	require.NoError(t, err)
	require.True(t, created, "the old rules' slot is free again")
	again := mustClaim(t, s, "spring", "w", time.Hour)
	require.NoError(t, s.Finish(ctx, again.Ticket, resultFor(again, sampleReport(testRules, 2))))
	require.ErrorIs(t, s.ReplaceJudgement(ctx, again.ID, "rules-test.2", Result{Report: newer}), ErrInvalid)
}

func TestReplaceSimilarityKeepsACohortsPairs(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	s := openStore(t)
	spring := enqueueAll(t, s, "spring", "alice", "bob", "carol")
	autumn := enqueueAll(t, s, "autumn", "dave")
	sub := func(grading int64) int64 {
		var id int64
		require.NoError(t, s.reader.QueryRow(`SELECT submission_id FROM gradings WHERE id = ?`, grading).Scan(&id))
		return id
	}
	a, b, c, d := sub(spring[0]), sub(spring[1]), sub(spring[2]), sub(autumn[0])
	fragments := json.RawMessage(`[{"a":[1,40],"b":[3,42]}]`)

	require.NoError(t, s.ReplaceSimilarity(ctx, "spring", []Pair{{A: b, B: a, Score: 0.4, LongestFragment: 30, Fragments: fragments}}))
	require.NoError(t, s.ReplaceSimilarity(ctx, "spring", []Pair{
		{A: a, B: c, Score: 0.2, LongestFragment: 25},
		{A: b, B: a, Score: 0.9, LongestFragment: 120, Fragments: fragments},
	}))
	pairs, err := s.Similarity(ctx, "spring")
	require.NoError(t, err)
	require.Equal(t, []Pair{
		{A: a, B: b, Score: 0.9, LongestFragment: 120, Fragments: fragments},
		{A: a, B: c, Score: 0.2, LongestFragment: 25, Fragments: json.RawMessage(`[]`)},
	}, pairs, "replaced, ordered A < B, most similar first")

	require.ErrorIs(t, s.ReplaceSimilarity(ctx, "spring", []Pair{{A: a, B: d, Score: 1}}), ErrInvalid, "dave is in another cohort")
	require.ErrorIs(t, s.ReplaceSimilarity(ctx, "spring", []Pair{{A: a, B: a, Score: 1}}), ErrInvalid)
	pairs, err = s.Similarity(ctx, "spring")
	require.NoError(t, err)
	require.Len(t, pairs, 2, "a refused replacement changed nothing")
}

func TestFilesOfAJobStayUnderTheDataFolder(t *testing.T) {
	t.Parallel()
	s := openStore(t, WithDataDir(filepath.Join(t.TempDir(), "elsewhere")))
	enqueueAll(t, s, "spring", "alice")
	job := mustClaim(t, s, "spring", "w", time.Hour)
	require.True(t, filepath.IsAbs(job.Dir))
	rel, err := filepath.Rel(s.DataDir(), job.Dir)
	require.NoError(t, err)
	require.NotContains(t, rel, "..")
	info, err := os.Stat(s.DataDir())
	require.NoError(t, err)
	require.True(t, info.IsDir())
}
