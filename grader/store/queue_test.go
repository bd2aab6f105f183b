package store

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEnqueueGradesEachContentOncePerRulesVersion(t *testing.T) {
	t.Parallel()
	first := entry("spring", "alice")
	cases := []struct {
		name    string
		change  func(e *Entry)
		created bool
	}{
		{"the same entry again is the same grading", func(*Entry) {}, false},
		{"the same content from another source is the same grading", func(e *Entry) { e.Source, e.Ref = "/srv/alice", "" }, false},
		{"the same content with another declared track is the same grading", func(e *Entry) { e.Track = TrackAI }, false},
		{"other rules are a new grading", func(e *Entry) { e.RulesVersion = "rules-test.2" }, true},
		{"other content is a new grading", func(e *Entry) { e.ContentHash = "sha256:other" }, true},
		{"the same content from another candidate is a new grading", func(e *Entry) { e.Candidate = "bob" }, true},
		{"the same content in another cohort is a new grading", func(e *Entry) { e.Cohort = "autumn" }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			s := openStore(t)
			id, created, err := s.Enqueue(ctx, first)
			require.NoError(t, err)
			require.True(t, created)

			e := first
			tc.change(&e)
			again, created, err := s.Enqueue(ctx, e)
			require.NoError(t, err)
			require.Equal(t, tc.created, created)
			require.Equal(t, !tc.created, again == id, "the id of the existing grading when not new")
			want := map[bool]int{true: 2, false: 1}[tc.created]
			require.Equal(t, want, rowCount(t, s.reader, "gradings", ""))
		})
	}
}

func TestEnqueueRefusesWhatItCannotRecord(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	cases := []struct {
		name   string
		change func(e *Entry)
	}{
		{"no cohort", func(e *Entry) { e.Cohort = "" }},
		{"no candidate", func(e *Entry) { e.Candidate = "" }},
		{"no source", func(e *Entry) { e.Source = "" }},
		{"no content hash", func(e *Entry) { e.ContentHash = "" }},
		{"no rules version", func(e *Entry) { e.RulesVersion = "" }},
		{"a track that is not one", func(e *Entry) { e.Track = "copilot" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := entry("spring", "alice")
			tc.change(&e)
			_, _, err := s.Enqueue(context.Background(), e)
			require.ErrorIs(t, err, ErrInvalid)
		})
	}
	require.Equal(t, 0, rowCount(t, s.reader, "gradings", ""))

	e := entry("spring", "alice")
	e.Track = ""
	_, _, err := s.Enqueue(context.Background(), e)
	require.NoError(t, err)
	job := mustClaim(t, s, "spring", "w", time.Minute)
	require.Equal(t, TrackUnknown, job.Track, "no track is the unknown track")
}

func TestClaimHandsOutAJobWithWhatToGradeAndWhere(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	ids := enqueueAll(t, s, "spring", "alice", "bob")
	enqueueAll(t, s, "autumn", "carol")

	job := mustClaim(t, s, "spring", "host/1", time.Minute)
	want := entry("spring", "alice")
	require.Equal(t, Ticket{ID: ids[0], Worker: "host/1", Attempt: 1}, job.Ticket)
	require.Equal(t, []string{want.Cohort, want.Candidate, want.Source, want.Ref, want.Commit, want.ContentHash, want.Track, want.RulesVersion},
		[]string{job.Cohort, job.Candidate, job.Source, job.Ref, job.Commit, job.ContentHash, job.Track, job.RulesVersion})
	rel, err := filepath.Rel(s.DataDir(), job.Dir)
	require.NoError(t, err)
	require.Regexp(t, `^cohort-\d+/grading-\d+/attempt-1$`, rel)

	second := mustClaim(t, s, "spring", "host/1", time.Minute)
	require.Equal(t, ids[1], second.ID)
	requireNothingToClaim(t, s, "spring")

	_, _, err = s.Claim(context.Background(), "winter", "host/1", time.Minute)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestConcurrentClaimsNeverGetTheSameJob(t *testing.T) {
	t.Parallel()
	const jobs = 120
	path := filepath.Join(t.TempDir(), "round.db")
	stores := []*Store{openAt(t, path), openAt(t, path)} // two processes' worth of connections
	enqueueAll(t, stores[0], "spring", names("cand", jobs)...)

	var mu sync.Mutex
	claimedBy := map[int64][]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	// Each claimer holds its first job until all four have one, so all take part however the
	// scheduler runs them.
	var firstClaims sync.WaitGroup
	firstClaims.Add(4)
	for i, s := range stores {
		for g := range 2 {
			worker := []string{"a", "b"}[i] + []string{"1", "2"}[g]
			wg.Go(func() {
				first := sync.OnceFunc(func() { firstClaims.Done(); firstClaims.Wait() })
				defer first()
				for {
					job, ok, err := s.Claim(context.Background(), "spring", worker, time.Hour)
					if err != nil || !ok {
						errs <- err
						return
					}
					mu.Lock()
					claimedBy[job.ID] = append(claimedBy[job.ID], worker)
					mu.Unlock()
					first()
					if err := s.Finish(context.Background(), job.Ticket, resultFor(job, sampleReport(testRules, 5))); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, claimedBy, jobs, "every job was claimed")
	workers := map[string]int{}
	for id, by := range claimedBy {
		require.Len(t, by, 1, "job %d claimed by %v", id, by)
		workers[by[0]]++
	}
	require.Equal(t, map[string]int{"done": jobs}, statuses(t, stores[0]))
	require.Len(t, workers, 4, "all four claimers took part: %v", workers)
	t.Logf("jobs per claimer: %v", workers)
}

func TestALeaseHoldsUntilItRunsOut(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// after the claim (lease 10 min): what happens before another worker tries.
		meanwhile func(t *testing.T, s *Store, c *clock, job Job)
		reclaimed bool
	}{
		{"a live lease is not reclaimed", func(t *testing.T, s *Store, c *clock, job Job) {
			c.Advance(9 * time.Minute)
		}, false},
		{"an expired lease is reclaimed", func(t *testing.T, s *Store, c *clock, job Job) {
			c.Advance(10*time.Minute + time.Millisecond)
		}, true},
		{"a heartbeat keeps the lease", func(t *testing.T, s *Store, c *clock, job Job) {
			c.Advance(9 * time.Minute)
			require.NoError(t, s.Heartbeat(context.Background(), job.Ticket, 10*time.Minute))
			c.Advance(9 * time.Minute)
		}, false},
		{"a heartbeat does not keep a lease forever", func(t *testing.T, s *Store, c *clock, job Job) {
			c.Advance(9 * time.Minute)
			require.NoError(t, s.Heartbeat(context.Background(), job.Ticket, 10*time.Minute))
			c.Advance(11 * time.Minute)
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			c := newClock()
			s := openStore(t, WithClock(c.Now))
			enqueueAll(t, s, "spring", "alice")
			job := mustClaim(t, s, "spring", "first", 10*time.Minute)
			tc.meanwhile(t, s, c, job)

			again, ok, err := s.Claim(ctx, "spring", "second", 10*time.Minute)
			require.NoError(t, err)
			require.Equal(t, tc.reclaimed, ok)
			if !tc.reclaimed {
				require.NoError(t, s.Finish(ctx, job.Ticket, resultFor(job, sampleReport(testRules, 3))))
				return
			}
			require.Equal(t, job.ID, again.ID)
			require.Equal(t, 2, again.Attempt)
			require.NotEqual(t, job.Dir, again.Dir, "each attempt writes in its own folder")

			require.ErrorIs(t, s.Heartbeat(ctx, job.Ticket, time.Minute), ErrLeaseLost)
			require.ErrorIs(t, s.Finish(ctx, job.Ticket, resultFor(job, sampleReport(testRules, 3))), ErrLeaseLost)
			_, err = s.Fail(ctx, job.Ticket, errors.New("late"), true)
			require.ErrorIs(t, err, ErrLeaseLost)
			require.Equal(t, 0, readGrading(t, s, job.ID).Findings, "the refused Finish wrote no finding")

			require.NoError(t, s.Finish(ctx, again.Ticket, resultFor(again, sampleReport(testRules, 3))))
			got := readGrading(t, s, job.ID)
			require.Equal(t, "done", got.Status)
			require.Equal(t, "second", got.Worker.String)
		})
	}
}

func TestAWorkerOfTheSameNameCannotFinishAnAttemptItLost(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := newClock()
	s := openStore(t, WithClock(c.Now))
	enqueueAll(t, s, "spring", "alice")
	stale := mustClaim(t, s, "spring", "host/42", time.Minute)
	c.Advance(2 * time.Minute)
	fresh := mustClaim(t, s, "spring", "host/42", time.Minute)
	require.Equal(t, stale.ID, fresh.ID)

	require.ErrorIs(t, s.Finish(ctx, stale.Ticket, resultFor(stale, sampleReport(testRules, 3))), ErrLeaseLost)
	require.NoError(t, s.Finish(ctx, fresh.Ticket, resultFor(fresh, sampleReport(testRules, 3))))
	require.ErrorIs(t, s.Finish(ctx, fresh.Ticket, resultFor(fresh, sampleReport(testRules, 3))), ErrLeaseLost,
		"a grading is finished once")
}

func TestAnInfrastructureFailureIsRetriedUntilTheLastAttempt(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := newClock()
	s := openStore(t, WithClock(c.Now), WithMaxAttempts(3), WithBackoff(func(attempt int) time.Duration {
		return time.Duration(attempt) * time.Minute
	}))
	enqueueAll(t, s, "spring", "alice")

	for attempt := 1; attempt <= 3; attempt++ {
		job := mustClaim(t, s, "spring", "w", time.Hour)
		require.Equal(t, attempt, job.Attempt)
		status, err := s.Fail(ctx, job.Ticket, errors.New("docker: connection refused"), true)
		require.NoError(t, err)
		if attempt == 3 {
			require.Equal(t, Failed, status)
			break
		}
		require.Equal(t, Queued, status)
		p, err := s.Progress(ctx, "spring")
		require.NoError(t, err)
		require.Equal(t, c.Now().Add(time.Duration(attempt)*time.Minute), p.NextDue, "the backoff of attempt %d", attempt)

		c.Advance(time.Duration(attempt)*time.Minute - time.Millisecond)
		requireNothingToClaim(t, s, "spring")
		c.Advance(time.Millisecond)
	}
	c.Advance(24 * time.Hour)
	requireNothingToClaim(t, s, "spring")
	got := readGrading(t, s, 1)
	require.Equal(t, "failed", got.Status)
	require.Equal(t, 3, got.Attempts)
	require.Equal(t, "docker: connection refused", got.LastError.String)
	p, err := s.Progress(ctx, "spring")
	require.NoError(t, err)
	require.Equal(t, Progress{Failed: 1}, p)
}

func TestACandidatesFailureIsAResultNeverRetried(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := newClock()
	s := openStore(t, WithClock(c.Now))
	enqueueAll(t, s, "spring", "alice")
	job := mustClaim(t, s, "spring", "w", time.Hour)
	c.Advance(90 * time.Second)

	status, err := s.Fail(ctx, job.Ticket, errors.New("fetch https://example.com/alice.git: repository not found"), false)
	require.NoError(t, err)
	require.Equal(t, Done, status)
	c.Advance(24 * time.Hour)
	requireNothingToClaim(t, s, "spring")

	got := readGrading(t, s, job.ID)
	require.Equal(t, "done", got.Status)
	require.Equal(t, 1, got.Attempts)
	require.False(t, got.Score.Valid, "no score")
	require.Contains(t, got.CandidateFailure.String, "repository not found")
	p, err := s.Progress(ctx, "spring")
	require.NoError(t, err)
	require.Equal(t, Progress{Done: 1, CandidateFailures: 1, MeanGrading: 90 * time.Second}, p)

	graded, err := s.LatestGradings(ctx, "spring")
	require.NoError(t, err)
	require.Len(t, graded, 1)
	require.Contains(t, graded[0].CandidateFailure, "repository not found")
	require.Empty(t, graded[0].Findings)
}

func TestAGradingThatKillsEveryWorkerIsAbandoned(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := openStore(t, WithClock(c.Now), WithMaxAttempts(2))
	enqueueAll(t, s, "spring", "alice")
	for attempt := 1; attempt <= 2; attempt++ {
		job := mustClaim(t, s, "spring", "w", time.Minute)
		require.Equal(t, attempt, job.Attempt)
		c.Advance(2 * time.Minute) // the worker died without a word
	}
	requireNothingToClaim(t, s, "spring")
	got := readGrading(t, s, 1)
	require.Equal(t, "failed", got.Status)
	require.Contains(t, got.LastError.String, "abandoned: the worker of attempt 2 stopped renewing its lease")
}

func TestProgressCountsACohortsGradings(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := newClock()
	s := openStore(t, WithClock(c.Now), WithMaxAttempts(1))
	enqueued := c.Now()
	enqueueAll(t, s, "spring", names("cand", 6)...)
	enqueueAll(t, s, "autumn", "other")

	for _, took := range []time.Duration{time.Minute, 3 * time.Minute} {
		job := mustClaim(t, s, "spring", "w", time.Hour)
		c.Advance(took)
		require.NoError(t, s.Finish(ctx, job.Ticket, resultFor(job, sampleReport(testRules, 3))))
	}
	failed := mustClaim(t, s, "spring", "w", time.Hour)
	_, err := s.Fail(ctx, failed.Ticket, errors.New("engine gone"), true)
	require.NoError(t, err)
	mustClaim(t, s, "spring", "w", time.Hour)

	p, err := s.Progress(ctx, "spring")
	require.NoError(t, err)
	require.Equal(t, Progress{Queued: 2, Running: 1, Done: 2, Failed: 1, MeanGrading: 2 * time.Minute, NextDue: enqueued}, p,
		"the queued gradings have been due since they were queued")
	_, err = s.Progress(ctx, "winter")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestCohortsAreListedWithTheirDeadlines(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := newClock()
	s := openStore(t, WithClock(c.Now))
	deadline := c.Now().Add(14 * 24 * time.Hour)
	require.NoError(t, s.CreateCohort(ctx, "spring", deadline))
	enqueueAll(t, s, "spring", "alice", "bob")
	enqueueAll(t, s, "autumn", "carol")
	require.NoError(t, s.CreateCohort(ctx, "spring", time.Time{}), "a zero deadline keeps the one set")
	require.ErrorIs(t, s.CreateCohort(ctx, "", deadline), ErrInvalid)

	cohorts, err := s.Cohorts(ctx)
	require.NoError(t, err)
	require.Equal(t, []Cohort{
		{Name: "autumn", Created: c.Now(), Candidates: 1},
		{Name: "spring", Created: c.Now(), Deadline: deadline, Candidates: 2},
	}, cohorts)
}
