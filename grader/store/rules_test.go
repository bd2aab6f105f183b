package store

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAnUpgradedGraderAdoptsTheGradingsQueuedForOldRules: what no live worker holds moves to
// the new rules and is graded by them (not refused at Finish); a submission that already has
// a grading for the new rules, or a second free one, loses the old one with its files; what
// is done, failed or held under a live lease keeps its rules; other cohorts are left alone.
func TestAnUpgradedGraderAdoptsTheGradingsQueuedForOldRules(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := newClock()
	s := openStore(t, WithClock(c.Now), WithMaxAttempts(1))
	const old, older, next = "rules-2026-11.1", "rules-2026-10.1", "rules-2026-12.1"
	queue := func(cohort, candidate, rules string) int64 {
		e := entry(cohort, candidate)
		e.RulesVersion = rules
		id, created, err := s.Enqueue(ctx, e)
		require.NoError(t, err)
		require.True(t, created)
		return id
	}
	// done under old rules: stays, rejudge's business.
	done := queue("spring", "alice", old)
	job := mustClaim(t, s, "spring", "w1", time.Minute)
	require.NoError(t, s.Finish(ctx, job.Ticket, resultFor(job, sampleReport(old, 2))))
	// failed under old rules (its only attempt): stays.
	failed := queue("spring", "bob", old)
	job = mustClaim(t, s, "spring", "w1", time.Minute)
	_, err := s.Fail(ctx, job.Ticket, context.DeadlineExceeded, true)
	require.NoError(t, err)
	// queued under old rules: moves.
	queued := queue("spring", "carol", old)
	// queued twice, under two old rules: the first moves, the second goes.
	twiceKept, twiceDropped := queue("spring", "dave", older), queue("spring", "dave", old)
	// queued under old rules, and already queued under the new ones: the old one goes.
	superseded := queue("spring", "erin", old)
	queue("spring", "erin", next)
	// running under old rules, lease expired (its worker was killed): moves.
	expired := queue("spring", "frank", old)
	// running under old rules, live lease: stays (its worker finishes or fails it).
	live := queue("spring", "grace", old)
	now := millis(c.Now())
	for id, lease := range map[int64]int64{expired: now - 1, live: now + 60_000} {
		_, err = s.writer.ExecContext(ctx, `UPDATE gradings SET status = 'running', worker = 'w2', attempts = 1, lease_until = ? WHERE id = ?`, lease, id)
		require.NoError(t, err)
	}
	// Another cohort's old gradings are not this call's.
	other := queue("autumn", "heidi", old)
	droppedDir := filepath.Join(s.DataDir(), "cohort-1", "grading-"+strconv.FormatInt(twiceDropped, 10), "attempt-1")
	require.NoError(t, os.MkdirAll(droppedDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(droppedDir, "partial"), []byte("x"), 0o600))

	moved, dropped, err := s.AdoptRules(ctx, "spring", next)
	require.NoError(t, err)
	require.Equal(t, int64(3), moved, "carol, dave's first, frank")
	require.Equal(t, int64(2), dropped, "dave's second, erin's old one")
	require.NoDirExists(t, filepath.Dir(droppedDir), "a deleted grading's files go with it")

	rulesOf := func(id int64) (string, bool) {
		var r string
		err := s.reader.QueryRowContext(ctx, `SELECT rules_version FROM gradings WHERE id = ?`, id).Scan(&r)
		if err != nil {
			return "", false
		}
		return r, true
	}
	for id, want := range map[int64]string{done: old, failed: old, queued: next, twiceKept: next, expired: next, live: old, other: old} {
		got, ok := rulesOf(id)
		require.True(t, ok, "grading %d is kept", id)
		require.Equal(t, want, got, "grading %d", id)
	}
	for _, id := range []int64{twiceDropped, superseded} {
		_, ok := rulesOf(id)
		require.False(t, ok, "grading %d is deleted", id)
	}

	// Adopting again changes nothing; an empty version is refused.
	moved, dropped, err = s.AdoptRules(ctx, "spring", next)
	require.NoError(t, err)
	require.Zero(t, moved+dropped)
	_, _, err = s.AdoptRules(ctx, "", "")
	require.ErrorIs(t, err, ErrInvalid)

	// Every cohort at once.
	moved, _, err = s.AdoptRules(ctx, "", next)
	require.NoError(t, err)
	require.Equal(t, int64(1), moved, "autumn's heidi")
}
