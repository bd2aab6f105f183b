package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// free is the condition on the gradings row alias that no live worker holds it: queued, or
// running under a lease that ran out by ?3 (its worker was killed, or is too late to finish it).
func free(alias string) string {
	return "(" + alias + ".status = 'queued' OR (" + alias + ".status = 'running' AND " + alias + ".lease_until < ?3))"
}

// dropForRulesSQL deletes the free gradings queued for other rules whose submission already
// has a grading for the new rules, or another free one (the oldest is kept) that will move.
var dropForRulesSQL = `DELETE FROM gradings AS g
WHERE g.cohort_id IN (SELECT id FROM cohorts WHERE ?1 = '' OR name = ?1)
  AND g.rules_version <> ?2 AND ` + free("g") + `
  AND (EXISTS (SELECT 1 FROM gradings o WHERE o.submission_id = g.submission_id AND o.rules_version = ?2)
    OR EXISTS (SELECT 1 FROM gradings o WHERE o.submission_id = g.submission_id AND o.id < g.id
               AND o.rules_version <> ?2 AND ` + free("o") + `))
RETURNING cohort_id, id`

// moveToRulesSQL puts the remaining free gradings queued for other rules on the new rules.
var moveToRulesSQL = `UPDATE gradings AS g SET rules_version = ?2
WHERE g.cohort_id IN (SELECT id FROM cohorts WHERE ?1 = '' OR name = ?1)
  AND g.rules_version <> ?2 AND ` + free("g")

// AdoptRules puts the gradings of cohort ("" for every cohort) that were queued for other
// rules, and that no live worker holds, on rules: a grader upgraded between queueing and
// grading judges by its own rules, and Finish refuses a result judged by rules other than the
// grading's, so each would otherwise be graded and then thrown away, attempt after attempt.
// A grading whose submission already has one for rules (or a second one queued for older
// rules) is deleted instead, with its files. Gradings that are done or failed keep the rules
// that judged them: `grader rejudge` judges those again. It returns how many gradings moved
// and how many were deleted.
func (s *Store) AdoptRules(ctx context.Context, cohort, rules string) (moved, dropped int64, err error) {
	if rules == "" {
		return 0, 0, fmt.Errorf("adopt rules: %w: empty rules version", ErrInvalid)
	}
	var dirs []string
	err = s.write(ctx, func(tx *sql.Tx) error {
		now := millis(s.now())
		rows, err := tx.QueryContext(ctx, dropForRulesSQL, cohort, rules, now)
		if err != nil {
			return fmt.Errorf("drop superseded gradings: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var cohortID, gradingID int64
			if err := rows.Scan(&cohortID, &gradingID); err != nil {
				return err
			}
			dirs = append(dirs, s.gradingDir(cohortID, gradingID))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, moveToRulesSQL, cohort, rules, now)
		if err != nil {
			return fmt.Errorf("move gradings to rules %s: %w", rules, err)
		}
		moved, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("adopt rules %s in %s: %w", rules, cohortLabel(cohort), err)
	}
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			return moved, int64(len(dirs)), fmt.Errorf("adopt rules %s: remove the files of a deleted grading: %w", rules, err)
		}
	}
	return moved, int64(len(dirs)), nil
}

func cohortLabel(cohort string) string {
	if cohort == "" {
		return "every cohort"
	}
	return "cohort " + cohort
}
