// Package suite is the grading suite: which fault plans run, how many trials each, and the
// wall budget a client gets in each. docs/checks.md says which findings each scenario feeds.
package suite

import (
	"time"
)

// Scenario is one fault plan as graded.
type Scenario struct {
	Name   string        // the plan in fixtures/scenarios
	Trials int           // independent runs (jitter needs several)
	Budget time.Duration // wall clock before the client is stopped (itself a finding)
	// TimingSensitive scenarios measure delays; the runner keeps fewer of them in parallel.
	TimingSensitive bool
}

// Default is the suite every grading runs. Budgets: the brief allows 30 s per request; each
// budget is the longest a correct client needs in that scenario, plus a margin, so only a
// client that breaks the brief's bounds runs into it. The order is the order runs start in:
// the longest first (outage, the hangs), so a grading takes little more than its longest run.
func Default() []Scenario {
	return []Scenario{
		{Name: "outage", Trials: 1, Budget: 90 * time.Second},
		{Name: "slow-commit", Trials: 1, Budget: 60 * time.Second},
		{Name: "hang", Trials: 1, Budget: 75 * time.Second, TimingSensitive: true},
		{Name: "lost-response-hang", Trials: 1, Budget: 75 * time.Second},
		{Name: "backoff", Trials: 3, Budget: 75 * time.Second, TimingSensitive: true},
		{Name: "rate-limit-date", Trials: 1, Budget: 60 * time.Second, TimingSensitive: true},
		{Name: "rate-limit-seconds", Trials: 1, Budget: 60 * time.Second, TimingSensitive: true},
		{Name: "happy", Trials: 1, Budget: 60 * time.Second},
		{Name: "slow-target", Trials: 1, Budget: 60 * time.Second},
		{Name: "transient-5xx", Trials: 1, Budget: 60 * time.Second},
		{Name: "source-faults", Trials: 1, Budget: 75 * time.Second},
		{Name: "reset-empty", Trials: 1, Budget: 60 * time.Second},
		{Name: "lost-response-reset", Trials: 1, Budget: 60 * time.Second},
		{Name: "permanent-4xx", Trials: 1, Budget: 60 * time.Second},
		{Name: "source-auth", Trials: 1, Budget: 60 * time.Second},
		{Name: "untrusted-tls", Trials: 1, Budget: 60 * time.Second},
	}
}

// Only keeps the named scenarios (all when names is empty).
func Only(s []Scenario, names []string) []Scenario {
	if len(names) == 0 {
		return s
	}
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	var out []Scenario
	for _, sc := range s {
		if keep[sc.Name] {
			out = append(out, sc)
		}
	}
	return out
}
