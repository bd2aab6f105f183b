package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/report"
)

const testRules = "rules-test.1"

// clock is a test's clock: it moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openStore opens a store in a fresh folder, closed when the test ends.
func openStore(t testing.TB, opts ...Option) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "round.db"), opts...)
}

func openAt(t testing.TB, path string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func entry(cohort, candidate string) Entry {
	return Entry{
		Cohort: cohort, Candidate: candidate,
		Source: "https://example.com/" + candidate + ".git", Ref: "main",
		Commit: "c0ffee" + candidate, ContentHash: "sha256:" + candidate,
		Track: TrackManual, RulesVersion: testRules,
	}
}

// enqueueAll queues one submission per candidate name and returns the gradings' ids.
func enqueueAll(t testing.TB, s *Store, cohort string, candidates ...string) []int64 {
	t.Helper()
	var ids []int64
	for _, c := range candidates {
		id, created, err := s.Enqueue(context.Background(), entry(cohort, c))
		require.NoError(t, err)
		require.True(t, created)
		ids = append(ids, id)
	}
	return ids
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

// sampleReport is a report judged by rules with n findings: every third fails, one is
// critical, each measures a number.
func sampleReport(rules string, n int) *report.Report {
	fs := make([]finding.Finding, n)
	for i := range fs {
		v := finding.Pass
		if i%3 == 2 {
			v = finding.Fail
		}
		fs[i] = finding.Finding{
			ID: fmt.Sprintf("check.%02d", i), Kind: finding.Measured, Title: "a check",
			Verdict: v, Severity: finding.Medium, Critical: i == 2, Indicator: finding.ProperBackoff,
			Summary:  "what the mock saw",
			Measured: map[string]float64{"ratio": float64(i) / 10},
		}
	}
	if n > 0 {
		fs[0].Kind, fs[0].Indicator, fs[0].Measured = finding.Static, finding.Separation, nil
	}
	r := report.New(report.Submission{Source: "sub", Track: TrackManual}, report.Build{OK: true}, fs, nil,
		time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	r.Versions = report.Versions{Grader: "grader-test", Suite: "suite-test", Rules: rules}
	r.Evidence = report.EvidenceInfo{Versions: report.Versions{Grader: "grader-capture", Suite: "suite-capture", Rules: rules}}
	return r
}

// resultFor is a result whose files lie in the job's folder.
func resultFor(job Job, r *report.Report) Result {
	return Result{Report: r, EvidencePath: filepath.Join(job.Dir, "evidence.json.gz"), ReportDir: job.Dir}
}

// mustClaim claims the next grading of the cohort and fails the test if there is none.
func mustClaim(t testing.TB, s *Store, cohort, worker string, lease time.Duration) Job {
	t.Helper()
	job, ok, err := s.Claim(context.Background(), cohort, worker, lease)
	require.NoError(t, err)
	require.True(t, ok, "a grading to claim")
	return job
}

func requireNothingToClaim(t testing.TB, s *Store, cohort string) {
	t.Helper()
	job, ok, err := s.Claim(context.Background(), cohort, "someone", time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "claimed grading %d (attempt %d)", job.ID, job.Attempt)
}

// grading is one row of gradings, as a test reads it.
type grading struct {
	Status           string
	Attempts         int
	Worker           sql.NullString
	LastError        sql.NullString
	CandidateFailure sql.NullString
	Score            sql.NullFloat64
	Findings         int
}

func readGrading(t testing.TB, s *Store, id int64) grading {
	t.Helper()
	var g grading
	err := s.reader.QueryRow(`SELECT status, attempts, worker, last_error, candidate_failure, score,
		(SELECT count(*) FROM findings WHERE grading_id = g.id) FROM gradings g WHERE id = ?`, id).
		Scan(&g.Status, &g.Attempts, &g.Worker, &g.LastError, &g.CandidateFailure, &g.Score, &g.Findings)
	require.NoError(t, err)
	return g
}

// rowCount counts a table's rows, optionally filtered.
func rowCount(t testing.TB, db *sql.DB, table, where string, args ...any) int {
	t.Helper()
	q := "SELECT count(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	require.NoError(t, db.QueryRow(q, args...).Scan(&n))
	return n
}

func statuses(t testing.TB, s *Store) map[string]int {
	t.Helper()
	rows, err := s.reader.Query(`SELECT status, count(*) FROM gradings GROUP BY status`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		require.NoError(t, rows.Scan(&st, &n))
		out[st] = n
	}
	require.NoError(t, rows.Err())
	return out
}

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
