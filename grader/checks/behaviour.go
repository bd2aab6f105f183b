package checks

import (
	"fmt"
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

var resultHonest = Check{
	ID: "result.honest", Title: "Reports what really happened in its SyncResult", Severity: finding.High,
	Indicator: finding.HonestClient,
	Question:  "How would a caller of syncTickets() know which tickets need attention?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "happy"); ok {
			return j
		}
		var bad, good, stopped []finding.Evidence
		for _, name := range []string{"happy", "permanent-4xx", "outage", "lost-response-hang", "lost-response-reset", "source-auth"} {
			for _, o := range obs.Of(name) {
				if o.Process.TimedOut {
					// Stopped at its budget: nothing was returned, and run.budget says why.
					stopped = append(stopped, evidence(o, "stopped at the scenario's budget before syncTickets() settled: run.budget's to judge"))
					continue
				}
				judge := honesty
				if name == "source-auth" {
					judge = rejectsUnreadSource
				}
				if e, ok := judge(o); ok {
					good = append(good, e)
				} else {
					bad = append(bad, e)
				}
			}
		}
		var j finding.Judgement
		switch {
		case len(bad) > 0:
			j = finding.Judged(finding.Fail, "the returned SyncResult disagrees with what the mock saw in %d run(s)", len(bad)).With(bad...)
		case len(good) == 0:
			j = finding.Judged(finding.NA, "no run returned")
		default:
			j = finding.Judged(finding.Pass, "the SyncResult matched the mock's records in all %d runs", len(good)).With(capEvidence(good, 6)...)
		}
		if len(stopped) > 0 {
			j = j.With(stopped...).ObscuredBy("run.budget")
		}
		return j
	},
}

// rejectsUnreadSource: in source-auth no page can be read (401, permanent), so the brief says
// syncTickets rejects; resolving, whatever with, tells the caller the sync happened.
func rejectsUnreadSource(o Observation) (finding.Evidence, bool) {
	read := false
	for _, r := range o.Journal.Endpoint("source.list") {
		read = read || r.Status == 200
	}
	switch {
	case read:
		return evidence(o, "a source page was read: nothing to judge here"), true
	case o.Outcome.Kind == "rejected":
		return evidence(o, "syncTickets() rejected when no source page could be read"+errSuffix(o)), true
	case o.Outcome.Kind == "resolved":
		return evidence(o, fmt.Sprintf("syncTickets() resolved (%s) although no source page could be read: the brief says it rejects", Clean(capText(string(o.Outcome.Result), 120)))), false
	}
	return evidence(o, fmt.Sprintf("syncTickets() neither resolved nor rejected (%s%s)", o.Outcome.Kind, errSuffix(o))), false
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
