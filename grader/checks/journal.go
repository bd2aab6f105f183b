package checks

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/harness/journal"
)

// creates returns the target creates of a run, by ticket, in arrival order.
func creates(o Observation) map[string][]journal.Request {
	out := map[string][]journal.Request{}
	for _, r := range o.Journal.Endpoint("target.create") {
		out[r.Ticket] = append(out[r.Ticket], r)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// gap is the wait between an attempt ending (the client had its answer or gave up) and the
// next attempt arriving.
func gap(prev, next journal.Request) time.Duration {
	return time.Duration(next.ArrivalUS-prev.EndUS) * time.Microsecond
}

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

// line renders one journal request for evidence.
func line(r journal.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "t=%.3fs %s %s", float64(r.ArrivalUS)/1e6, r.Method, r.Path)
	if r.Ticket != "" {
		fmt.Fprintf(&b, " ticket=%s", r.Ticket)
	}
	if r.Offset != nil {
		fmt.Fprintf(&b, " offset=%d", *r.Offset)
	}
	fmt.Fprintf(&b, " attempt=%d", r.Attempt)
	if r.Fault != "" {
		fmt.Fprintf(&b, " fault=%s", r.Fault)
	}
	if r.Status != 0 {
		fmt.Fprintf(&b, " status=%d", r.Status)
	}
	fmt.Fprintf(&b, " outcome=%s ended_by=%s took=%s", r.Outcome, r.EndedBy, ms(time.Duration(r.EndUS-r.ArrivalUS)*time.Microsecond))
	if r.IdempotencyKey != "" {
		fmt.Fprintf(&b, " key=%q", capText(r.IdempotencyKey, 60))
	}
	if r.Created != "" {
		fmt.Fprintf(&b, " created=%s", r.Created)
	}
	if r.Replayed {
		b.WriteString(" replayed")
	}
	return b.String()
}

func lines(rs []journal.Request, max int) []string {
	var out []string
	for i, r := range rs {
		if i == max {
			out = append(out, fmt.Sprintf("… %d more", len(rs)-max))
			break
		}
		out = append(out, line(r))
	}
	return out
}

func capText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func evidence(o Observation, text string, excerpts ...string) finding.Evidence {
	return finding.Evidence{Scenario: o.Scenario, Trial: o.Trial, Text: text, Excerpts: excerpts}
}

// missing reports scenarios that should have run but have no journal.
func missing(obs Observations, names ...string) (finding.Judgement, bool) {
	for _, n := range names {
		if len(obs.Of(n)) == 0 {
			return finding.Judged(finding.NA, "scenario %s did not run or its journal could not be read", n), true
		}
	}
	return finding.Judgement{}, false
}
