package checks

import (
	"fmt"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/harness/journal"
)

var retryTransient = Check{
	ID: "retry.transient", Title: "Retries transient failures (5xx, resets, hangs)", Severity: finding.High,
	Indicator: finding.NoClassification,
	Question:  "Which failures does your client treat as worth retrying, and why those?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "transient-5xx"); ok {
			return j
		}
		var notRetried, notCreated []finding.Evidence
		faulted, retried := 0, 0
		for _, name := range []string{"transient-5xx", "reset-empty", "hang", "source-faults"} {
			for _, o := range obs.Of(name) {
				for subject, rs := range subjects(o) {
					first := firstFault(rs)
					if first < 0 {
						continue
					}
					faulted++
					if first == len(rs)-1 {
						notRetried = append(notRetried, evidence(o, subject+" was not retried after a transient failure", lines(rs, 4)...))
						continue
					}
					retried++
					if rs[0].Endpoint == "target.create" && len(o.Journal.TicketsFor(rs[0].Ticket)) == 0 {
						notCreated = append(notCreated, evidence(o, subject+" was retried but never created", lines(rs, 6)...))
					}
				}
			}
		}
		j := finding.Judgement{}.Measure("faulted", float64(faulted)).Measure("retried", float64(retried))
		switch {
		case faulted == 0:
			j.Verdict, j.Summary = finding.NA, "no request met a transient fault"
		case len(notRetried) > 0:
			j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("%d of %d requests that met a transient failure were never retried", len(notRetried), faulted)
		case len(notCreated) > 0:
			j.Verdict, j.Summary = finding.Warn, fmt.Sprintf("every transient failure was retried, but %d ticket(s) were never created", len(notCreated))
		default:
			j.Verdict, j.Summary = finding.Pass, fmt.Sprintf("all %d requests that met a transient failure were retried and succeeded", faulted)
		}
		return j.With(capEvidence(append(notRetried, notCreated...), 6)...)
	},
}

// subjects groups a run's API requests by what they address: a ticket or a page offset.
func subjects(o Observation) map[string][]journal.Request {
	out := map[string][]journal.Request{}
	for _, r := range o.Journal.Requests {
		switch {
		case r.Endpoint == "target.create" && r.Ticket != "":
			out["ticket "+r.Ticket] = append(out["ticket "+r.Ticket], r)
		case r.Endpoint == "source.list" && r.Offset != nil:
			k := fmt.Sprintf("page offset %d", *r.Offset)
			out[k] = append(out[k], r)
		}
	}
	return out
}

// firstFault is the index of the first faulted attempt, or -1.
func firstFault(rs []journal.Request) int {
	for i, r := range rs {
		if r.Fault != "" {
			return i
		}
	}
	return -1
}

func capEvidence(ev []finding.Evidence, n int) []finding.Evidence {
	if len(ev) <= n {
		return ev
	}
	return append(ev[:n:n], finding.Evidence{Text: fmt.Sprintf("… and %d more like these", len(ev)-n)})
}

var retryPermanent = Check{
	ID: "retry.permanent", Title: "Does not retry permanent failures (400, 401, 422)", Severity: finding.Medium,
	Indicator: finding.NoClassification,
	Question:  "A 422 comes back for one ticket. What does your client do, and what should an operator see?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "permanent-4xx"); ok {
			return j
		}
		var bad []finding.Evidence
		checked := 0
		for _, name := range []string{"permanent-4xx", "source-auth"} {
			for _, o := range obs.Of(name) {
				for subject, rs := range subjects(o) {
					if len(rs) == 0 || !permanent(rs[0]) {
						continue
					}
					checked++
					if len(rs) > 1 {
						bad = append(bad, evidence(o, fmt.Sprintf("%s answered %d was retried %d time(s)", subject, rs[0].Status, len(rs)-1), lines(rs, 4)...))
					}
				}
			}
		}
		switch {
		case checked == 0:
			return finding.Judged(finding.NA, "no request met a permanent failure")
		case len(bad) > 0:
			return finding.Judged(finding.Fail, "%d of %d requests that met a permanent failure were retried", len(bad), checked).With(capEvidence(bad, 6)...)
		}
		return finding.Judged(finding.Pass, "none of the %d requests that met a permanent failure (400, 401, 422) was retried", checked)
	},
}

func permanent(r journal.Request) bool {
	return r.Fault != "" && r.Status >= 400 && r.Status < 500 && r.Status != 408 && r.Status != 409 && r.Status != 429
}
