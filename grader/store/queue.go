package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"
)

// Status is where a grading is in the queue.
type Status string

const (
	// Queued waits for a worker (and, after a failed attempt, for its backoff).
	Queued Status = "queued"
	// Running is held by a worker until its lease runs out.
	Running Status = "running"
	// Done has a result: a report, or the candidate's own failure. Never graded again.
	Done Status = "done"
	// Failed is an infrastructure failure that used up its attempts.
	Failed Status = "failed"
)

// Tracks a submission declares (SUBMISSION.md), as the report names them.
const (
	TrackAI      = "ai"
	TrackManual  = "manual"
	TrackUnknown = "unknown"
)

var (
	// ErrNotFound: no such cohort, candidate or grading.
	ErrNotFound = errors.New("not found")
	// ErrLeaseLost: the worker no longer holds the grading (its lease ran out and another
	// worker claimed it, or it was finished, failed or purged meanwhile). Drop the work.
	ErrLeaseLost = errors.New("the grading is no longer held by this worker")
	// ErrRulesMismatch: a result judged by other rules than the grading was queued for.
	ErrRulesMismatch = errors.New("the result was judged by other rules than the grading's")
	// ErrBusy: a purge found gradings of what it would delete still running under a live lease.
	ErrBusy = errors.New("gradings are running")
	// ErrInvalid: an argument the store cannot record.
	ErrInvalid = errors.New("invalid")
)

// Entry is one submission to grade: a line of a roster, once its content is known.
type Entry struct {
	Cohort    string
	Candidate string
	// Source and Ref as `grader grade` takes them; Commit the commit a git source resolved to.
	Source string
	Ref    string
	Commit string
	// ContentHash identifies the content graded (the resolved commit, or a hash of the files):
	// with the cohort, the candidate and the rules version it keys the grading.
	ContentHash string
	// Track is what SUBMISSION.md declares: TrackAI, TrackManual or TrackUnknown ("" means
	// unknown).
	Track string
	// RulesVersion is the rules the grading will be judged by (judge.RulesVersion).
	RulesVersion string
	// ReceivedAt is when the submission was handed in (zero: now).
	ReceivedAt time.Time
}

// Ticket is what a worker holds of a claimed grading: every later call about it names the
// grading, the worker and the attempt, so a worker whose lease ran out (and whose grading was
// claimed again, even by a worker of the same name) cannot record anything.
type Ticket struct {
	ID      int64
	Worker  string
	Attempt int
}

// Job is a claimed grading: what to grade and where to put its files.
type Job struct {
	Ticket
	Cohort       string
	Candidate    string
	Source       string
	Ref          string
	Commit       string
	ContentHash  string
	Track        string
	RulesVersion string
	// Dir is this attempt's folder for the reports and the evidence, under the store's data
	// folder (not created): Purge deletes it with the grading.
	Dir string
}

// CreateCohort records a cohort, or sets the deadline of an existing one (a zero deadline
// leaves it as it was).
func (s *Store) CreateCohort(ctx context.Context, name string, deadline time.Time) error {
	if name == "" {
		return fmt.Errorf("create cohort: %w: empty name", ErrInvalid)
	}
	var dl sql.NullInt64
	if !deadline.IsZero() {
		dl = sql.NullInt64{Int64: millis(deadline), Valid: true}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO cohorts (name, created_at, deadline) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET deadline = coalesce(excluded.deadline, deadline)`,
			name, millis(s.now()), dl)
		return err
	})
	if err != nil {
		return fmt.Errorf("create cohort %s: %w", name, err)
	}
	return nil
}

// Enqueue records the entry's cohort, candidate and submission where new and queues its
// grading unless one with the same cohort, candidate, content hash and rules version exists
// already (whatever its status). It returns the grading's id and whether it is new.
func (s *Store) Enqueue(ctx context.Context, e Entry) (int64, bool, error) {
	if err := e.validate(); err != nil {
		return 0, false, fmt.Errorf("enqueue: %w", err)
	}
	var id int64
	var created bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		id, created, err = s.enqueue(ctx, tx, e)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("enqueue %s/%s: %w", e.Cohort, e.Candidate, err)
	}
	return id, created, nil
}

func (e *Entry) validate() error {
	if e.Track == "" {
		e.Track = TrackUnknown
	}
	switch {
	case e.Cohort == "" || e.Candidate == "" || e.Source == "":
		return fmt.Errorf("%w: cohort, candidate and source are required", ErrInvalid)
	case e.ContentHash == "" || e.RulesVersion == "":
		return fmt.Errorf("%w: the content hash and the rules version are required", ErrInvalid)
	case e.Track != TrackAI && e.Track != TrackManual && e.Track != TrackUnknown:
		return fmt.Errorf("%w: track %q (want %s, %s or %s)", ErrInvalid, e.Track, TrackAI, TrackManual, TrackUnknown)
	}
	return nil
}

func (s *Store) enqueue(ctx context.Context, tx *sql.Tx, e Entry) (int64, bool, error) {
	now := millis(s.now())
	received := now
	if !e.ReceivedAt.IsZero() {
		received = millis(e.ReceivedAt)
	}
	cohort, err := upsertID(ctx, tx,
		`INSERT INTO cohorts (name, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING`,
		`SELECT id FROM cohorts WHERE name = ?1`, e.Cohort, now)
	if err != nil {
		return 0, false, fmt.Errorf("cohort: %w", err)
	}
	candidate, err := upsertID(ctx, tx,
		`INSERT INTO candidates (cohort_id, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING`,
		`SELECT id FROM candidates WHERE cohort_id = ?1 AND name = ?2`, cohort, e.Candidate)
	if err != nil {
		return 0, false, fmt.Errorf("candidate: %w", err)
	}
	submission, err := upsertID(ctx, tx,
		`INSERT INTO submissions (candidate_id, content_hash, source, ref, commit_sha, track, received_at)
		 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING`,
		`SELECT id FROM submissions WHERE candidate_id = ?1 AND content_hash = ?2`,
		candidate, e.ContentHash, e.Source, e.Ref, e.Commit, e.Track, received)
	if err != nil {
		return 0, false, fmt.Errorf("submission: %w", err)
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO gradings (submission_id, cohort_id, rules_version, enqueued_at, run_after)
		VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT DO NOTHING RETURNING id`,
		submission, cohort, e.RulesVersion, now).Scan(&id)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("grading: %w", err)
	}
	err = tx.QueryRowContext(ctx, `SELECT id FROM gradings WHERE submission_id = ? AND rules_version = ?`,
		submission, e.RulesVersion).Scan(&id)
	if err != nil {
		return 0, false, fmt.Errorf("grading: %w", err)
	}
	return id, false, nil
}

// upsertID inserts a row unless its unique key exists, then reads its id with the same
// arguments (the select uses the leading ones).
func upsertID(ctx context.Context, tx *sql.Tx, insert, selectID string, args ...any) (int64, error) {
	if _, err := tx.ExecContext(ctx, insert, args...); err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRowContext(ctx, selectID, args...).Scan(&id); err != nil {
		return 0, err
	}
	return id, nil
}

// claimSQL takes one grading of a cohort in one statement: a queued one whose backoff is over,
// or a running one whose worker's lease ran out (the worker died: this is how a killed batch
// resumes) and which has attempts left. UPDATE … LIMIT is not compiled into SQLite by default,
// hence the subselect; the writer's IMMEDIATE transaction makes it atomic across processes.
const claimSQL = `UPDATE gradings
SET status = 'running', attempts = attempts + 1, worker = ?2, lease_until = ?3 + ?4,
    host = ?5, started_at = ?3, ended_at = NULL
WHERE id = (
    SELECT id FROM gradings
    WHERE cohort_id = ?1 AND (
          (status = 'queued' AND run_after <= ?3)
       OR (status = 'running' AND lease_until < ?3 AND attempts < ?6))
    ORDER BY run_after, id
    LIMIT 1)
RETURNING id, attempts`

// abandonSQL fails the gradings whose lease ran out on their last attempt: a submission that
// kills or hangs its worker every time is not claimed forever.
const abandonSQL = `UPDATE gradings
SET status = 'failed', ended_at = ?2, lease_until = NULL,
    last_error = 'abandoned: the worker of attempt ' || attempts || ' stopped renewing its lease (killed or hung), and no attempt is left'
WHERE cohort_id = ?1 AND status = 'running' AND lease_until < ?2 AND attempts >= ?3`

// Claim takes the next grading of the cohort for the worker, leased for lease: renew it with
// Heartbeat before it runs out, or another worker will take it. ok is false when nothing is
// claimable now (Progress says whether anything is still to come, and when).
func (s *Store) Claim(ctx context.Context, cohort, worker string, lease time.Duration) (job Job, ok bool, err error) {
	if worker == "" || lease <= 0 {
		return Job{}, false, fmt.Errorf("claim: %w: a worker name and a positive lease are required", ErrInvalid)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		cohortID, err := lookupCohort(ctx, tx, cohort)
		if err != nil {
			return err
		}
		now := millis(s.now())
		if _, err := tx.ExecContext(ctx, abandonSQL, cohortID, now, s.maxAttempts); err != nil {
			return fmt.Errorf("abandon expired: %w", err)
		}
		err = tx.QueryRowContext(ctx, claimSQL, cohortID, worker, now, lease.Milliseconds(), s.host, s.maxAttempts).
			Scan(&job.ID, &job.Attempt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		job.Worker = worker
		return s.describe(ctx, tx, cohortID, &job)
	})
	if err != nil {
		return Job{}, false, fmt.Errorf("claim in cohort %s: %w", cohort, err)
	}
	return job, ok, nil
}

func (s *Store) describe(ctx context.Context, tx *sql.Tx, cohortID int64, job *Job) error {
	err := tx.QueryRowContext(ctx, `SELECT co.name, c.name, s.source, s.ref, s.commit_sha, s.content_hash, s.track, g.rules_version
		FROM gradings g JOIN submissions s ON s.id = g.submission_id
		JOIN candidates c ON c.id = s.candidate_id JOIN cohorts co ON co.id = c.cohort_id
		WHERE g.id = ?`, job.ID).
		Scan(&job.Cohort, &job.Candidate, &job.Source, &job.Ref, &job.Commit, &job.ContentHash, &job.Track, &job.RulesVersion)
	if err != nil {
		return fmt.Errorf("read claimed grading %d: %w", job.ID, err)
	}
	job.Dir = s.attemptDir(cohortID, job.ID, job.Attempt)
	return nil
}

func lookupCohort(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM cohorts WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("cohort %q: %w", name, ErrNotFound)
	}
	return id, err
}

// cohortDir holds every file of a cohort's gradings; gradingDir one grading's attempts.
func (s *Store) cohortDir(cohortID int64) string {
	return filepath.Join(s.dataDir, "cohort-"+strconv.FormatInt(cohortID, 10))
}

func (s *Store) gradingDir(cohortID, gradingID int64) string {
	return filepath.Join(s.cohortDir(cohortID), "grading-"+strconv.FormatInt(gradingID, 10))
}

func (s *Store) attemptDir(cohortID, gradingID int64, attempt int) string {
	return filepath.Join(s.gradingDir(cohortID, gradingID), "attempt-"+strconv.Itoa(attempt))
}

// Heartbeat renews the worker's lease on a grading it holds.
func (s *Store) Heartbeat(ctx context.Context, t Ticket, lease time.Duration) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE gradings SET lease_until = ? + ?
			WHERE id = ? AND worker = ? AND attempts = ? AND status = 'running'`,
			millis(s.now()), lease.Milliseconds(), t.ID, t.Worker, t.Attempt)
		return held(res, err)
	})
	if err != nil {
		return fmt.Errorf("heartbeat grading %d: %w", t.ID, err)
	}
	return nil
}

// held turns an update guarded by the ticket into ErrLeaseLost when it changed nothing.
func held(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Fail records that the worker's attempt failed. An infrastructure failure (infra) is queued
// again after a backoff while attempts are left, else the grading is Failed; a candidate's
// failure (a source that does not exist, say) is the grading's result: Done, never retried.
// It returns the grading's new status.
func (s *Store) Fail(ctx context.Context, t Ticket, cause error, infra bool) (Status, error) {
	msg := "unknown error"
	if cause != nil {
		msg = cause.Error()
	}
	now := s.now()
	status := Done
	query := `UPDATE gradings SET status = 'done', candidate_failure = ?1, ended_at = ?2, lease_until = NULL
		WHERE id = ?3 AND worker = ?4 AND attempts = ?5 AND status = 'running'`
	args := []any{msg, millis(now), t.ID, t.Worker, t.Attempt}
	if infra {
		status = Queued
		if t.Attempt >= s.maxAttempts {
			status = Failed
		}
		query = `UPDATE gradings SET status = ?6, last_error = ?1, ended_at = ?2, run_after = ?7, lease_until = NULL
			WHERE id = ?3 AND worker = ?4 AND attempts = ?5 AND status = 'running'`
		args = append(args, string(status), millis(now.Add(s.backoff(t.Attempt))))
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		return held(tx.ExecContext(ctx, query, args...))
	})
	if err != nil {
		return "", fmt.Errorf("record failure of grading %d: %w", t.ID, err)
	}
	return status, nil
}

// Progress is how far a cohort's grading is.
type Progress struct {
	Queued, Running, Done, Failed int
	// CandidateFailures counts the Done gradings whose result is the candidate's own failure.
	CandidateFailures int
	// MeanGrading is the mean time a Done grading took (its last attempt), for an ETA: zero
	// until one is done.
	MeanGrading time.Duration
	// NextDue is the earliest time a queued grading's backoff ends or a running one's lease
	// runs out (zero when there is none): when Claim may next find work.
	NextDue time.Time
}

// Progress counts a cohort's gradings by status.
func (s *Store) Progress(ctx context.Context, cohort string) (Progress, error) {
	var p Progress
	var mean sql.NullFloat64
	var due sql.NullInt64
	cohortID, err := lookupCohort(ctx, s.reader, cohort)
	if err == nil {
		err = s.reader.QueryRowContext(ctx, `SELECT
			count(*) FILTER (WHERE status = 'queued'),
			count(*) FILTER (WHERE status = 'running'),
			count(*) FILTER (WHERE status = 'done'),
			count(*) FILTER (WHERE status = 'failed'),
			count(*) FILTER (WHERE status = 'done' AND candidate_failure IS NOT NULL),
			avg(ended_at - started_at) FILTER (WHERE status = 'done'),
			min(CASE status WHEN 'queued' THEN run_after WHEN 'running' THEN lease_until END)
			FROM gradings WHERE cohort_id = ?`, cohortID).
			Scan(&p.Queued, &p.Running, &p.Done, &p.Failed, &p.CandidateFailures, &mean, &due)
	}
	if err != nil {
		return Progress{}, fmt.Errorf("progress of cohort %s: %w", cohort, err)
	}
	if mean.Valid {
		p.MeanGrading = time.Duration(mean.Float64 * float64(time.Millisecond))
	}
	p.NextDue = fromMillis(due)
	return p, nil
}
