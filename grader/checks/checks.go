// Package checks judges observations: one file a check, each a pure function of the runs'
// journals and captured output, so each can be tested on recorded traffic without Docker.
// docs/checks.md gives the rules in prose; thresholds.go the numbers and where they come from.
package checks

import (
	"fmt"
	"sort"

	captured "github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/plan"
)

// Observation is one run as the checks see it: its evidence, with its plan and journal parsed
// once.
type Observation struct {
	*captured.Run
	Plan *plan.Plan
	// Journal is the mock's journal up to any cut; JournalErr says why it could not be read.
	Journal    *journal.Log
	JournalErr string
}

// Observations are all the runs of one grading.
type Observations []Observation

// Observe parses each run's plan and journal. A plan that does not parse is an error: the
// evidence is not what a grader wrote.
func Observe(runs []captured.Run) (Observations, error) {
	out := make(Observations, 0, len(runs))
	for i := range runs {
		o := Observation{Run: &runs[i]}
		p, err := plan.Parse([]byte(runs[i].Plan))
		if err != nil {
			return nil, fmt.Errorf("run %s trial %d: plan: %w", runs[i].Scenario, runs[i].Trial, err)
		}
		o.Plan = p
		if l, err := runs[i].ParseJournal(); err != nil {
			o.JournalErr = err.Error()
		} else {
			o.Journal = l
		}
		out = append(out, o)
	}
	return out, nil
}

// Of returns the runs of one scenario, by trial.
func (o Observations) Of(scenario string) []Observation {
	var out []Observation
	for _, x := range o {
		if x.Scenario == scenario && x.Journal != nil {
			out = append(out, x)
		}
	}
	return out
}

// Check is one measured check.
type Check struct {
	ID        string
	Title     string
	Severity  finding.Severity
	Critical  bool
	Indicator finding.Indicator
	Question  string
	Judge     func(Observations) finding.Judgement
}

// All lists the measured checks in report order.
func All() []Check {
	return []Check{
		contractCheck, mappingAccuracy, mappingCompleteness, retryTransient, retryPermanent,
		backoffGrowth, backoffJitter, retryBounded, retryAfter, requestTimeout, idempotencyKey,
		idempotencyDuplicates, secretsOutput, secretsTransport, tlsVerification, waitBlocking,
		loggingErrors, resultHonest, runBudget, concurrencyLimit, runFlood,
	}
}

// Run judges every check and returns its findings (a critical failure is flagged).
func Run(obs Observations) []finding.Finding {
	var out []finding.Finding
	for _, c := range All() {
		j := c.Judge(obs)
		out = append(out, c.finding(j))
	}
	return out
}

// NotApplicable returns every check's finding as n/a with one reason (e.g. the build failed).
func NotApplicable(reason string, except ...string) []finding.Finding {
	skip := map[string]bool{}
	for _, id := range except {
		skip[id] = true
	}
	var out []finding.Finding
	for _, c := range All() {
		if !skip[c.ID] {
			out = append(out, c.finding(finding.Judged(finding.NA, "%s", reason)))
		}
	}
	return out
}

func (c Check) finding(j finding.Judgement) finding.Finding {
	sort.SliceStable(j.Evidence, func(a, b int) bool {
		return j.Evidence[a].Scenario < j.Evidence[b].Scenario
	})
	return finding.Finding{
		ID: c.ID, Kind: finding.Measured, Title: c.Title, Verdict: j.Verdict, Severity: c.Severity,
		Critical: c.Critical && j.Verdict == finding.Fail, Indicator: c.Indicator,
		Summary: j.Summary, Evidence: j.Evidence, Measured: j.Measured, Question: c.Question, ObscuredBy: j.Obscured,
	}
}
