package checks

import (
	"strings"

	captured "github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/finding"
)

// Remeasure lists the scenarios whose timing verdict the machine's noise left inconclusive (the
// backoff's growth, the hung request's hold): a grading runs them again before judging
// (grader/grading), at most twice.
func Remeasure(obs Observations) []captured.Remeasure {
	var again []captured.Remeasure
	for _, c := range []struct {
		check    Check
		scenario string
	}{{backoffGrowth, "backoff"}, {requestTimeout, "hang"}} {
		j := c.check.Judge(obs)
		if j.Verdict == finding.NA && strings.HasPrefix(j.Summary, "inconclusive") {
			again = append(again, captured.Remeasure{Scenario: c.scenario, Reason: j.Summary})
		}
	}
	return again
}
