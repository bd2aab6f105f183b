package checks

import (
	"fmt"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/harness/journal"
)

var retryTransient = Check{
	ID: "retry.transient", Title: "Retries transient failures (5xx, resets, hangs, 409 in flight)", Severity: finding.High,
	Indicator: finding.NoClassification,
	Question:  "Which failures does your client treat as worth retrying, and why those?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "transient-5xx"); ok {
			return j
		}
		var t transience
		for _, name := range []string{"transient-5xx", "reset-empty", "hang", "source-faults"} {
			for _, o := range obs.Of(name) {
				for subject, rs := range subjects(o) {
					t.faulted(o, subject, rs)
				}
			}
		}
		for _, o := range obs.Of("slow-commit") {
			for subject, rs := range subjects(o) {
				t.inFlight(o, subject, rs)
			}
		}
		return t.judgement()
	},
}

// transience collects what retry.transient saw: faulted subjects retried or not, created or
// not, and those whose retries the schema cut short (mapping.accuracy's to judge).
type transience struct {
	faults, retried             int
	notRetried, notCreated, cut []finding.Evidence
}

// faulted judges one subject that may have met a transient fault.
func (t *transience) faulted(o Observation, subject string, rs []journal.Request) {
	first := firstFault(rs)
	if first < 0 {
		return
	}
	t.faults++
	if first == len(rs)-1 {
		t.notRetried = append(t.notRetried, evidence(o, subject+" was not retried after a transient failure", lines(rs, 4)...))
		return
	}
	t.retried++
	if rs[0].Endpoint != "target.create" || len(o.Journal.TicketsFor(rs[0].Ticket)) > 0 {
		return
	}
	if refusedPayload(rs[first+1:]) {
		t.cut = append(t.cut, evidence(o, subject+" was retried, then refused by the target's schema: its payload is mapping.accuracy's to judge", lines(rs, 6)...))
		return
	}
	t.notCreated = append(t.notCreated, evidence(o, subject+" was retried but never created", lines(rs, 6)...))
}

// inFlight judges one subject of slow-commit: an attempt answered 409 (its Idempotency-Key
// still being processed) is transient and must be retried until the stored answer comes back.
func (t *transience) inFlight(o Observation, subject string, rs []journal.Request) {
	conflicted := false
	for _, r := range rs {
		conflicted = conflicted || r.Status == 409
	}
	if !conflicted {
		return // the client never met the key in flight (it waited out the slow attempt)
	}
	t.faults++
	if rs[len(rs)-1].Status == 409 {
		t.notRetried = append(t.notRetried, evidence(o, subject+" was answered 409 (its key still in flight) and not retried: 409 is transient", lines(rs, 6)...))
		return
	}
	t.retried++
}

func (t *transience) judgement() finding.Judgement {
	j := finding.Judgement{}.Measure("faulted", float64(t.faults)).Measure("retried", float64(t.retried))
	switch {
	case t.faults == 0:
		j.Verdict, j.Summary = finding.NA, "no request met a transient fault"
	case len(t.notRetried) > 0:
		j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("%d of %d requests that met a transient failure were never retried", len(t.notRetried), t.faults)
	case len(t.notCreated) > 0:
		j.Verdict, j.Summary = finding.Warn, fmt.Sprintf("every transient failure was retried, but %d ticket(s) were never created", len(t.notCreated))
	default:
		j.Verdict, j.Summary = finding.Pass, fmt.Sprintf("all %d requests that met a transient failure were retried", t.faults)
	}
	if len(t.cut) > 0 {
		j.Summary += fmt.Sprintf("; %d ticket(s) the target then refused for their payload are left to mapping.accuracy", len(t.cut))
		j = j.ObscuredBy("mapping.accuracy")
	}
	return j.With(capEvidence(append(append(t.notRetried, t.notCreated...), t.cut...), 6)...)
}

// refusedPayload says whether the target refused a later attempt for its payload (a 400 or 422
// of the contract check, not of a fault): the retries were right, the mapping was not.
func refusedPayload(rs []journal.Request) bool {
	for _, r := range rs {
		if r.Fault == "" && (r.Status == 400 || r.Status == 422) && len(r.Violations) > 0 {
			return true
		}
	}
	return false
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
