package cohort

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/store"
)

// fakeCapture stands in for grading.Capture (the Docker side has its own tests, and the whole
// command is killed and resumed with real Docker in grader/cli): it counts what it was asked
// to grade, and fails where told to.
type fakeCapture struct {
	mu      sync.Mutex
	calls   map[string]int // by the submission's package.json, which names the candidate
	sources []string
	fail    func(candidate string, call int) error
}

func (f *fakeCapture) capture(_ context.Context, source, _ string) (*evidence.Evidence, error) {
	name, err := os.ReadFile(filepath.Join(source, "package.json"))
	if err != nil {
		return nil, fmt.Errorf("fake capture reads the snapshot: %w", err)
	}
	f.mu.Lock()
	f.calls[string(name)]++
	f.sources = append(f.sources, source)
	call := f.calls[string(name)]
	f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(string(name), call); err != nil {
			return nil, err
		}
	}
	return &evidence.Evidence{
		SchemaVersion: evidence.SchemaVersion,
		Versions:      evidence.Versions{Grader: "test", Suite: "test", Rules: judge.RulesVersion},
		Build:         evidence.Build{OK: false, Stage: "bundle", Summary: "does not parse (fake)"},
	}, nil
}

func writeReport(rep *report.Report, dir string) error {
	fh, err := os.Create(filepath.Join(dir, "report.json"))
	if err != nil {
		return err
	}
	defer fh.Close()
	return rep.WriteJSON(fh)
}

// cohortOf makes n submissions and their roster entries.
func cohortOf(t *testing.T, n int) []Entry {
	dir := t.TempDir()
	var entries []Entry
	for i := range n {
		name := fmt.Sprintf("cand%02d", i)
		sub := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(sub, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(sub, "package.json"), []byte(name), 0o644))
		entries = append(entries, Entry{Candidate: name, Source: sub, Track: []string{"ai", "manual"}[i%2], Line: i + 2})
	}
	return entries
}

func openStore(t *testing.T, path string, opts ...store.Option) *store.Store {
	st, err := store.Open(context.Background(), path, append([]store.Option{store.WithBackoff(func(int) time.Duration { return 10 * time.Millisecond })}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func TestABatchGradesEachSubmissionOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	entries := cohortOf(t, 6)
	st := openStore(t, filepath.Join(t.TempDir(), "round.db"))
	fake := &fakeCapture{calls: map[string]int{}}
	var seen []Status
	opts := Options{Cohort: "round", Capture: fake.capture, Write: writeReport, Progress: func(s Status) { seen = append(seen, s) }}

	status, err := Run(ctx, st, entries, opts)
	require.NoError(t, err)
	require.Equal(t, 6, status.Done)
	require.Equal(t, 6, status.New)
	require.Zero(t, status.Queued+status.Running+status.Failed)
	require.Len(t, fake.calls, 6)
	for name, n := range fake.calls {
		require.Equal(t, 1, n, name)
	}
	require.NotEmpty(t, seen)
	for _, src := range fake.sources {
		for _, e := range entries {
			require.NotEqual(t, e.Source, src, "the batch grades the copy it hashed, not a folder that may change meanwhile")
		}
	}

	graded, err := st.LatestGradings(ctx, "round")
	require.NoError(t, err)
	require.Len(t, graded, 6)
	for _, g := range graded {
		require.FileExists(t, g.EvidencePath)
		require.FileExists(t, filepath.Join(g.ReportDir, "report.json"))
		require.Equal(t, []string{"ai", "manual"}[int(g.Candidate[5]-'0')%2], g.Track)
		require.NotEmpty(t, g.Findings)
	}

	// The same roster again: nothing is graded twice.
	status, err = Run(ctx, st, entries, opts)
	require.NoError(t, err)
	require.Zero(t, status.New)
	require.Equal(t, 6, status.Done)
	for name, n := range fake.calls {
		require.Equal(t, 1, n, name)
	}

	// A candidate who hands in again: only that content is graded.
	require.NoError(t, os.WriteFile(filepath.Join(entries[2].Source, "README.md"), []byte("v2"), 0o644))
	status, err = Run(ctx, st, entries, opts)
	require.NoError(t, err)
	require.Equal(t, 1, status.New, "%+v %v", status, fake.calls)
	require.Equal(t, 2, fake.calls["cand02"])
	require.Equal(t, 1, fake.calls["cand03"])
}

func TestInfrastructureFailuresAreRetriedAndCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	entries := cohortOf(t, 3)
	st := openStore(t, filepath.Join(t.TempDir(), "round.db"), store.WithMaxAttempts(3))
	engineDown := errors.New("engine stopped answering")
	fake := &fakeCapture{calls: map[string]int{}, fail: func(candidate string, call int) error {
		switch {
		case candidate == "cand00" && call == 1:
			return engineDown // once: retried, then graded
		case candidate == "cand01":
			return engineDown // every time: given up after three attempts
		}
		return nil
	}}
	status, err := Run(ctx, st, entries, Options{Cohort: "round", Capture: fake.capture, Write: writeReport})
	require.NoError(t, err)
	require.Equal(t, 2, status.Done)
	require.Equal(t, 1, status.Failed)
	require.Equal(t, 2, fake.calls["cand00"])
	require.Equal(t, 3, fake.calls["cand01"])
	require.Equal(t, 1, fake.calls["cand02"])
}

// TestTwoBatchesOnOneStoreShareTheWork: two batches (two processes' worth: two stores open on
// one file) given the same roster grade every submission once between them.
func TestTwoBatchesOnOneStoreShareTheWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	entries := cohortOf(t, 8)
	db := filepath.Join(t.TempDir(), "round.db")
	fake := &fakeCapture{calls: map[string]int{}}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		st := openStore(t, db)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Run(ctx, st, entries, Options{Cohort: "round", Capture: fake.capture, Write: writeReport})
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.Len(t, fake.calls, 8)
	for name, n := range fake.calls {
		require.Equal(t, 1, n, name)
	}
}

// TestAJobQueuedEarlierIsGradedOnlyIfItsContentIsUnchanged: a batch takes up gradings another
// run queued (their snapshots gone with it): it fetches each again and grades it if it is the
// content queued; a submission changed since is the candidate's result, not graded.
func TestAJobQueuedEarlierIsGradedOnlyIfItsContentIsUnchanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	entries := cohortOf(t, 2)
	st := openStore(t, filepath.Join(t.TempDir(), "round.db"))
	require.NoError(t, st.CreateCohort(ctx, "round", time.Time{}))
	same, err := TreeHash(entries[0].Source)
	require.NoError(t, err)
	for i, hash := range []string{same, "sha256:what-it-was-when-queued"} {
		_, _, err := st.Enqueue(ctx, store.Entry{Cohort: "round", Candidate: entries[i].Candidate, Source: entries[i].Source, ContentHash: hash, RulesVersion: judge.RulesVersion})
		require.NoError(t, err)
	}
	fake := &fakeCapture{calls: map[string]int{}}
	status, err := Run(ctx, st, nil, Options{Cohort: "round", Capture: fake.capture, Write: writeReport})
	require.NoError(t, err)
	require.Equal(t, 2, status.Done)
	require.Equal(t, 1, status.CandidateFailures)
	require.Equal(t, map[string]int{"cand00": 1}, fake.calls, "only the unchanged one is graded")
	require.NotEqual(t, entries[0].Source, fake.sources[0], "from a fresh copy")
	graded, err := st.LatestGradings(ctx, "round")
	require.NoError(t, err)
	require.Contains(t, graded[1].CandidateFailure, "changed since it was queued")
}

// TestGradingsQueuedByAnOlderGraderAreGradedByThisOnesRules: a round queued under other rules
// (the grader was upgraded before it finished) is graded once, by the current rules, with
// nothing refused or failed and nothing queued a second time.
func TestGradingsQueuedByAnOlderGraderAreGradedByThisOnesRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	entries := cohortOf(t, 3)
	st := openStore(t, filepath.Join(t.TempDir(), "round.db"))
	require.NoError(t, st.CreateCohort(ctx, "round", time.Time{}))
	for _, e := range entries {
		hash, err := TreeHash(e.Source)
		require.NoError(t, err)
		_, _, err = st.Enqueue(ctx, store.Entry{Cohort: "round", Candidate: e.Candidate, Source: e.Source, ContentHash: hash, Track: e.Track, RulesVersion: "2026-11-30.1"})
		require.NoError(t, err)
	}
	fake := &fakeCapture{calls: map[string]int{}}
	status, err := Run(ctx, st, entries, Options{Cohort: "round", Capture: fake.capture, Write: writeReport})
	require.NoError(t, err)
	require.Zero(t, status.New, "the queued gradings are the ones graded")
	require.Equal(t, 3, status.Done)
	require.Zero(t, status.Failed+status.Queued+status.CandidateFailures)
	for name, n := range fake.calls {
		require.Equal(t, 1, n, name)
	}
	graded, err := st.LatestGradings(ctx, "round")
	require.NoError(t, err)
	require.Len(t, graded, 3)
	for _, g := range graded {
		require.Equal(t, judge.RulesVersion, g.RulesVersion, g.Candidate)
	}
}
