package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"time"
)

// Graded is a candidate's latest Done grading, as `compare` reads it.
type Graded struct {
	GradingID    int64
	SubmissionID int64
	Candidate    string
	// Track is what the submission declared: TrackAI, TrackManual or TrackUnknown.
	Track       string
	Source      string
	Ref         string
	Commit      string
	ContentHash string
	ReceivedAt  time.Time
	// RulesVersion judged it; GraderVersion and SuiteVersion captured its evidence.
	RulesVersion  string
	GraderVersion string
	SuiteVersion  string
	Host          string
	Started       time.Time
	Ended         time.Time
	JudgedAt      time.Time
	// CandidateFailure, when not empty, is the candidate's failure that is this grading's
	// result: there is then no score, report or finding.
	CandidateFailure string
	Score            float64
	EvidencePath     string
	ReportDir        string
	// Findings are ordered by id.
	Findings []Finding
}

// Finding is one finding of a grading, as stored.
type Finding struct {
	ID            string
	Kind          string // "measured" or "static"
	Verdict       string // "pass", "fail", "warn", "n/a" or "info"
	Severity      string
	Critical      bool
	IndicatorKind string // "positive", "negative" or "requirement"
	Indicator     string
	Measured      map[string]float64
}

// latestSQL ranks a cohort's Done gradings per candidate: the latest submission first (by
// when it was received), then the latest grading of it.
const latestSQL = `WITH latest AS (
    SELECT id FROM (
        SELECT g.id, row_number() OVER (PARTITION BY s.candidate_id
            ORDER BY s.received_at DESC, s.id DESC, g.ended_at DESC, g.id DESC) AS rank
        FROM gradings g JOIN submissions s ON s.id = g.submission_id
        WHERE g.cohort_id = ?1 AND g.status = 'done')
    WHERE rank = 1)
`

// LatestGradings returns every candidate of the cohort that has a Done grading, with the
// latest one and its findings, ordered by candidate.
func (s *Store) LatestGradings(ctx context.Context, cohort string) ([]Graded, error) {
	var out []Graded
	err := s.read(ctx, func(tx *sql.Tx) error {
		cohortID, err := lookupCohort(ctx, tx, cohort)
		if err != nil {
			return err
		}
		if out, err = latestGradings(ctx, tx, s, cohortID); err != nil {
			return err
		}
		return attachFindings(ctx, tx, cohortID, out)
	})
	if err != nil {
		return nil, fmt.Errorf("read gradings of cohort %s: %w", cohort, err)
	}
	return out, nil
}

func latestGradings(ctx context.Context, tx *sql.Tx, s *Store, cohortID int64) ([]Graded, error) {
	rows, err := tx.QueryContext(ctx, latestSQL+`SELECT g.id, sub.id, c.name, sub.track, sub.source, sub.ref,
		sub.commit_sha, sub.content_hash, sub.received_at, g.rules_version, g.grader_version, g.suite_version,
		coalesce(g.host, ''), g.started_at, g.ended_at, g.judged_at, coalesce(g.candidate_failure, ''),
		coalesce(g.score, 0), g.evidence_path, g.report_dir
		FROM latest JOIN gradings g ON g.id = latest.id JOIN submissions sub ON sub.id = g.submission_id
		JOIN candidates c ON c.id = sub.candidate_id
		ORDER BY c.name`, cohortID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Graded
	for rows.Next() {
		var g Graded
		var received int64
		var started, ended, judged sql.NullInt64
		var evidence, reports sql.NullString
		err := rows.Scan(&g.GradingID, &g.SubmissionID, &g.Candidate, &g.Track, &g.Source, &g.Ref,
			&g.Commit, &g.ContentHash, &received, &g.RulesVersion, &g.GraderVersion, &g.SuiteVersion,
			&g.Host, &started, &ended, &judged, &g.CandidateFailure, &g.Score, &evidence, &reports)
		if err != nil {
			return nil, err
		}
		g.ReceivedAt = time.UnixMilli(received).UTC()
		g.Started, g.Ended, g.JudgedAt = fromMillis(started), fromMillis(ended), fromMillis(judged)
		g.EvidencePath, g.ReportDir = s.absolute(evidence), s.absolute(reports)
		out = append(out, g)
	}
	return out, rows.Err()
}

func attachFindings(ctx context.Context, tx *sql.Tx, cohortID int64, gs []Graded) error {
	index := make(map[int64]int, len(gs))
	for i, g := range gs {
		index[g.GradingID] = i
	}
	// Read in the order of the findings' unique index (grading, finding id): no sort.
	rows, err := tx.QueryContext(ctx, latestSQL+`SELECT f.grading_id, f.finding_id, f.kind, f.verdict, f.severity,
		f.critical, f.indicator_kind, f.indicator, f.measured
		FROM findings f WHERE f.grading_id IN (SELECT id FROM latest) ORDER BY f.grading_id, f.finding_id`, cohortID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var gradingID int64
		var f Finding
		var measured sql.NullString
		err := rows.Scan(&gradingID, &f.ID, &f.Kind, &f.Verdict, &f.Severity, &f.Critical,
			&f.IndicatorKind, &f.Indicator, &measured)
		if err != nil {
			return err
		}
		if measured.Valid {
			if f.Measured, err = parseMeasured(measured.String); err != nil {
				return fmt.Errorf("finding %s of grading %d: measured numbers: %w", f.ID, gradingID, err)
			}
		}
		i, ok := index[gradingID]
		if !ok {
			return fmt.Errorf("finding %s of grading %d: the grading changed while read", f.ID, gradingID)
		}
		gs[i].Findings = append(gs[i].Findings, f)
	}
	return rows.Err()
}

// read runs fn in one read transaction on the query-only pool: one snapshot of the file.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback() // read only: nothing to commit
	return fn(tx)
}

// ReportJSON is a grading's report.json as recorded (compact).
func (s *Store) ReportJSON(ctx context.Context, gradingID int64) (json.RawMessage, error) {
	var raw sql.NullString
	err := s.reader.QueryRowContext(ctx, `SELECT report_json FROM gradings WHERE id = ?`, gradingID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !raw.Valid) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("report of grading %d: %w", gradingID, err)
	}
	return json.RawMessage(raw.String), nil
}

// Stored is a grading whose evidence can be judged again.
type Stored struct {
	GradingID    int64
	Candidate    string
	RulesVersion string
	EvidencePath string
	ReportDir    string
	// Dir is a folder, under the data folder, for the reports of a re-judging by rules:
	// StoredEvidence names it for the rules it is given.
	Dir string
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// StoredEvidence lists, for `grader rejudge`, each candidate's latest Done grading of the
// cohort that has stored evidence (a candidate's failure has none), with a folder for the
// reports a judging by rules would write.
func (s *Store) StoredEvidence(ctx context.Context, cohort, rules string) ([]Stored, error) {
	var out []Stored
	err := s.read(ctx, func(tx *sql.Tx) error {
		cohortID, err := lookupCohort(ctx, tx, cohort)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, latestSQL+`SELECT g.id, c.name, g.rules_version, g.evidence_path, g.report_dir
			FROM latest JOIN gradings g ON g.id = latest.id JOIN submissions sub ON sub.id = g.submission_id
			JOIN candidates c ON c.id = sub.candidate_id
			WHERE g.evidence_path IS NOT NULL ORDER BY c.name`, cohortID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var st Stored
			var evidence, reports sql.NullString
			if err := rows.Scan(&st.GradingID, &st.Candidate, &st.RulesVersion, &evidence, &reports); err != nil {
				return err
			}
			st.EvidencePath, st.ReportDir = s.absolute(evidence), s.absolute(reports)
			st.Dir = filepath.Join(s.gradingDir(cohortID, st.GradingID), "judged-"+unsafeName.ReplaceAllString(rules, "_"))
			out = append(out, st)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("stored evidence of cohort %s: %w", cohort, err)
	}
	return out, nil
}

// Cohort is a cohort as listed.
type Cohort struct {
	Name       string
	Created    time.Time
	Deadline   time.Time // zero: none
	Candidates int
}

// Cohorts lists the store's cohorts by name.
func (s *Store) Cohorts(ctx context.Context) ([]Cohort, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT co.name, co.created_at, co.deadline,
		(SELECT count(*) FROM candidates c WHERE c.cohort_id = co.id)
		FROM cohorts co ORDER BY co.name`)
	if err != nil {
		return nil, fmt.Errorf("list cohorts: %w", err)
	}
	defer rows.Close()
	var out []Cohort
	for rows.Next() {
		var c Cohort
		var created int64
		var deadline sql.NullInt64
		if err := rows.Scan(&c.Name, &created, &deadline, &c.Candidates); err != nil {
			return nil, fmt.Errorf("list cohorts: %w", err)
		}
		c.Created, c.Deadline = time.UnixMilli(created).UTC(), fromMillis(deadline)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list cohorts: %w", err)
	}
	return out, nil
}
