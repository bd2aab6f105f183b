package checks

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/fixtures/scenarios"
	captured "github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/harness/journal"
)

// scenarioRun is a run of a real scenario's plan with the given target creates.
func scenarioRun(t *testing.T, name string, reqs []journal.Request) Observation {
	t.Helper()
	p, err := scenarios.Load(name)
	require.NoError(t, err)
	o := run(name, reqs)
	o.Plan = p
	return o
}

// syncedHappy is the happy scenario done right: every page read, every incident created once
// with its golden payload, and the driver's record claiming it; edit changes the tickets first.
func syncedHappy(t *testing.T, edit func(tickets map[string]json.RawMessage)) Observation {
	t.Helper()
	golden, err := exercise.Golden()
	require.NoError(t, err)
	tickets := map[string]json.RawMessage{}
	for id, body := range golden {
		tickets[id] = body
	}
	if edit != nil {
		edit(tickets)
	}
	var reqs []journal.Request
	for offset := 0; offset < 30; offset += 10 {
		reqs = append(reqs, page(offset, 1, func(r *journal.Request) {
			r.Query = fmt.Sprintf("sysparm_limit=10&sysparm_offset=%d", *r.Offset)
		}))
	}
	ids := sortedKeys(tickets)
	for _, id := range ids {
		reqs = append(reqs, req(id, 1, "k-"+id))
	}
	o := scenarioRun(t, "happy", reqs)
	for _, id := range ids {
		o.Journal.Tickets = append(o.Journal.Tickets, journal.Ticket{ExternalID: id, Body: tickets[id]})
	}
	o.Outcome = captured.Outcome{Kind: "resolved", Result: json.RawMessage(fmt.Sprintf(`{"created":%d,"failed":[]}`, len(ids)))}
	return o
}

// retriedAfter is a rate-limit run whose ticket, told to wait by a 429, came back after wait.
func retriedAfter(t *testing.T, scenario string, wait time.Duration) Observation {
	t.Helper()
	o := scenarioRun(t, scenario, []journal.Request{req("INC0010001", 1, "k", faulted("status_429", 429)), req("INC0010001", 2, "k")})
	first := &o.Journal.Requests[0]
	second := &o.Journal.Requests[1]
	second.ArrivalUS = first.EndUS + wait.Microseconds()
	second.EndUS = second.ArrivalUS + 2000
	return o
}

// outageRun is an outage run whose one ticket was tried attempts times, gap apart.
func outageRun(t *testing.T, attempts int, gap time.Duration, timedOut bool) Observation {
	t.Helper()
	var reqs []journal.Request
	for a := 1; a <= attempts; a++ {
		reqs = append(reqs, req("INC0010001", a, "k", faulted("status_503", 503)))
	}
	o := scenarioRun(t, "outage", reqs)
	for i := range o.Journal.Requests {
		o.Journal.Requests[i].ArrivalUS = int64(i) * gap.Microseconds()
		o.Journal.Requests[i].EndUS = o.Journal.Requests[i].ArrivalUS + 2000
	}
	o.Process.TimedOut = timedOut
	return o
}

func cpu(o Observation, used, wall time.Duration) Observation {
	o.Process.CPU, o.Process.Wall, o.Process.CPUKnown = used, wall, true
	return o
}

// TestMoreChecksOnRecordedTraffic: the checks the corpus alone used to prove, each given
// recorded traffic that must pass it and traffic that must fail it.
func TestMoreChecksOnRecordedTraffic(t *testing.T) {
	t.Parallel()
	for _, tc := range moreCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := tc.check.Judge(tc.obs)
			require.Equal(t, tc.want, j.Verdict, j.Summary)
		})
	}
}

func moreCases(t *testing.T) []trafficCase {
	wrongPriority := func(tickets map[string]json.RawMessage) {
		id := sortedKeys(tickets)[0]
		tickets[id] = json.RawMessage(strings.Replace(string(tickets[id]), `"priority":`, `"priority_was":`, 1))
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	return []trafficCase{
		{"exponential waits with full jitter pass growth", backoffGrowth, backoffRuns(func(i int) time.Duration { return time.Duration((i*7919)%100+1) * ms(200<<(i-1)) / 100 }), finding.Pass},
		{"a constant wait fails growth", backoffGrowth, backoffRuns(func(int) time.Duration { return ms(400) }), finding.Fail},
		{"jittered waits pass jitter", backoffJitter, backoffRuns(jittered()), finding.Pass},
		{"deterministic waits fail jitter", backoffJitter, backoffRuns(func(i int) time.Duration { return ms(200 << (i - 1)) }), finding.Fail},

		{"every golden payload passes", mappingAccuracy, Observations{syncedHappy(t, nil)}, finding.Pass},
		{"a field that differs fails", mappingAccuracy, Observations{syncedHappy(t, wrongPriority)}, finding.Fail},
		{"no ticket at all fails", mappingAccuracy, Observations{syncedHappy(t, func(m map[string]json.RawMessage) { clear(m) })}, finding.Fail},

		{"every incident once passes", mappingCompleteness, Observations{syncedHappy(t, nil)}, finding.Pass},
		{"a missing incident fails", mappingCompleteness, Observations{syncedHappy(t, func(m map[string]json.RawMessage) { delete(m, sortedKeys(m)[3]) })}, finding.Fail},
		{"an incident the source never had fails", mappingCompleteness, Observations{syncedHappy(t, func(m map[string]json.RawMessage) { m["INC9999999"] = m[sortedKeys(m)[0]] })}, finding.Fail},

		{"a truthful SyncResult passes", resultHonest, Observations{syncedHappy(t, nil)}, finding.Pass},
		{"claiming more than the target created fails", resultHonest, Observations{func() Observation {
			o := syncedHappy(t, nil)
			o.Outcome.Result = json.RawMessage(`{"created":99,"failed":[]}`)
			return o
		}()}, finding.Fail},
		{"a result that is not a SyncResult fails", resultHonest, Observations{func() Observation {
			o := syncedHappy(t, nil)
			o.Outcome.Result = json.RawMessage(`"done"`)
			return o
		}()}, finding.Fail},
		{"a run stopped at its budget is run.budget's, not a lie", resultHonest, Observations{syncedHappy(t, nil), func() Observation {
			o := outageRun(t, 3, time.Second, true)
			o.Outcome = captured.Outcome{Kind: "none"}
			return o
		}()}, finding.Pass},
		{"rejecting when the source cannot be read passes", resultHonest, Observations{syncedHappy(t, nil), func() Observation {
			o := scenarioRun(t, "source-auth", []journal.Request{page(0, 1, faulted("status_401", 401))})
			o.Outcome = captured.Outcome{Kind: "rejected", Error: "source page at offset 0: 401"}
			return o
		}()}, finding.Pass},
		{"resolving when the source cannot be read fails", resultHonest, Observations{syncedHappy(t, nil), func() Observation {
			o := scenarioRun(t, "source-auth", []journal.Request{page(0, 1, faulted("status_401", 401))})
			o.Outcome = captured.Outcome{Kind: "resolved", Result: json.RawMessage(`{"created":0,"failed":[]}`)}
			return o
		}()}, finding.Fail},

		{"a few attempts over seconds pass", retryBounded, Observations{outageRun(t, 6, 3*time.Second, false)}, finding.Pass},
		{"fifty attempts fail", retryBounded, Observations{outageRun(t, 50, 100*time.Millisecond, false)}, finding.Fail},
		{"still retrying at the budget fails", retryBounded, Observations{outageRun(t, 9, 3*time.Second, true)}, finding.Fail},

		{"waiting out Retry-After passes", retryAfter, Observations{retriedAfter(t, "rate-limit-seconds", 2100*time.Millisecond), retriedAfter(t, "rate-limit-date", 3*time.Second)}, finding.Pass},
		{"retrying before Retry-After fails", retryAfter, Observations{retriedAfter(t, "rate-limit-seconds", 300*time.Millisecond), retriedAfter(t, "rate-limit-date", 3*time.Second)}, finding.Fail},
		{"retrying far later than Retry-After warns", retryAfter, Observations{retriedAfter(t, "rate-limit-seconds", 20*time.Second), retriedAfter(t, "rate-limit-date", 3*time.Second)}, finding.Warn},

		{"timer waits pass", waitBlocking, Observations{cpu(scenarioRun(t, "backoff", nil), 300*time.Millisecond, 3*time.Second)}, finding.Pass},
		{"a busy loop fails", waitBlocking, Observations{cpu(scenarioRun(t, "backoff", nil), 2500*time.Millisecond, 4*time.Second)}, finding.Fail},

		{"a failure nobody logged fails", loggingErrors, Observations{scenarioRun(t, "transient-5xx", []journal.Request{req("A", 1, "k", faulted("status_503", 503)), req("A", 2, "k")})}, finding.Fail},
		{"output without a token passes", secretsOutput, Observations{syncedHappy(t, nil)}, finding.Pass},
		{"a token in the output fails", secretsOutput, Observations{func() Observation {
			o := syncedHappy(t, nil)
			o.Stdout.Data = "config: Bearer [REDACTED-target-token]\n"
			o.Leaks = []captured.Leak{{Where: "stdout", Line: 1, Token: "target", Form: "plain"}}
			return o
		}()}, finding.Fail},
		{"runs within their budgets pass", runBudget, Observations{outageRun(t, 3, time.Second, false), syncedHappy(t, nil)}, finding.Pass},
		{"a run stopped at its budget fails", runBudget, Observations{outageRun(t, 3, time.Second, true), syncedHappy(t, nil)}, finding.Fail},
	}
}

// jittered is a doubling policy with full jitter from a seeded generator.
func jittered() func(i int) time.Duration {
	rng := rand.New(rand.NewPCG(3, 4))
	return func(i int) time.Duration {
		return time.Duration(rng.Float64() * float64(time.Duration(200<<(i-1))*time.Millisecond))
	}
}

// TestEveryCheckHasRecordedTraffic: each check is shown passing and failing on recorded
// traffic, not only by the calibration corpus (which takes a quarter of an hour in Docker).
func TestEveryCheckHasRecordedTraffic(t *testing.T) {
	t.Parallel()
	seen := map[string]map[finding.Verdict]bool{}
	for _, tc := range append(trafficCases(), moreCases(t)...) {
		if seen[tc.check.ID] == nil {
			seen[tc.check.ID] = map[finding.Verdict]bool{}
		}
		seen[tc.check.ID][tc.want] = true
	}
	var missing []string
	for _, c := range All() {
		if !seen[c.ID][finding.Pass] || !seen[c.ID][finding.Fail] {
			missing = append(missing, c.ID)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "checks without recorded traffic that passes them and traffic that fails them")
}
