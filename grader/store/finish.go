package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/report"
)

// Result is a grading's outcome as judged: the report (its score, findings and versions) and
// where its files are. The files must lie under the store's data folder (Job.Dir is there),
// so that Purge can delete them.
type Result struct {
	Report *report.Report
	// EvidencePath is the evidence file (evidence.json.gz) the report was judged from.
	EvidencePath string
	// ReportDir is the folder of report.json, report.md, report.html and report.sarif.
	ReportDir string
}

// Finish records the worker's grading as Done with its result, in one transaction: the score,
// the report, the versions that captured the evidence, the files and one row per finding. It
// is refused with ErrLeaseLost unless the ticket still holds the grading, and with
// ErrRulesMismatch when the report was judged by other rules than the grading was queued for.
func (s *Store) Finish(ctx context.Context, t Ticket, r Result) error {
	row, err := s.resultRow(r)
	if err != nil {
		return fmt.Errorf("finish grading %d: %w", t.ID, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE gradings
			SET status = 'done', score = ?, report_json = ?, evidence_path = ?, report_dir = ?,
			    grader_version = ?, suite_version = ?, judged_at = ?, ended_at = ?,
			    lease_until = NULL, candidate_failure = NULL
			WHERE id = ? AND worker = ? AND attempts = ? AND status = 'running' AND rules_version = ?`,
			row.score, row.json, row.evidence, row.reportDir, row.grader, row.suite, row.judgedAt,
			millis(s.now()), t.ID, t.Worker, t.Attempt, row.rules)
		if err := held(res, err); errors.Is(err, ErrLeaseLost) {
			return whyNotFinished(ctx, tx, t, row.rules)
		} else if err != nil {
			return err
		}
		return s.insertFindings(ctx, tx, t.ID, r.Report.Findings)
	})
	if err != nil {
		return fmt.Errorf("finish grading %d: %w", t.ID, err)
	}
	return nil
}

// whyNotFinished tells a lost lease from a result judged by the wrong rules.
func whyNotFinished(ctx context.Context, tx *sql.Tx, t Ticket, rules string) error {
	var queued string
	err := tx.QueryRowContext(ctx, `SELECT rules_version FROM gradings
		WHERE id = ? AND worker = ? AND attempts = ? AND status = 'running'`, t.ID, t.Worker, t.Attempt).Scan(&queued)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrLeaseLost
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: judged by %s, queued for %s", ErrRulesMismatch, rules, queued)
}

// resultRow is a Result as the gradings table holds it.
type resultRow struct {
	score                float64
	json                 string
	evidence, reportDir  sql.NullString
	grader, suite, rules string
	judgedAt             int64
}

func (s *Store) resultRow(r Result) (resultRow, error) {
	if r.Report == nil {
		return resultRow{}, fmt.Errorf("%w: no report", ErrInvalid)
	}
	raw, err := json.Marshal(r.Report)
	if err != nil {
		return resultRow{}, fmt.Errorf("encode report: %w", err)
	}
	row := resultRow{
		score: r.Report.Score.Total, json: string(raw),
		grader: r.Report.Evidence.Grader, suite: r.Report.Evidence.Suite, rules: r.Report.Versions.Rules,
		judgedAt: millis(r.Report.JudgedAt),
	}
	if row.rules == "" {
		return resultRow{}, fmt.Errorf("%w: the report names no rules version", ErrInvalid)
	}
	if row.evidence, err = s.relative(r.EvidencePath); err != nil {
		return resultRow{}, fmt.Errorf("evidence: %w", err)
	}
	if row.reportDir, err = s.relative(r.ReportDir); err != nil {
		return resultRow{}, fmt.Errorf("reports: %w", err)
	}
	return row, nil
}

func (s *Store) insertFindings(ctx context.Context, tx *sql.Tx, gradingID int64, fs []finding.Finding) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO findings
		(grading_id, finding_id, kind, verdict, severity, critical, indicator_kind, indicator, measured)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare findings: %w", err)
	}
	defer stmt.Close()
	for i, f := range fs {
		measured, err := measuredJSON(f.Measured)
		if err != nil {
			return fmt.Errorf("finding %s: %w", f.ID, err)
		}
		_, err = stmt.ExecContext(ctx, gradingID, f.ID, f.Kind, string(f.Verdict), string(f.Severity), f.Critical,
			f.Indicator.Kind, f.Indicator.Text, measured)
		if err != nil {
			return fmt.Errorf("finding %s: %w", f.ID, err)
		}
		if s.finishHook != nil {
			s.finishHook(gradingID, i)
		}
	}
	return nil
}

func measuredJSON(m map[string]float64) (sql.NullString, error) {
	if len(m) == 0 {
		return sql.NullString{}, nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode measured numbers: %w", err)
	}
	return sql.NullString{String: string(raw), Valid: true}, nil
}

// relative is a path as stored: relative to the data folder, which it must lie under. An
// empty path is NULL.
func (s *Store) relative(p string) (sql.NullString, error) {
	if p == "" {
		return sql.NullString{}, nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return sql.NullString{}, err
	}
	rel, err := filepath.Rel(s.dataDir, abs)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return sql.NullString{}, fmt.Errorf("%w: %s is not under the store's data folder %s (Purge could not delete it)", ErrInvalid, p, s.dataDir)
	}
	return sql.NullString{String: filepath.ToSlash(rel), Valid: true}, nil
}

// absolute is a stored path made absolute again; "" for NULL.
func (s *Store) absolute(rel sql.NullString) string {
	if !rel.Valid || rel.String == "" {
		return ""
	}
	return filepath.Join(s.dataDir, filepath.FromSlash(rel.String))
}

// ReplaceJudgement records a new judgement of a Done grading's stored evidence (`grader
// rejudge`): the rules version, score, report and findings are replaced in one transaction;
// the evidence, and the versions that captured it, stay. r.ReportDir, if set, replaces the
// reports' folder; r.EvidencePath is ignored. It is refused when another grading of the same
// submission is already judged by those rules.
func (s *Store) ReplaceJudgement(ctx context.Context, gradingID int64, rulesVersion string, r Result) error {
	r.EvidencePath = ""
	row, err := s.resultRow(r)
	if err == nil && row.rules != rulesVersion {
		err = fmt.Errorf("%w: the report names %s, not %s", ErrRulesMismatch, row.rules, rulesVersion)
	}
	if err != nil {
		return fmt.Errorf("replace judgement of grading %d: %w", gradingID, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := judgeable(ctx, tx, gradingID, rulesVersion); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE gradings
			SET rules_version = ?, score = ?, report_json = ?, judged_at = ?, report_dir = coalesce(?, report_dir)
			WHERE id = ?`, rulesVersion, row.score, row.json, row.judgedAt, row.reportDir, gradingID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM findings WHERE grading_id = ?`, gradingID); err != nil {
			return err
		}
		return s.insertFindings(ctx, tx, gradingID, r.Report.Findings)
	})
	if err != nil {
		return fmt.Errorf("replace judgement of grading %d: %w", gradingID, err)
	}
	return nil
}

// judgeable checks a grading is Done with stored evidence and no other grading of its
// submission is judged by rules already.
func judgeable(ctx context.Context, tx *sql.Tx, gradingID int64, rules string) error {
	var status string
	var evidence sql.NullString
	var taken bool
	err := tx.QueryRowContext(ctx, `SELECT status, evidence_path, EXISTS (
			SELECT 1 FROM gradings o WHERE o.submission_id = g.submission_id AND o.id <> g.id AND o.rules_version = ?)
		FROM gradings g WHERE id = ?`, rules, gradingID).Scan(&status, &evidence, &taken)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return err
	case status != string(Done) || !evidence.Valid:
		return fmt.Errorf("%w: the grading is %s without stored evidence", ErrInvalid, status)
	case taken:
		return fmt.Errorf("%w: another grading of the same submission is already judged by rules %s", ErrInvalid, rules)
	}
	return nil
}
