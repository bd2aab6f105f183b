package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Pair is two submissions of a cohort that look alike.
type Pair struct {
	// A and B are the submissions (Graded.SubmissionID); stored with A < B.
	A, B int64
	// Score is the similarity (0–1); LongestFragment the longest shared fragment, in tokens.
	Score           float64
	LongestFragment int
	// Fragments are the matched fragments, as the similarity code writes them (JSON).
	Fragments json.RawMessage
}

// ReplaceSimilarity replaces every similarity pair of the cohort with pairs, in one
// transaction. Both submissions of a pair must belong to the cohort.
func (s *Store) ReplaceSimilarity(ctx context.Context, cohort string, pairs []Pair) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		cohortID, err := lookupCohort(ctx, tx, cohort)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM similarity_pairs WHERE cohort_id = ?`, cohortID); err != nil {
			return err
		}
		for _, p := range pairs {
			if err := insertPair(ctx, tx, cohortID, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record similarity of cohort %s: %w", cohort, err)
	}
	return nil
}

func insertPair(ctx context.Context, tx *sql.Tx, cohortID int64, p Pair) error {
	if p.A > p.B {
		p.A, p.B = p.B, p.A
	}
	if p.A == p.B {
		return fmt.Errorf("%w: a pair of submission %d with itself", ErrInvalid, p.A)
	}
	fragments := string(p.Fragments)
	if fragments == "" {
		fragments = "[]"
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO similarity_pairs
		(cohort_id, submission_a, submission_b, score, longest_fragment, fragments)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6
		WHERE (SELECT count(*) FROM submissions s JOIN candidates c ON c.id = s.candidate_id
		       WHERE c.cohort_id = ?1 AND s.id IN (?2, ?3)) = 2`,
		cohortID, p.A, p.B, p.Score, p.LongestFragment, fragments)
	if err != nil {
		return fmt.Errorf("pair %d–%d: %w", p.A, p.B, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("pair %d–%d: %w: a submission is not in the cohort", p.A, p.B, ErrInvalid)
	}
	return nil
}

// Similarity returns the cohort's similarity pairs, the most similar first.
func (s *Store) Similarity(ctx context.Context, cohort string) ([]Pair, error) {
	var out []Pair
	err := s.read(ctx, func(tx *sql.Tx) error {
		cohortID, err := lookupCohort(ctx, tx, cohort)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT submission_a, submission_b, score, longest_fragment, fragments
			FROM similarity_pairs WHERE cohort_id = ? ORDER BY score DESC, submission_a, submission_b`, cohortID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p Pair
			var fragments string
			if err := rows.Scan(&p.A, &p.B, &p.Score, &p.LongestFragment, &fragments); err != nil {
				return err
			}
			p.Fragments = json.RawMessage(fragments)
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("similarity of cohort %s: %w", cohort, err)
	}
	return out, nil
}
