package checks

import (
	"fmt"
	"time"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/harness/plan"
)

var retryBounded = Check{
	ID: "retry.bounded", Title: "Gives up within bounds when the target is down", Severity: finding.High, Critical: true,
	Indicator: finding.FixedRetryLogic,
	Question:  "The target is down for an hour. What does your client do, and what does the on-call engineer see?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "outage"); ok {
			return j
		}
		o := obs.Of("outage")[0]
		maxAttempts, maxSpan := 0, time.Duration(0)
		var ev []finding.Evidence
		for _, id := range sortedKeys(creates(o)) {
			rs := creates(o)[id]
			span := time.Duration(rs[len(rs)-1].ArrivalUS-rs[0].ArrivalUS) * time.Microsecond
			maxAttempts, maxSpan = max(maxAttempts, len(rs)), max(maxSpan, span)
			if len(ev) < 2 {
				ev = append(ev, evidence(o, fmt.Sprintf("%s: %d attempts over %s", id, len(rs), ms(span)), lines(rs, 4)...))
			}
		}
		j := finding.Judgement{Evidence: ev}.Measure("max_attempts", float64(maxAttempts)).Measure("max_span_ms", float64(maxSpan.Milliseconds()))
		switch {
		case o.Process.TimedOut:
			j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("never gave up: still retrying when stopped at the %v budget (%d attempts at one ticket)", o.Budget, maxAttempts)
		case maxAttempts > boundedAttempts || maxSpan > boundedSpan:
			j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("gave up only after %d attempts over %s at one ticket (bounds: %d attempts, %v)", maxAttempts, ms(maxSpan), boundedAttempts, boundedSpan)
		case maxAttempts == 0:
			j.Verdict, j.Summary = finding.NA, "no create reached the target during the outage"
		default:
			j.Verdict, j.Summary = finding.Pass, fmt.Sprintf("gave up after at most %d attempts over %s per ticket", maxAttempts, ms(maxSpan))
		}
		return j
	},
}

var retryAfter = Check{
	ID: "retry.retry_after", Title: "Honours Retry-After", Severity: finding.Medium,
	Indicator: finding.ProperBackoff,
	Question:  "The server sends Retry-After: 120. What does your client do, and where would you draw the line?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "rate-limit-seconds", "rate-limit-date"); ok {
			return j
		}
		var early, late, good []finding.Evidence
		for _, name := range []string{"rate-limit-seconds", "rate-limit-date"} {
			for _, o := range obs.Of(name) {
				want, slack := advertised(o.Plan)
				for _, id := range sortedKeys(creates(o)) {
					rs := creates(o)[id]
					if len(rs) < 2 || rs[0].Fault == "" {
						continue
					}
					g := gap(rs[0], rs[1])
					e := evidence(o, fmt.Sprintf("%s waited %s after a Retry-After of %s", id, ms(g), ms(want)), lines(rs[:2], 2)...)
					switch {
					case g < want-slack:
						early = append(early, e)
					case g > retryAfterLate*want+2*time.Second:
						late = append(late, e)
					default:
						good = append(good, e)
					}
				}
				if len(creates(o)) > 0 && len(good)+len(early)+len(late) == 0 {
					early = append(early, evidence(o, "no ticket was retried after its 429/503 with Retry-After"))
				}
			}
		}
		switch {
		case len(early) > 0:
			return finding.Judged(finding.Fail, "%d retr(ies) came before the server's Retry-After", len(early)).With(capEvidence(early, 4)...)
		case len(late) > 0:
			return finding.Judged(finding.Warn, "Retry-After respected, but %d retr(ies) waited more than three times as long as asked", len(late)).With(capEvidence(late, 4)...)
		case len(good) == 0:
			return finding.Judged(finding.NA, "no rate-limited request")
		}
		return finding.Judged(finding.Pass, "all %d retries after a Retry-After waited as asked (seconds and HTTP-date forms)", len(good)).With(capEvidence(good, 2)...)
	},
}

// advertised is the wait a plan's first Retry-After asks for, and the slack its form allows.
func advertised(p *plan.Plan) (time.Duration, time.Duration) {
	for _, r := range p.Rules {
		switch {
		case r.Fault.RetryAfterSeconds != nil:
			return time.Duration(*r.Fault.RetryAfterSeconds) * time.Second, retryAfterSlack
		case r.Fault.RetryAfterDate != 0:
			return r.Fault.RetryAfterDate.D(), retryAfterDateSlack
		}
	}
	return 0, 0
}

var requestTimeout = Check{
	ID: "timeout.request", Title: "Abandons a hung request in time", Severity: finding.High,
	Indicator: finding.FixedRetryLogic,
	Question:  "How long will your client wait on a request that never answers, and how did you choose that number?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "hang"); ok {
			return j
		}
		o := obs.Of("hang")[0]
		// worst is the longest hold; beyond, the longest hold less the machine's noise over it
		// (noiseOver: the mock's stalls and what held the client's process back), which is
		// what the client's own timer is answerable for.
		var worst, beyond, noiseAtWorst time.Duration
		capped := 0
		var ev []finding.Evidence
		for _, id := range sortedKeys(creates(o)) {
			r := creates(o)[id][0]
			if r.Fault != plan.KindHang {
				continue
			}
			waited := time.Duration(r.EndUS-r.ArrivalUS) * time.Microsecond
			noise := noiseOver(o, r.ArrivalUS, r.EndUS)
			if waited > worst {
				worst, noiseAtWorst = waited, noise
			}
			beyond = max(beyond, waited-noise)
			if r.EndedBy == "cap" || r.EndedBy == "shutdown" {
				capped++
			}
			text := fmt.Sprintf("%s: the hung attempt was held %s, ended by the %s", id, ms(waited), r.EndedBy)
			if noise >= noiseFloor {
				text += fmt.Sprintf(" (the machine's noise over it: up to %s)", ms(noise))
			}
			ev = append(ev, evidence(o, text, line(r)))
		}
		j := finding.Judgement{Evidence: ev}.Measure("waited_ms", float64(worst.Milliseconds()))
		switch {
		case len(ev) == 0:
			j.Verdict, j.Summary = finding.NA, "no request met the hang"
		case capped > 0:
			j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("no request timeout: the client waited until the mock gave up after %s", ms(worst))
		case beyond > requestTimeoutMax:
			j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("the client waited %s on a hung request; the brief allows 10 s", ms(worst))
		case worst > requestTimeoutMax:
			// Over the bar only by what the machine's noise could account for: measured again
			// (Remeasure), never judged on bent time.
			j.Verdict, j.Summary = finding.NA, fmt.Sprintf("inconclusive: the client waited %s on a hung request, over the %s allowed, but up to %s of the machine's noise over that wait could account for the excess",
				ms(worst), ms(requestTimeoutMax), ms(noiseAtWorst))
		default:
			j.Verdict, j.Summary = finding.Pass, fmt.Sprintf("the client abandoned the hung request after %s", ms(worst))
		}
		return j
	},
}

var runBudget = Check{
	ID: "run.budget", Title: "Finishes every scenario within its time budget", Severity: finding.High,
	Indicator: finding.FixedRetryLogic,
	Question:  "How long can one run of your sync take in the worst case, and what bounds it?",
	Judge: func(obs Observations) finding.Judgement {
		var over []finding.Evidence
		runs := 0
		for _, o := range obs {
			if o.Run == nil {
				continue
			}
			runs++
			if o.Process.TimedOut {
				over = append(over, evidence(o, fmt.Sprintf("still running after the scenario's %v budget: stopped", o.Budget)))
			}
		}
		switch {
		case runs == 0:
			return finding.Judged(finding.NA, "nothing ran")
		case len(over) > 0:
			return finding.Judged(finding.Fail, "the client outlived the budget in %d of %d runs and was stopped", len(over), runs).With(over...)
		}
		return finding.Judged(finding.Pass, "every one of %d runs ended within its scenario's budget", runs)
	},
}
