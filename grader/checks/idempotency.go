package checks

import (
	"fmt"

	"github.com/itsm-grader/grader/grader/finding"
)

var idempotencyKey = Check{
	ID: "idempotency.key", Title: "Sends a stable Idempotency-Key per ticket", Severity: finding.High,
	Indicator: finding.IdempotentRetry,
	Question:  "Your create times out. Did the ticket get created or not, and how does your retry make that question harmless?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "happy"); ok {
			return j
		}
		var missingKey, unstable, shared []finding.Evidence
		total := 0
		for _, o := range obs {
			if o.Journal == nil {
				continue
			}
			owner := map[string]string{}
			for _, id := range sortedKeys(creates(o)) {
				rs := creates(o)[id]
				keys := map[string]bool{}
				for _, r := range rs {
					total++
					if r.IdempotencyKey == "" {
						if len(missingKey) < 3 {
							missingKey = append(missingKey, evidence(o, id+" was created without an Idempotency-Key", line(r)))
						}
						continue
					}
					keys[r.IdempotencyKey] = true
					if prev, ok := owner[r.IdempotencyKey]; ok && prev != id {
						shared = append(shared, evidence(o, fmt.Sprintf("%s and %s share one key", prev, id), line(r)))
					}
					owner[r.IdempotencyKey] = id
				}
				if len(keys) > 1 {
					unstable = append(unstable, evidence(o, fmt.Sprintf("%s: %d different keys over %d attempts", id, len(keys), len(rs)), lines(rs, 4)...))
				}
			}
		}
		switch {
		case total == 0:
			return finding.Judged(finding.NA, "no create reached the target")
		case len(missingKey) > 0:
			return finding.Judged(finding.Fail, "creates are sent without an Idempotency-Key, so a retry can duplicate").With(missingKey...)
		case len(unstable) > 0:
			return finding.Judged(finding.Fail, "the key changes between attempts at one ticket (%d tickets), so a retry is a new create", len(unstable)).With(capEvidence(unstable, 4)...)
		case len(shared) > 0:
			return finding.Judged(finding.Fail, "different tickets share a key, so the target refuses or replays the wrong one").With(capEvidence(shared, 4)...)
		}
		return finding.Judged(finding.Pass, "all %d creates carried a key, the same on every attempt at a ticket and distinct across tickets", total)
	},
}

var idempotencyDuplicates = Check{
	ID: "idempotency.duplicates", Title: "Creates no duplicates when responses are lost", Severity: finding.Critical, Critical: true,
	Indicator: finding.IdempotentRetry,
	Question:  "We found duplicate tickets after a network blip. Walk me through how that can happen and how you would prevent it.",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "lost-response-hang", "lost-response-reset"); ok {
			return j
		}
		var dups []finding.Evidence
		tickets := 0
		for _, name := range []string{"lost-response-hang", "lost-response-reset"} {
			for _, o := range obs.Of(name) {
				count := map[string]int{}
				for _, t := range o.Journal.Tickets {
					count[t.ExternalID]++
					tickets++
				}
				for _, id := range sortedKeys(count) {
					if count[id] > 1 {
						dups = append(dups, evidence(o, fmt.Sprintf("%s was created %d times", id, count[id]), lines(creates(o)[id], 4)...))
					}
				}
			}
		}
		j := finding.Judgement{}.Measure("duplicated_tickets", float64(len(dups)))
		switch {
		case len(dups) > 0:
			j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("%d ticket(s) were created more than once after a lost response", len(dups))
			return j.With(capEvidence(dups, 4)...)
		case tickets == 0:
			j.Verdict, j.Summary = finding.NA, "no ticket was created in the lost-response scenarios"
		default:
			j.Verdict, j.Summary = finding.Pass, "every ticket was created exactly once despite the lost responses"
		}
		return j
	},
}
