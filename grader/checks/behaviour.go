package checks

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/itsm-grader/grader/grader/finding"
)

var waitBlocking = Check{
	ID: "wait.blocking", Title: "Waits with timers, not busy loops", Severity: finding.Medium,
	Indicator: finding.BlockingLoops,
	Question:  "How does your client wait between retries, and what is the process doing meanwhile?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "backoff"); ok {
			return j
		}
		worst := 0.0
		var ev []finding.Evidence
		for _, name := range []string{"backoff", "rate-limit-seconds"} {
			for _, o := range obs.Of(name) {
				if !o.Process.CPUKnown || o.Process.Wall <= 0 {
					continue
				}
				share := o.Process.CPU.Seconds() / o.Process.Wall.Seconds()
				if busy(o) {
					worst = max(worst, share)
				}
				ev = append(ev, evidence(o, fmt.Sprintf("CPU %s over %s of wall time (%.0f%% of a core)", ms(o.Process.CPU), ms(o.Process.Wall), share*100)))
			}
		}
		j := finding.Judgement{Evidence: capEvidence(ev, 4)}.Measure("cpu_share", float64(int(worst*1000))/1000)
		switch {
		case len(ev) == 0:
			j.Verdict, j.Summary = finding.NA, "CPU time could not be measured on this engine"
		case worst >= busyShare:
			j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("busy waiting: %.0f%% of a core burnt during runs that are mostly waiting", worst*100)
		default:
			j.Verdict, j.Summary = finding.Pass, "waits cost no CPU to speak of: no run burnt a second of CPU at a quarter of a core or more"
		}
		return j
	},
}

var statusWord = regexp.MustCompile(`\b(5\d\d|4\d\d)\b`)

var loggingErrors = Check{
	ID: "logging.errors", Title: "Logs failures with enough context to act on", Severity: finding.Low,
	Indicator: finding.RetryAndLogging,
	Question:  "It's 3 a.m. and the sync failed for some tickets. What does your log tell the on-call engineer?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "transient-5xx"); ok {
			return j
		}
		o := obs.Of("transient-5xx")[0]
		out := outputLines(o)
		faulted, logged, mentioned := 0, 0, 0
		var good, bad []string
		for _, id := range sortedKeys(creates(o)) {
			for _, r := range creates(o)[id] {
				if r.Fault == "" {
					continue
				}
				faulted++
				status := strconv.Itoa(r.Status)
				hit, withID := "", false
				for _, l := range out {
					if strings.Contains(l, id) && strings.Contains(l, status) {
						hit = l
						break
					}
					if !withID && (strings.Contains(l, id) || strings.Contains(l, status)) {
						withID = true
					}
				}
				if hit != "" {
					logged++
					if len(good) < 2 {
						good = append(good, Clean(hit))
					}
				} else if withID {
					mentioned++
				} else if len(bad) < 2 {
					bad = append(bad, fmt.Sprintf("nothing names %s with its %s", id, status))
				}
			}
		}
		j := finding.Judgement{}.Measure("failures", float64(faulted)).Measure("logged_with_context", float64(logged))
		switch {
		case faulted == 0:
			j.Verdict, j.Summary = finding.NA, "no failure to log"
		case float64(logged) >= loggedShare*float64(faulted):
			j.Verdict, j.Summary = finding.Pass, fmt.Sprintf("%d of %d failed attempts logged with the ticket and the status", logged, faulted)
			j = j.With(evidence(o, "for example", good...))
		case logged+mentioned > 0 || anyFailureWords(out):
			j.Verdict, j.Summary = finding.Warn, fmt.Sprintf("failures are logged, but only %d of %d name both the ticket and the status", logged, faulted)
			j = j.With(evidence(o, "what the log says", append(good, bad...)...))
		default:
			j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("none of the %d failed attempts left a trace in the output", faulted)
		}
		return j
	},
}

func anyFailureWords(out []string) bool {
	for _, l := range out {
		low := strings.ToLower(l)
		if statusWord.MatchString(l) || strings.Contains(low, "retry") || strings.Contains(low, "error") || strings.Contains(low, "fail") {
			return true
		}
	}
	return false
}

var resultHonest = Check{
	ID: "result.honest", Title: "Reports what really happened in its SyncResult", Severity: finding.High,
	Indicator: finding.HonestClient,
	Question:  "How would a caller of syncTickets() know which tickets need attention?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "happy"); ok {
			return j
		}
		var bad, good []finding.Evidence
		for _, name := range []string{"happy", "permanent-4xx", "outage"} {
			for _, o := range obs.Of(name) {
				if o.Process.TimedOut {
					continue // killed: nothing was returned
				}
				if e, ok := honesty(o); ok {
					good = append(good, e)
				} else {
					bad = append(bad, e)
				}
			}
		}
		switch {
		case len(bad) > 0:
			return finding.Judged(finding.Fail, "the returned SyncResult disagrees with what the target saw in %d run(s)", len(bad)).With(bad...)
		case len(good) == 0:
			return finding.Judged(finding.NA, "no run returned")
		}
		return finding.Judged(finding.Pass, "the SyncResult matched the target's records in all %d runs", len(good)).With(good...)
	},
}

// honesty compares one run's SyncResult with its journal.
func honesty(o Observation) (finding.Evidence, bool) {
	res, ok := o.Outcome.SyncResult()
	if !ok {
		return evidence(o, fmt.Sprintf("syncTickets() did not resolve with a SyncResult (%s%s)", o.Outcome.Kind, errSuffix(o))), false
	}
	want, err := uniqueIncidents(o)
	if err != nil {
		return evidence(o, err.Error()), false
	}
	confirmed := map[string]bool{}
	for _, r := range o.Journal.Endpoint("target.create") {
		if r.Status == 201 && r.Outcome == "response" {
			confirmed[r.Ticket] = true
		}
	}
	claimedFailed := map[string]bool{}
	for _, f := range res.Failed {
		claimedFailed[f.ExternalID] = true
	}
	var issues []string
	if res.Created != len(confirmed) {
		issues = append(issues, fmt.Sprintf("claims %d created; the target confirmed %d", res.Created, len(confirmed)))
	}
	for _, id := range sortedKeys(want) {
		switch {
		case !confirmed[id] && !claimedFailed[id]:
			issues = append(issues, id+" was not created but is not in failed")
		case confirmed[id] && claimedFailed[id]:
			issues = append(issues, id+" was created but is reported failed")
		}
	}
	if len(issues) > 0 {
		return evidence(o, fmt.Sprintf("created=%d, %d failed: %s", res.Created, len(res.Failed), strings.Join(capList(issues, 4), "; "))), false
	}
	return evidence(o, fmt.Sprintf("created=%d, failed=%d: agrees with the target", res.Created, len(res.Failed))), true
}

func errSuffix(o Observation) string {
	if o.Outcome.Error == "" {
		return ""
	}
	return ": " + Clean(capText(o.Outcome.Error, 120))
}

// busy reports whether a run burnt CPU like a busy loop (see busyCPU and busyShare).
func busy(o Observation) bool {
	return o.Process.CPUKnown && o.Process.Wall > 0 && o.Process.CPU >= busyCPU && o.Process.CPU.Seconds()/o.Process.Wall.Seconds() >= busyShare
}
