package finding

import (
	"fmt"
	"slices"
)

// Judgement is what a check (measured) or a rule (static) concluded, before the check's or the
// rule's metadata makes it a Finding.
type Judgement struct {
	Verdict  Verdict
	Summary  string
	Evidence []Evidence
	Measured map[string]float64
	// Obscured names the findings whose flaws kept this one from observing part of its
	// behaviour (a payload the schema refused, a build that failed, a run stopped at its
	// budget): the verdict rests on what was observed and is not lowered for the rest.
	Obscured []string
}

// ObscuredBy records that another finding's flaw kept part of the behaviour from being seen.
func (j Judgement) ObscuredBy(ids ...string) Judgement {
	for _, id := range ids {
		if !slices.Contains(j.Obscured, id) {
			j.Obscured = append(j.Obscured, id)
		}
	}
	return j
}

// Judged starts a judgement with its verdict and summary.
func Judged(v Verdict, format string, args ...any) Judgement {
	return Judgement{Verdict: v, Summary: fmt.Sprintf(format, args...)}
}

// With adds evidence.
func (j Judgement) With(ev ...Evidence) Judgement {
	j.Evidence = append(j.Evidence, ev...)
	return j
}

// Measure records a number the verdict stands on.
func (j Judgement) Measure(name string, v float64) Judgement {
	if j.Measured == nil {
		j.Measured = map[string]float64{}
	}
	j.Measured[name] = v
	return j
}
