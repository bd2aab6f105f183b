package store

// GitHub (migration 0002): a cohort's GitHub settings, the repository rostered for each
// candidate, the webhook's deliveries (Record is a webhook.Recorder) and the pushes they bring,
// the feedback queue (claimed like the gradings), and the deadline's freeze of each repository.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/itsm-grader/grader/grader/webhook"
)

// A cohort's feedback modes (feedback.Mode's values), which are also the kinds of feedback job:
// a receipt says whether a commit builds; a full report posts a grading's report.
const (
	FeedbackNone    = "none"
	FeedbackReceipt = "receipt"
	FeedbackFull    = "full"
)

// What a finished feedback job posted.
const (
	PostedCheckRun = "check_run"
	PostedStatus   = "status"
	// PostedNothing: there was nothing to post (the grading is the candidate's own failure,
	// without a report).
	PostedNothing = "nothing"
)

// Store.Record takes the webhook's deliveries.
var _ webhook.Recorder = (*Store)(nil)

// ErrBeforeDeadline: a freeze asked for before the cohort's deadline.
var ErrBeforeDeadline = errors.New("the deadline has not passed")

// maxPayload caps what is kept of a delivery's payload: a push with 20 commits and their file
// lists is a few tens of kB.
const maxPayload = 64 << 10

// GitHubSettings are a cohort's GitHub settings.
type GitHubSettings struct {
	// Feedback is FeedbackNone ("" too), FeedbackReceipt or FeedbackFull: what a push before
	// the deadline queues (nothing, a receipt, a grading whose report is posted).
	Feedback string
	// IncludeLate grades pushes received after the deadline too (never with feedback).
	IncludeLate bool
	// RulesVersion is the rules the gradings that pushes and the freeze queue are judged by
	// (judge.RulesVersion of the grader that grades them).
	RulesVersion string
}

func (g *GitHubSettings) validate() error {
	if g.Feedback == "" {
		g.Feedback = FeedbackNone
	}
	switch {
	case g.Feedback != FeedbackNone && g.Feedback != FeedbackReceipt && g.Feedback != FeedbackFull:
		return fmt.Errorf("%w: feedback %q (want none, receipt or full)", ErrInvalid, g.Feedback)
	case g.RulesVersion == "":
		return fmt.Errorf("%w: the rules version is required", ErrInvalid)
	}
	return nil
}

// ConfigureGitHub records the cohort (if new) and sets its GitHub settings.
func (s *Store) ConfigureGitHub(ctx context.Context, cohort string, set GitHubSettings) error {
	if err := set.validate(); err != nil {
		return fmt.Errorf("configure cohort %s for GitHub: %w", cohort, err)
	}
	if cohort == "" {
		return fmt.Errorf("configure cohort for GitHub: %w: empty name", ErrInvalid)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, err := upsertID(ctx, tx, `INSERT INTO cohorts (name, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING`,
			`SELECT id FROM cohorts WHERE name = ?1`, cohort, millis(s.now()))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO github_cohorts (cohort_id, feedback, include_late, rules_version)
			VALUES (?, ?, ?, ?) ON CONFLICT (cohort_id) DO UPDATE
			SET feedback = excluded.feedback, include_late = excluded.include_late, rules_version = excluded.rules_version`,
			id, set.Feedback, set.IncludeLate, set.RulesVersion)
		return err
	})
	if err != nil {
		return fmt.Errorf("configure cohort %s for GitHub: %w", cohort, err)
	}
	return nil
}

// SetGitHubRulesVersion makes every GitHub cohort queue its next gradings for rules (a grader
// that starts serving the webhook judges by its own rules); it returns how many changed.
func (s *Store) SetGitHubRulesVersion(ctx context.Context, rules string) (int64, error) {
	if rules == "" {
		return 0, fmt.Errorf("set GitHub rules version: %w: empty", ErrInvalid)
	}
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE github_cohorts SET rules_version = ? WHERE rules_version <> ?`, rules, rules)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("set GitHub rules version: %w", err)
	}
	return n, nil
}

// GitHubCohort is a cohort with GitHub settings, as listed.
type GitHubCohort struct {
	Name     string
	Deadline time.Time // zero: none
	GitHubSettings
}

// GitHubCohorts lists the cohorts that have GitHub settings, by name.
func (s *Store) GitHubCohorts(ctx context.Context) ([]GitHubCohort, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT co.name, co.deadline, gc.feedback, gc.include_late, gc.rules_version
		FROM github_cohorts gc JOIN cohorts co ON co.id = gc.cohort_id ORDER BY co.name`)
	if err != nil {
		return nil, fmt.Errorf("list GitHub cohorts: %w", err)
	}
	defer rows.Close()
	var out []GitHubCohort
	for rows.Next() {
		var c GitHubCohort
		var deadline sql.NullInt64
		if err := rows.Scan(&c.Name, &deadline, &c.Feedback, &c.IncludeLate, &c.RulesVersion); err != nil {
			return nil, fmt.Errorf("list GitHub cohorts: %w", err)
		}
		c.Deadline = fromMillis(deadline)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list GitHub cohorts: %w", err)
	}
	return out, nil
}

// GitHubRepository is a candidate's repository: OWNER/REPO on Host (github.com, or a GitHub
// Enterprise host), and the track the roster gives ("" or TrackUnknown: what SUBMISSION.md
// declares, learnt from the grading's report).
type GitHubRepository struct {
	Host, Owner, Repo string
	Track             string
}

// FullName is OWNER/REPO.
func (r GitHubRepository) FullName() string { return r.Owner + "/" + r.Repo }

// Source is the repository at commit sha as `grader grade` takes it: HOST/OWNER/REPO@SHA.
func (r GitHubRepository) Source(sha string) string {
	return r.Host + "/" + r.FullName() + "@" + sha
}

func (r *GitHubRepository) validate() error {
	if r.Track == "" {
		r.Track = TrackUnknown
	}
	switch {
	case r.Host == "" || r.Owner == "" || r.Repo == "":
		return fmt.Errorf("%w: a repository needs a host, an owner and a name", ErrInvalid)
	case strings.ContainsAny(r.Owner+r.Repo, "/@ "):
		return fmt.Errorf("%w: repository %q: an owner or a name holds '/', '@' or a space", ErrInvalid, r.FullName())
	case r.Track != TrackAI && r.Track != TrackManual && r.Track != TrackUnknown:
		return fmt.Errorf("%w: track %q", ErrInvalid, r.Track)
	}
	return nil
}

// RosterRepository records the candidate (if new) in a cohort that has GitHub settings, and the
// repository they hand in through. A candidate has one repository: rostering another replaces
// it, unless it was frozen already. A repository belongs to one candidate of a cohort.
func (s *Store) RosterRepository(ctx context.Context, cohort, candidate string, r GitHubRepository) error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("roster %s for %s/%s: %w", r.FullName(), cohort, candidate, err)
	}
	if candidate == "" {
		return fmt.Errorf("roster %s in %s: %w: empty candidate name", r.FullName(), cohort, ErrInvalid)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var cohortID int64
		err := tx.QueryRowContext(ctx, `SELECT co.id FROM cohorts co JOIN github_cohorts gc ON gc.cohort_id = co.id
			WHERE co.name = ?`, cohort).Scan(&cohortID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("cohort %q has no GitHub settings: %w", cohort, ErrNotFound)
		}
		if err != nil {
			return err
		}
		candidateID, err := upsertID(ctx, tx, `INSERT INTO candidates (cohort_id, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING`,
			`SELECT id FROM candidates WHERE cohort_id = ?1 AND name = ?2`, cohortID, candidate)
		if err != nil {
			return err
		}
		return s.rosterIn(ctx, tx, cohortID, candidateID, r)
	})
	if err != nil {
		return fmt.Errorf("roster %s for %s/%s: %w", r.FullName(), cohort, candidate, err)
	}
	return nil
}

func (s *Store) rosterIn(ctx context.Context, tx *sql.Tx, cohortID, candidateID int64, r GitHubRepository) error {
	var other string
	err := tx.QueryRowContext(ctx, `SELECT c.name FROM github_repositories r JOIN candidates c ON c.id = r.candidate_id
		WHERE r.cohort_id = ? AND r.repo_key = lower(? || '/' || ?) AND r.candidate_id <> ?`,
		cohortID, r.Owner, r.Repo, candidateID).Scan(&other)
	if err == nil {
		return fmt.Errorf("%w: the repository is already candidate %q's", ErrInvalid, other)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var frozenKey sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT repo_key FROM github_repositories WHERE candidate_id = ? AND frozen_at IS NOT NULL`,
		candidateID).Scan(&frozenKey)
	if err == nil && frozenKey.String != strings.ToLower(r.FullName()) {
		return fmt.Errorf("%w: the candidate's repository %s was frozen at the deadline already", ErrInvalid, frozenKey.String)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO github_repositories (cohort_id, candidate_id, host, owner, repo, repo_key, track, rostered_at)
		VALUES (?1, ?2, ?3, ?4, ?5, lower(?4 || '/' || ?5), ?6, ?7)
		ON CONFLICT (candidate_id) DO UPDATE SET host = excluded.host, owner = excluded.owner, repo = excluded.repo,
			repo_key = excluded.repo_key, track = excluded.track,
			default_branch = CASE WHEN repo_key = excluded.repo_key THEN default_branch ELSE '' END`,
		cohortID, candidateID, r.Host, r.Owner, r.Repo, r.Track, millis(s.now()))
	return err
}

// Record records a webhook delivery and what it causes, in one transaction, and reports fresh =
// false, doing nothing, for a delivery id it holds already (a redelivery). A push to a rostered
// repository's default branch (as the payload names it) records the push, late when received
// after the cohort's deadline; before the deadline it queues what the cohort's feedback says (a
// receipt; or a grading of the pushed commit and the posting of its report), after it nothing,
// or the grading alone when the cohort includes late pushes. Installation events keep the App's
// repository list. Nothing here waits for the network: it is one short write.
func (s *Store) Record(ctx context.Context, d webhook.Delivery) (bool, error) {
	if d.ID == "" || d.Event == "" {
		return false, fmt.Errorf("record delivery: %w: a delivery id and an event are required", ErrInvalid)
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = s.now()
	}
	var fresh bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		repos, err := rosteredAs(ctx, tx, d.Repository)
		if err != nil {
			return fmt.Errorf("rostered repositories: %w", err)
		}
		keep := d.Event != webhook.EventPush || len(repos) > 0
		if fresh, err = insertDelivery(ctx, tx, d, keep); err != nil || !fresh {
			return err
		}
		switch d.Event {
		case webhook.EventPush:
			return s.recordPush(ctx, tx, d, repos)
		case webhook.EventInstallation, webhook.EventInstallationRepositories:
			return recordInstallation(ctx, tx, d)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record delivery %s: %w", d.ID, err)
	}
	return fresh, nil
}

// insertDelivery inserts the delivery unless its id is recorded; fresh says it was not.
func insertDelivery(ctx context.Context, tx *sql.Tx, d webhook.Delivery, keepPayload bool) (bool, error) {
	var payload []byte
	if keepPayload {
		payload = d.Payload[:min(len(d.Payload), maxPayload)]
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO github_deliveries
		(delivery_id, event, action, installation, repo_key, ref, sha, received_at, payload, payload_bytes)
		VALUES (?, ?, ?, ?, lower(?), ?, ?, ?, ?, ?) ON CONFLICT (delivery_id) DO NOTHING RETURNING id`,
		d.ID, d.Event, d.Action, d.Installation, d.Repository, d.Ref, d.SHA, millis(d.ReceivedAt), payload, len(d.Payload)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delivery: %w", err)
	}
	return true, nil
}

// rosteredRepo is a rostered repository with what a push to it needs.
type rosteredRepo struct {
	id                int64
	cohort, candidate string
	repo              GitHubRepository
	defaultBranch     string
	deadline          sql.NullInt64
	feedback          string
	includeLate       bool
	rules             string
	frozenSHA         sql.NullString
}

// rosteredAs lists the rostered repositories named fullName (one per cohort rostering it).
func rosteredAs(ctx context.Context, tx *sql.Tx, fullName string) ([]rosteredRepo, error) {
	if fullName == "" {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT r.id, co.name, c.name, r.host, r.owner, r.repo, r.track, r.default_branch,
			co.deadline, gc.feedback, gc.include_late, gc.rules_version, r.frozen_sha
		FROM github_repositories r JOIN cohorts co ON co.id = r.cohort_id JOIN candidates c ON c.id = r.candidate_id
		JOIN github_cohorts gc ON gc.cohort_id = r.cohort_id
		WHERE r.repo_key = lower(?) ORDER BY r.id`, fullName)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rosteredRepo
	for rows.Next() {
		var r rosteredRepo
		err := rows.Scan(&r.id, &r.cohort, &r.candidate, &r.repo.Host, &r.repo.Owner, &r.repo.Repo, &r.repo.Track,
			&r.defaultBranch, &r.deadline, &r.feedback, &r.includeLate, &r.rules, &r.frozenSHA)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// pushPayload is what Record reads of a push's payload beyond webhook.Delivery.
type pushPayload struct {
	Before     string `json:"before"`
	Repository struct {
		DefaultBranch string          `json:"default_branch"`
		PushedAt      json.RawMessage `json:"pushed_at"`
	} `json:"repository"`
}

// pushedAt is GitHub's time of the push: a push event gives it in Unix seconds (other events
// as a timestamp); NULL when absent.
func (p pushPayload) pushedAt() sql.NullInt64 {
	raw := bytes.TrimSpace(p.Repository.PushedAt)
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil && n > 0 {
		return sql.NullInt64{Int64: n * 1000, Valid: true}
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		if t, err := time.Parse(time.RFC3339, text); err == nil {
			return sql.NullInt64{Int64: millis(t), Valid: true}
		}
	}
	return sql.NullInt64{}
}

func (s *Store) recordPush(ctx context.Context, tx *sql.Tx, d webhook.Delivery, repos []rosteredRepo) error {
	if len(repos) == 0 {
		return nil
	}
	var p pushPayload
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		return fmt.Errorf("%w: push payload: %w", ErrInvalid, err)
	}
	for _, r := range repos {
		branch := p.Repository.DefaultBranch
		if branch == "" {
			branch = r.defaultBranch
		}
		if branch == "" || d.Ref != "refs/heads/"+branch {
			continue
		}
		if err := s.recordRepoPush(ctx, tx, r, d, p, branch); err != nil {
			return fmt.Errorf("push to %s in cohort %s: %w", r.repo.FullName(), r.cohort, err)
		}
	}
	return nil
}

// recordRepoPush records a push to r's default branch and queues what it calls for.
func (s *Store) recordRepoPush(ctx context.Context, tx *sql.Tx, r rosteredRepo, d webhook.Delivery, p pushPayload, branch string) error {
	received := millis(d.ReceivedAt)
	late := r.deadline.Valid && received > r.deadline.Int64
	var pushID int64
	err := tx.QueryRowContext(ctx, `INSERT INTO github_pushes
		(repository_id, delivery_id, ref, before_sha, sha, deleted, received_at, pushed_at, late)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.id, d.ID, d.Ref, p.Before, d.SHA, d.Deleted, received, p.pushedAt(), late).Scan(&pushID)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE github_repositories SET default_branch = ? WHERE id = ?`, branch, r.id); err != nil {
		return err
	}
	if late && d.SHA != "" && r.frozenSHA.Valid && r.frozenSHA.String == d.SHA {
		note := fmt.Sprintf("a push received after the deadline (%s, delivery %s) points at the frozen commit: check that it was on the branch at the deadline",
			d.ReceivedAt.UTC().Format(time.RFC3339), d.ID)
		if _, err := tx.ExecContext(ctx, `UPDATE github_repositories SET freeze_note = trim(coalesce(freeze_note, '') || ' ' || ?) WHERE id = ?`, note, r.id); err != nil {
			return err
		}
	}
	if d.Deleted || d.SHA == "" {
		return nil
	}
	return s.queueForPush(ctx, tx, r, d, pushID, late)
}

// queueForPush queues what a push calls for: before the deadline, what the cohort's feedback
// says; after it, the grading alone if the cohort includes late pushes.
func (s *Store) queueForPush(ctx context.Context, tx *sql.Tx, r rosteredRepo, d webhook.Delivery, pushID int64, late bool) error {
	grade := (!late && r.feedback == FeedbackFull) || (late && r.includeLate)
	var gradingID sql.NullInt64
	if grade {
		id, err := s.queueGrading(ctx, tx, r, d.SHA, d.ReceivedAt)
		if err != nil {
			return err
		}
		gradingID = sql.NullInt64{Int64: id, Valid: true}
		if _, err := tx.ExecContext(ctx, `UPDATE github_pushes SET grading_id = ? WHERE id = ?`, id, pushID); err != nil {
			return err
		}
	}
	if late || r.feedback == FeedbackNone {
		return nil
	}
	now := millis(s.now())
	_, err := tx.ExecContext(ctx, `INSERT INTO github_feedback
		(repository_id, kind, sha, installation, received_at, grading_id, enqueued_at, run_after)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT DO NOTHING`,
		r.id, r.feedback, d.SHA, d.Installation, millis(d.ReceivedAt), gradingID, now)
	if err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	return nil
}

// queueGrading queues the grading of r at sha (the content is the commit: its hash is
// "commit:SHA") unless it is queued or graded by these rules already, and returns its id.
func (s *Store) queueGrading(ctx context.Context, tx *sql.Tx, r rosteredRepo, sha string, received time.Time) (int64, error) {
	e := Entry{
		Cohort: r.cohort, Candidate: r.candidate, Source: r.repo.Source(sha), Commit: sha,
		ContentHash: "commit:" + sha, Track: r.repo.Track, RulesVersion: r.rules, ReceivedAt: received,
	}
	if err := e.validate(); err != nil {
		return 0, err
	}
	id, _, err := s.enqueue(ctx, tx, e)
	if err != nil {
		return 0, fmt.Errorf("queue the grading of %s: %w", e.Source, err)
	}
	return id, nil
}

// recordInstallation keeps the App's repository list: an installation created adds its
// repositories, one deleted takes all of its own away, installation_repositories adds and
// removes; other actions (suspend, unsuspend, new permissions) change nothing.
func recordInstallation(ctx context.Context, tx *sql.Tx, d webhook.Delivery) error {
	if d.Installation <= 0 {
		return fmt.Errorf("%w: an installation event without an installation id", ErrInvalid)
	}
	if d.Event == webhook.EventInstallation && d.Action == "deleted" {
		_, err := tx.ExecContext(ctx, `DELETE FROM github_installation_repositories WHERE installation = ?`, d.Installation)
		return err
	}
	for _, name := range d.Added {
		_, err := tx.ExecContext(ctx, `INSERT INTO github_installation_repositories (installation, repo_key, full_name, added_at)
			VALUES (?, lower(?), ?, ?) ON CONFLICT DO UPDATE SET full_name = excluded.full_name`,
			d.Installation, name, name, millis(d.ReceivedAt))
		if err != nil {
			return fmt.Errorf("installation %d: add %s: %w", d.Installation, name, err)
		}
	}
	for _, name := range d.Removed {
		_, err := tx.ExecContext(ctx, `DELETE FROM github_installation_repositories WHERE installation = ? AND repo_key = lower(?)`,
			d.Installation, name)
		if err != nil {
			return fmt.Errorf("installation %d: remove %s: %w", d.Installation, name, err)
		}
	}
	return nil
}

// InstallationRepositories lists the repositories ("owner/name", as GitHub spelled them) the
// App's installation holds, as its events said, by name.
func (s *Store) InstallationRepositories(ctx context.Context, installation int64) ([]string, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT full_name FROM github_installation_repositories
		WHERE installation = ? ORDER BY repo_key`, installation)
	if err != nil {
		return nil, fmt.Errorf("repositories of installation %d: %w", installation, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("repositories of installation %d: %w", installation, err)
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// FeedbackJob is a claimed feedback job: what to post, on which commit.
type FeedbackJob struct {
	Ticket
	Cohort, Candidate string
	// Kind is FeedbackReceipt or FeedbackFull.
	Kind string
	Repo GitHubRepository
	SHA  string
	// Installation is the App installation the push came through (0: none known).
	Installation int64
	// ReceivedAt is the server time the push was received, which a receipt states.
	ReceivedAt time.Time
	// GradingID is the grading whose report a full job posts (Done when claimed).
	GradingID int64
}

// claimFeedbackSQL takes one feedback job: queued and due, or running under a lease that ran
// out with attempts left; a full report only once its grading is done.
const claimFeedbackSQL = `UPDATE github_feedback
SET status = 'running', attempts = attempts + 1, worker = ?1, lease_until = ?2 + ?3, ended_at = NULL
WHERE id = (
    SELECT f.id FROM github_feedback f LEFT JOIN gradings g ON g.id = f.grading_id
    WHERE ((f.status = 'queued' AND f.run_after <= ?2)
        OR (f.status = 'running' AND f.lease_until < ?2 AND f.attempts < ?4))
      AND (f.kind = 'receipt' OR g.status = 'done')
    ORDER BY f.run_after, f.id
    LIMIT 1)
RETURNING id, attempts`

// The jobs no worker will ever post: a lease that ran out on the last attempt, and a full
// report whose grading failed.
const (
	abandonFeedbackSQL = `UPDATE github_feedback
SET status = 'failed', ended_at = ?1, lease_until = NULL,
    last_error = 'abandoned: the worker of attempt ' || attempts || ' stopped renewing its lease (killed or hung), and no attempt is left'
WHERE status = 'running' AND lease_until < ?1 AND attempts >= ?2`
	orphanFeedbackSQL = `UPDATE github_feedback
SET status = 'failed', ended_at = ?1, last_error = 'the grading failed for the grader''s reasons: there is no report to post'
WHERE kind = 'full' AND status = 'queued' AND grading_id IN (SELECT id FROM gradings WHERE status = 'failed')`
)

// ClaimFeedback takes the next feedback job of any cohort for the worker, leased for lease
// (renew it with HeartbeatFeedback). ok is false when none is due.
func (s *Store) ClaimFeedback(ctx context.Context, worker string, lease time.Duration) (job FeedbackJob, ok bool, err error) {
	if worker == "" || lease <= 0 {
		return FeedbackJob{}, false, fmt.Errorf("claim feedback: %w: a worker name and a positive lease are required", ErrInvalid)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		now := millis(s.now())
		for _, q := range []string{abandonFeedbackSQL, orphanFeedbackSQL} {
			if _, err := tx.ExecContext(ctx, q, now, s.maxAttempts); err != nil {
				return fmt.Errorf("fail the hopeless: %w", err)
			}
		}
		err := tx.QueryRowContext(ctx, claimFeedbackSQL, worker, now, lease.Milliseconds(), s.maxAttempts).Scan(&job.ID, &job.Attempt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		ok, job.Worker = true, worker
		return describeFeedback(ctx, tx, &job)
	})
	if err != nil {
		return FeedbackJob{}, false, fmt.Errorf("claim feedback: %w", err)
	}
	return job, ok, nil
}

func describeFeedback(ctx context.Context, tx *sql.Tx, job *FeedbackJob) error {
	var received int64
	var grading sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT co.name, c.name, f.kind, r.host, r.owner, r.repo, r.track, f.sha,
			f.installation, f.received_at, f.grading_id
		FROM github_feedback f JOIN github_repositories r ON r.id = f.repository_id
		JOIN candidates c ON c.id = r.candidate_id JOIN cohorts co ON co.id = r.cohort_id
		WHERE f.id = ?`, job.ID).
		Scan(&job.Cohort, &job.Candidate, &job.Kind, &job.Repo.Host, &job.Repo.Owner, &job.Repo.Repo, &job.Repo.Track,
			&job.SHA, &job.Installation, &received, &grading)
	if err != nil {
		return fmt.Errorf("read claimed feedback job %d: %w", job.ID, err)
	}
	job.ReceivedAt, job.GradingID = time.UnixMilli(received).UTC(), grading.Int64
	return nil
}

// HeartbeatFeedback renews the worker's lease on a feedback job it holds.
func (s *Store) HeartbeatFeedback(ctx context.Context, t Ticket, lease time.Duration) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return held(tx.ExecContext(ctx, `UPDATE github_feedback SET lease_until = ? + ?
			WHERE id = ? AND worker = ? AND attempts = ? AND status = 'running'`,
			millis(s.now()), lease.Milliseconds(), t.ID, t.Worker, t.Attempt))
	})
	if err != nil {
		return fmt.Errorf("heartbeat feedback job %d: %w", t.ID, err)
	}
	return nil
}

// FinishFeedback records the worker's feedback job as Done: posted is PostedCheckRun (with the
// check run's id), PostedStatus or PostedNothing.
func (s *Store) FinishFeedback(ctx context.Context, t Ticket, posted string, checkRunID int64) error {
	if posted != PostedCheckRun && posted != PostedStatus && posted != PostedNothing {
		return fmt.Errorf("finish feedback job %d: %w: posted %q", t.ID, ErrInvalid, posted)
	}
	run := sql.NullInt64{Int64: checkRunID, Valid: checkRunID != 0}
	err := s.write(ctx, func(tx *sql.Tx) error {
		return held(tx.ExecContext(ctx, `UPDATE github_feedback
			SET status = 'done', posted = ?, check_run_id = ?, ended_at = ?, lease_until = NULL
			WHERE id = ? AND worker = ? AND attempts = ? AND status = 'running'`,
			posted, run, millis(s.now()), t.ID, t.Worker, t.Attempt))
	})
	if err != nil {
		return fmt.Errorf("finish feedback job %d: %w", t.ID, err)
	}
	return nil
}

// FailFeedback records that the worker's attempt failed: with retry, it is queued again after a
// backoff while attempts are left, else (and without retry: a failure no retry mends, such as
// check runs being forbidden) it is Failed. It returns the job's new status.
func (s *Store) FailFeedback(ctx context.Context, t Ticket, cause error, retry bool) (Status, error) {
	msg := "unknown error"
	if cause != nil {
		msg = cause.Error()
	}
	now := s.now()
	status := Failed
	if retry && t.Attempt < s.maxAttempts {
		status = Queued
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		return held(tx.ExecContext(ctx, `UPDATE github_feedback
			SET status = ?, last_error = ?, ended_at = ?, run_after = ?, lease_until = NULL
			WHERE id = ? AND worker = ? AND attempts = ? AND status = 'running'`,
			string(status), msg, millis(now), millis(now.Add(s.backoff(t.Attempt))), t.ID, t.Worker, t.Attempt))
	})
	if err != nil {
		return "", fmt.Errorf("record failure of feedback job %d: %w", t.ID, err)
	}
	return status, nil
}

// FeedbackState is a feedback job as listed.
type FeedbackState struct {
	Candidate  string
	Kind       string
	SHA        string
	Status     Status
	Attempts   int
	Posted     string
	CheckRunID int64
	LastError  string
}

// FeedbackJobs lists a cohort's feedback jobs in the order they were queued.
func (s *Store) FeedbackJobs(ctx context.Context, cohort string) ([]FeedbackState, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT c.name, f.kind, f.sha, f.status, f.attempts,
			coalesce(f.posted, ''), coalesce(f.check_run_id, 0), coalesce(f.last_error, '')
		FROM github_feedback f JOIN github_repositories r ON r.id = f.repository_id
		JOIN candidates c ON c.id = r.candidate_id JOIN cohorts co ON co.id = r.cohort_id
		WHERE co.name = ? ORDER BY f.id`, cohort)
	if err != nil {
		return nil, fmt.Errorf("feedback of cohort %s: %w", cohort, err)
	}
	defer rows.Close()
	var out []FeedbackState
	for rows.Next() {
		var f FeedbackState
		if err := rows.Scan(&f.Candidate, &f.Kind, &f.SHA, &f.Status, &f.Attempts, &f.Posted, &f.CheckRunID, &f.LastError); err != nil {
			return nil, fmt.Errorf("feedback of cohort %s: %w", cohort, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// FreezeTarget is a rostered repository whose head at the deadline is yet to be recorded.
type FreezeTarget struct {
	RepositoryID int64
	Candidate    string
	Repo         GitHubRepository
	// Attempts counts the freezes of it that failed.
	Attempts int
}

// FreezeTargets returns the cohort's deadline and its repositories not yet frozen whose next
// try is due at at. A cohort without a deadline is ErrInvalid; at before the deadline is
// ErrBeforeDeadline: a freeze must never cut a candidate's time.
func (s *Store) FreezeTargets(ctx context.Context, cohort string, at time.Time) (time.Time, []FreezeTarget, error) {
	var deadline time.Time
	var out []FreezeTarget
	err := s.read(ctx, func(tx *sql.Tx) error {
		var cohortID int64
		var dl sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT id, deadline FROM cohorts WHERE name = ?`, cohort).Scan(&cohortID, &dl)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("cohort %q: %w", cohort, ErrNotFound)
		case err != nil:
			return err
		case !dl.Valid:
			return fmt.Errorf("%w: the cohort has no deadline", ErrInvalid)
		case millis(at) < dl.Int64:
			return fmt.Errorf("%w: it is %s and the deadline is %s", ErrBeforeDeadline, at.UTC().Format(time.RFC3339), fromMillis(dl).Format(time.RFC3339))
		}
		deadline = fromMillis(dl)
		out, err = freezeTargets(ctx, tx, cohortID, millis(at))
		return err
	})
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("freeze targets of cohort %s: %w", cohort, err)
	}
	return deadline, out, nil
}

func freezeTargets(ctx context.Context, tx *sql.Tx, cohortID, at int64) ([]FreezeTarget, error) {
	rows, err := tx.QueryContext(ctx, `SELECT r.id, c.name, r.host, r.owner, r.repo, r.track, r.freeze_attempts
		FROM github_repositories r JOIN candidates c ON c.id = r.candidate_id
		WHERE r.cohort_id = ? AND r.frozen_at IS NULL AND r.freeze_after <= ? ORDER BY c.name`, cohortID, at)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FreezeTarget
	for rows.Next() {
		var t FreezeTarget
		if err := rows.Scan(&t.RepositoryID, &t.Candidate, &t.Repo.Host, &t.Repo.Owner, &t.Repo.Repo, &t.Repo.Track, &t.Attempts); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// FreezeHead is a repository's default branch and its head as GitHub's server reported it.
type FreezeHead struct {
	Branch string
	SHA    string
	// ResolvedAt is the grader's clock when GitHub answered.
	ResolvedAt time.Time
}

// Frozen is what a freeze recorded of a repository.
type Frozen struct {
	// SHA is the head at the deadline, which is graded; "" when the default branch did not
	// exist at the deadline (nothing is graded).
	SHA       string
	GradingID int64
	// LatePushes counts the pushes received after the deadline and before the freeze that the
	// freeze went back over to find the head at the deadline.
	LatePushes int
	// Note says what a reviewer should know (pushes that may be missing, a freeze long after the
	// deadline); "" when there is nothing to say.
	Note string
	At   time.Time
}

// lateFreezeGrace is how long after the deadline GitHub may be asked for a head before the
// freeze says so: a freeze that late may include pushes the webhook did not hear of.
const lateFreezeGrace = time.Minute

// FreezeRepository records the repository's head at the deadline and queues its grading (source
// HOST/OWNER/REPO@SHA), in one transaction; freezing a frozen repository returns what was
// recorded. The head is GitHub's answer, unless the webhook recorded pushes to the branch after
// the deadline: then it is what the first of them moved the branch from (the head GitHub
// reported may include them). The graded submission counts as received at the freeze, so it is
// the candidate's latest before any late push.
func (s *Store) FreezeRepository(ctx context.Context, repositoryID int64, head FreezeHead) (Frozen, error) {
	if head.Branch == "" || head.ResolvedAt.IsZero() {
		return Frozen{}, fmt.Errorf("freeze repository %d: %w: the branch and the time GitHub answered are required", repositoryID, ErrInvalid)
	}
	var out Frozen
	err := s.write(ctx, func(tx *sql.Tx) error {
		r, rosteredAt, frozen, err := freezable(ctx, tx, repositoryID)
		if err != nil || frozen != nil {
			if frozen != nil {
				out = *frozen
			}
			return err
		}
		if out, err = headAtDeadline(ctx, tx, r, head); err != nil {
			return err
		}
		out.Note = joinNotes(out.Note, freezeTimingNote(r, rosteredAt, head.ResolvedAt))
		return s.recordFreeze(ctx, tx, r, head, &out)
	})
	if err != nil {
		return Frozen{}, fmt.Errorf("freeze repository %d: %w", repositoryID, err)
	}
	return out, nil
}

// freezable reads the repository to freeze, or what its freeze recorded.
func freezable(ctx context.Context, tx *sql.Tx, repositoryID int64) (rosteredRepo, time.Time, *Frozen, error) {
	var r rosteredRepo
	var rostered int64
	var frozenAt sql.NullInt64
	var grading sql.NullInt64
	var note sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT r.id, co.name, c.name, r.host, r.owner, r.repo, r.track, co.deadline,
			gc.feedback, gc.include_late, gc.rules_version, r.rostered_at, r.frozen_at, r.frozen_sha, r.frozen_grading_id, r.freeze_note
		FROM github_repositories r JOIN cohorts co ON co.id = r.cohort_id JOIN candidates c ON c.id = r.candidate_id
		JOIN github_cohorts gc ON gc.cohort_id = r.cohort_id WHERE r.id = ?`, repositoryID).
		Scan(&r.id, &r.cohort, &r.candidate, &r.repo.Host, &r.repo.Owner, &r.repo.Repo, &r.repo.Track, &r.deadline,
			&r.feedback, &r.includeLate, &r.rules, &rostered, &frozenAt, &r.frozenSHA, &grading, &note)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return r, time.Time{}, nil, ErrNotFound
	case err != nil:
		return r, time.Time{}, nil, err
	case !r.deadline.Valid:
		return r, time.Time{}, nil, fmt.Errorf("%w: cohort %s has no deadline", ErrInvalid, r.cohort)
	case frozenAt.Valid:
		return r, time.Time{}, &Frozen{SHA: r.frozenSHA.String, GradingID: grading.Int64, Note: note.String, At: fromMillis(frozenAt)}, nil
	}
	return r, time.UnixMilli(rostered).UTC(), nil, nil
}

// headAtDeadline is the branch's head at the deadline: GitHub's answer when the webhook heard
// of no push to it after the deadline, else what the first such push moved it from.
func headAtDeadline(ctx context.Context, tx *sql.Tx, r rosteredRepo, head FreezeHead) (Frozen, error) {
	rows, err := tx.QueryContext(ctx, `SELECT before_sha, sha FROM github_pushes
		WHERE repository_id = ? AND ref = ? AND late = 1 ORDER BY received_at, id`, r.id, "refs/heads/"+head.Branch)
	if err != nil {
		return Frozen{}, err
	}
	defer rows.Close()
	var befores, afters []string
	for rows.Next() {
		var before, after string
		if err := rows.Scan(&before, &after); err != nil {
			return Frozen{}, err
		}
		befores, afters = append(befores, before), append(afters, after)
	}
	if err := rows.Err(); err != nil {
		return Frozen{}, err
	}
	if len(befores) == 0 {
		return Frozen{SHA: head.SHA}, nil
	}
	out := Frozen{SHA: befores[0], LatePushes: len(befores)}
	if strings.Trim(out.SHA, "0") == "" {
		out.SHA = ""
		out.Note = "the default branch did not exist at the deadline (the first push after it created it): nothing is graded"
	}
	if known := append([]string{befores[0]}, afters...); !slices.Contains(known, head.SHA) {
		out.Note = joinNotes(out.Note, fmt.Sprintf("GitHub reported %s at the freeze, which no push the webhook recorded after the deadline points at: a delivery may be missing; check the branch's history", head.SHA))
	}
	return out, nil
}

// freezeTimingNote says when the freeze may have taken in pushes the webhook did not hear of.
func freezeTimingNote(r rosteredRepo, rosteredAt, resolved time.Time) string {
	deadline := fromMillis(r.deadline)
	switch {
	case rosteredAt.After(deadline):
		return "rostered after the deadline: pushes before the rostering were not recorded, so the head taken may include late ones"
	case resolved.Sub(deadline) > lateFreezeGrace:
		return fmt.Sprintf("GitHub was asked %s after the deadline: a late push the webhook did not receive would be in the head taken", resolved.Sub(deadline).Round(time.Second))
	}
	return ""
}

func (s *Store) recordFreeze(ctx context.Context, tx *sql.Tx, r rosteredRepo, head FreezeHead, out *Frozen) error {
	out.At = head.ResolvedAt.UTC()
	var grading sql.NullInt64
	if out.SHA != "" {
		id, err := s.queueGrading(ctx, tx, r, out.SHA, head.ResolvedAt)
		if err != nil {
			return err
		}
		out.GradingID, grading = id, sql.NullInt64{Int64: id, Valid: true}
		_, err = tx.ExecContext(ctx, `UPDATE submissions SET received_at = max(received_at, ?)
			WHERE id = (SELECT submission_id FROM gradings WHERE id = ?)`, millis(head.ResolvedAt), id)
		if err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE github_repositories
		SET frozen_at = ?, frozen_sha = ?, frozen_grading_id = ?, freeze_note = nullif(?, ''), freeze_error = NULL, default_branch = ?
		WHERE id = ?`, millis(head.ResolvedAt), out.SHA, grading, out.Note, head.Branch, r.id)
	return err
}

// FreezeFailed records that a repository could not be frozen (GitHub unreachable, the
// repository gone) and when to try again.
func (s *Store) FreezeFailed(ctx context.Context, repositoryID int64, cause error, retryAt time.Time) error {
	msg := "unknown error"
	if cause != nil {
		msg = cause.Error()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE github_repositories
			SET freeze_error = ?, freeze_attempts = freeze_attempts + 1, freeze_after = ?
			WHERE id = ? AND frozen_at IS NULL`, msg, millis(retryAt), repositoryID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record the failed freeze of repository %d: %w", repositoryID, err)
	}
	return nil
}

// DueFreezes lists the GitHub cohorts whose deadline has passed at now with a repository left
// to freeze and due for a try, and the earliest later time one will be (zero: none).
func (s *Store) DueFreezes(ctx context.Context, now time.Time) ([]string, time.Time, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT co.name, max(co.deadline, min(r.freeze_after))
		FROM github_cohorts gc JOIN cohorts co ON co.id = gc.cohort_id JOIN github_repositories r ON r.cohort_id = co.id
		WHERE co.deadline IS NOT NULL AND r.frozen_at IS NULL
		GROUP BY co.id ORDER BY co.name`)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due freezes: %w", err)
	}
	defer rows.Close()
	var due []string
	var next time.Time
	for rows.Next() {
		var name string
		var at int64
		if err := rows.Scan(&name, &at); err != nil {
			return nil, time.Time{}, fmt.Errorf("due freezes: %w", err)
		}
		if at <= millis(now) {
			due = append(due, name)
			continue
		}
		if t := time.UnixMilli(at).UTC(); next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("due freezes: %w", err)
	}
	return due, next, nil
}

// RepositoryState is a rostered repository as listed: its freeze, and the pushes recorded.
type RepositoryState struct {
	Candidate string
	Repo      GitHubRepository
	// DefaultBranch as the last push or the freeze saw it ("" before either).
	DefaultBranch string
	FrozenAt      time.Time // zero: not frozen
	FrozenSHA     string
	FrozenGrading int64
	FreezeNote    string
	FreezeError   string
	Pushes, Late  int
	// Installation is an App installation whose events listed the repository (0: none).
	Installation int64
}

// GitHubRepositories lists a cohort's rostered repositories by candidate.
func (s *Store) GitHubRepositories(ctx context.Context, cohort string) ([]RepositoryState, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT c.name, r.host, r.owner, r.repo, r.track, r.default_branch,
			r.frozen_at, coalesce(r.frozen_sha, ''), coalesce(r.frozen_grading_id, 0), coalesce(r.freeze_note, ''),
			coalesce(r.freeze_error, ''),
			(SELECT count(*) FROM github_pushes p WHERE p.repository_id = r.id),
			(SELECT count(*) FROM github_pushes p WHERE p.repository_id = r.id AND p.late = 1),
			coalesce((SELECT min(i.installation) FROM github_installation_repositories i WHERE i.repo_key = r.repo_key), 0)
		FROM github_repositories r JOIN candidates c ON c.id = r.candidate_id JOIN cohorts co ON co.id = r.cohort_id
		WHERE co.name = ? ORDER BY c.name`, cohort)
	if err != nil {
		return nil, fmt.Errorf("repositories of cohort %s: %w", cohort, err)
	}
	defer rows.Close()
	var out []RepositoryState
	for rows.Next() {
		var r RepositoryState
		var frozen sql.NullInt64
		err := rows.Scan(&r.Candidate, &r.Repo.Host, &r.Repo.Owner, &r.Repo.Repo, &r.Repo.Track, &r.DefaultBranch,
			&frozen, &r.FrozenSHA, &r.FrozenGrading, &r.FreezeNote, &r.FreezeError, &r.Pushes, &r.Late, &r.Installation)
		if err != nil {
			return nil, fmt.Errorf("repositories of cohort %s: %w", cohort, err)
		}
		r.FrozenAt = fromMillis(frozen)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Push is a push to a rostered repository's default branch, as recorded.
type Push struct {
	Candidate  string
	DeliveryID string
	Ref        string
	Before     string
	SHA        string // "" when the push deleted the branch
	Deleted    bool
	ReceivedAt time.Time
	// PushedAt is GitHub's time of the push, from the payload (zero: not given).
	PushedAt time.Time
	Late     bool
	// GradingID is the grading the push queued (0: none).
	GradingID int64
}

// Pushes lists a cohort's recorded pushes in the order they were received.
func (s *Store) Pushes(ctx context.Context, cohort string) ([]Push, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT c.name, p.delivery_id, p.ref, p.before_sha, p.sha, p.deleted,
			p.received_at, p.pushed_at, p.late, coalesce(p.grading_id, 0)
		FROM github_pushes p JOIN github_repositories r ON r.id = p.repository_id
		JOIN candidates c ON c.id = r.candidate_id JOIN cohorts co ON co.id = r.cohort_id
		WHERE co.name = ? ORDER BY p.received_at, p.id`, cohort)
	if err != nil {
		return nil, fmt.Errorf("pushes of cohort %s: %w", cohort, err)
	}
	defer rows.Close()
	var out []Push
	for rows.Next() {
		var p Push
		var received int64
		var pushed sql.NullInt64
		err := rows.Scan(&p.Candidate, &p.DeliveryID, &p.Ref, &p.Before, &p.SHA, &p.Deleted, &received, &pushed, &p.Late, &p.GradingID)
		if err != nil {
			return nil, fmt.Errorf("pushes of cohort %s: %w", cohort, err)
		}
		p.ReceivedAt, p.PushedAt = time.UnixMilli(received).UTC(), fromMillis(pushed)
		out = append(out, p)
	}
	return out, rows.Err()
}

// AdoptDeclaredTracks sets the track of each of the cohort's submissions still unknown to what
// its Done grading's report says SUBMISSION.md declares (a grading queued from a push or a
// freeze is queued before anything of the repository is read), and returns how many it set.
func (s *Store) AdoptDeclaredTracks(ctx context.Context, cohort string) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		cohortID, err := lookupCohort(ctx, tx, cohort)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE submissions AS s SET track = t.track
			FROM (SELECT g.submission_id AS id, json_extract(g.report_json, '$.submission.track') AS track
			      FROM gradings g WHERE g.cohort_id = ? AND g.status = 'done' AND g.report_json IS NOT NULL) AS t
			WHERE s.id = t.id AND s.track = 'unknown' AND t.track IN ('ai', 'manual')`, cohortID)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("adopt declared tracks in cohort %s: %w", cohort, err)
	}
	return n, nil
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
