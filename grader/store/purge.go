package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Purged counts what a purge deleted.
type Purged struct {
	Candidates, Submissions, Gradings, Findings, SimilarityPairs int
	// Files counts the files and folders removed (a folder with everything in it counts once).
	Files int
}

// purgeScope is what a purge deletes: a cohort, or one candidate of it.
type purgeScope struct {
	cohortID    int64
	candidateID sql.NullInt64
}

// where selects the scope's gradings (aliased g, joined with their submission s).
const scopeWhere = `g.cohort_id = ?1 AND (?2 IS NULL OR s.candidate_id = ?2)`

// Purge deletes a cohort completely: its rows in one transaction, then every file the store
// recorded for it and its folder under the data folder, then the write-ahead log is
// checkpointed and truncated. Deleted rows are overwritten with zeros (secure_delete), so the
// text is gone from the database file too. It is refused (ErrBusy) while a grading of the
// cohort is running under a live lease: stop the batch first.
func (s *Store) Purge(ctx context.Context, cohort string) (Purged, error) {
	p, err := s.purge(ctx, cohort, "")
	if err != nil {
		return p, fmt.Errorf("purge cohort %s: %w", cohort, err)
	}
	return p, nil
}

// PurgeCandidate deletes one candidate of a cohort completely, as Purge does a cohort: their
// submissions, gradings, findings, similarity pairs and files.
func (s *Store) PurgeCandidate(ctx context.Context, cohort, candidate string) (Purged, error) {
	if candidate == "" {
		return Purged{}, fmt.Errorf("purge candidate: %w: empty name", ErrInvalid)
	}
	p, err := s.purge(ctx, cohort, candidate)
	if err != nil {
		return p, fmt.Errorf("purge candidate %s of cohort %s: %w", candidate, cohort, err)
	}
	return p, nil
}

func (s *Store) purge(ctx context.Context, cohort, candidate string) (Purged, error) {
	var p Purged
	var paths []string
	err := s.write(ctx, func(tx *sql.Tx) error {
		scope, err := lookupScope(ctx, tx, cohort, candidate)
		if err != nil {
			return err
		}
		if err := s.refuseRunning(ctx, tx, scope); err != nil {
			return err
		}
		if p, err = count(ctx, tx, scope); err != nil {
			return err
		}
		if paths, err = s.recordedFiles(ctx, tx, scope); err != nil {
			return err
		}
		if scope.candidateID.Valid {
			_, err = tx.ExecContext(ctx, `DELETE FROM candidates WHERE id = ?`, scope.candidateID)
		} else {
			paths = append(paths, s.cohortDir(scope.cohortID))
			_, err = tx.ExecContext(ctx, `DELETE FROM cohorts WHERE id = ?`, scope.cohortID)
		}
		return err
	})
	if err != nil {
		return Purged{}, err
	}
	removed, err := removeAll(paths)
	p.Files = removed
	if err != nil {
		return p, fmt.Errorf("the rows are deleted but not every file: %w", err)
	}
	if err := s.checkpoint(ctx); err != nil {
		return p, fmt.Errorf("the rows and files are deleted, but the deleted rows may remain in the write-ahead log until the next checkpoint: %w", err)
	}
	return p, nil
}

func lookupScope(ctx context.Context, tx *sql.Tx, cohort, candidate string) (purgeScope, error) {
	var scope purgeScope
	var err error
	if scope.cohortID, err = lookupCohort(ctx, tx, cohort); err != nil || candidate == "" {
		return scope, err
	}
	err = tx.QueryRowContext(ctx, `SELECT id FROM candidates WHERE cohort_id = ? AND name = ?`,
		scope.cohortID, candidate).Scan(&scope.candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return scope, fmt.Errorf("candidate %q: %w", candidate, ErrNotFound)
	}
	return scope, err
}

func (s *Store) refuseRunning(ctx context.Context, tx *sql.Tx, scope purgeScope) error {
	var running int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM gradings g JOIN submissions s ON s.id = g.submission_id
		WHERE `+scopeWhere+` AND g.status = 'running' AND g.lease_until >= ?3`,
		scope.cohortID, scope.candidateID, millis(s.now())).Scan(&running)
	if err != nil {
		return err
	}
	if running > 0 {
		return fmt.Errorf("%w: %d grading(s) are running under a live lease; stop the batch (or wait for the leases to run out) and purge again", ErrBusy, running)
	}
	return nil
}

func count(ctx context.Context, tx *sql.Tx, scope purgeScope) (Purged, error) {
	var p Purged
	err := tx.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM candidates WHERE cohort_id = ?1 AND (?2 IS NULL OR id = ?2)),
		(SELECT count(*) FROM submissions s JOIN candidates c ON c.id = s.candidate_id
			WHERE c.cohort_id = ?1 AND (?2 IS NULL OR c.id = ?2)),
		(SELECT count(*) FROM gradings g JOIN submissions s ON s.id = g.submission_id WHERE `+scopeWhere+`),
		(SELECT count(*) FROM findings f JOIN gradings g ON g.id = f.grading_id
			JOIN submissions s ON s.id = g.submission_id WHERE `+scopeWhere+`),
		(SELECT count(*) FROM similarity_pairs p WHERE p.cohort_id = ?1 AND (?2 IS NULL OR EXISTS (
			SELECT 1 FROM submissions s WHERE s.candidate_id = ?2 AND s.id IN (p.submission_a, p.submission_b))))`,
		scope.cohortID, scope.candidateID).
		Scan(&p.Candidates, &p.Submissions, &p.Gradings, &p.Findings, &p.SimilarityPairs)
	return p, err
}

// recordedFiles lists the files and folders recorded for the scope's gradings, and each
// grading's folder (which holds the files of attempts that never finished).
func (s *Store) recordedFiles(ctx context.Context, tx *sql.Tx, scope purgeScope) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT g.id, g.evidence_path, g.report_dir
		FROM gradings g JOIN submissions s ON s.id = g.submission_id WHERE `+scopeWhere,
		scope.cohortID, scope.candidateID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var paths []string
	for rows.Next() {
		var id int64
		var evidence, reports sql.NullString
		if err := rows.Scan(&id, &evidence, &reports); err != nil {
			return nil, err
		}
		for _, p := range []string{s.absolute(evidence), s.absolute(reports), s.gradingDir(scope.cohortID, id)} {
			if p != "" {
				paths = append(paths, p)
			}
		}
	}
	return paths, rows.Err()
}

// removeAll removes each path with everything under it, counting those that existed.
func removeAll(paths []string) (int, error) {
	removed := 0
	var errs []error
	for _, p := range paths {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// checkpoint copies the write-ahead log into the database file and truncates it, so that the
// old versions of deleted rows it held are gone. It waits for readers (the busy timeout).
func (s *Store) checkpoint(ctx context.Context) error {
	var busy, logFrames, done int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("checkpoint: %w: another connection is reading an older snapshot", ErrBusy)
	}
	return nil
}
