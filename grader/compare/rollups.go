package compare

import (
	"slices"
	"strings"
)

// indicatorKinds orders the indicators: the kit's positive, then negative, then the task's
// requirements, then anything else.
var indicatorKinds = []string{"positive", "negative", "requirement"}

// rollUpIndicators pools, per indicator and track, the verdicts of the findings that name it.
func rollUpIndicators(groups [2][]Submission) []IndicatorRow {
	type key struct{ kind, text string }
	rows := map[key]*IndicatorRow{}
	for t, group := range groups {
		for _, s := range group {
			for _, v := range s.Findings {
				if v.Indicator.Text == "" {
					continue
				}
				k := key{clean(v.Indicator.Kind, maxID), clean(v.Indicator.Text, maxText)}
				r := rows[k]
				if r == nil {
					r = &IndicatorRow{Kind: k.kind, Text: k.text}
					rows[k] = r
				}
				if id := clean(v.ID, maxID); !slices.Contains(r.Findings, id) {
					r.Findings = append(r.Findings, id)
				}
				var one Rate
				tallyVerdict(&one, v.Verdict)
				r.Tracks[t].Pass += one.Pass
				r.Tracks[t].N += one.N
			}
		}
	}
	out := make([]IndicatorRow, 0, len(rows))
	for _, r := range rows {
		for t := range r.Tracks {
			if r.Tracks[t].N > 0 {
				r.Tracks[t].Rate = ptr(round6(float64(r.Tracks[t].Pass) / float64(r.Tracks[t].N)))
			}
		}
		slices.Sort(r.Findings)
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b IndicatorRow) int {
		if c := kindRank(a.Kind) - kindRank(b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Text, b.Text)
	})
	return out
}

func kindRank(kind string) int {
	if i := slices.Index(indicatorKinds, kind); i >= 0 {
		return i
	}
	return len(indicatorKinds)
}

// countCritical counts, per track, the submissions with each critical finding and with any.
func countCritical(groups [2][]Submission) CriticalSummary {
	var c CriticalSummary
	byID := map[string]*CriticalRow{}
	for t, group := range groups {
		for _, s := range group {
			var ids []string
			for _, v := range s.Findings {
				if id := clean(v.ID, maxID); v.Critical && !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
			if len(ids) > 0 {
				c.Any[t]++
			}
			for _, id := range ids {
				if byID[id] == nil {
					byID[id] = &CriticalRow{ID: id}
				}
				byID[id].Submissions[t]++
			}
		}
	}
	c.Findings = []CriticalRow{}
	for _, r := range byID {
		c.Findings = append(c.Findings, *r)
	}
	slices.SortFunc(c.Findings, func(a, b CriticalRow) int {
		if d := (b.Submissions[0] + b.Submissions[1]) - (a.Submissions[0] + a.Submissions[1]); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	return c
}

// tallyRationale tallies what the AI track's rationales say; nil when neither track is "ai".
func tallyRationale(groups [2][]Submission, tracks [2]string) *RationaleSummary {
	t := slices.Index(tracks[:], TrackAI)
	if t < 0 {
		return nil
	}
	r := &RationaleSummary{Track: TrackAI, Submissions: len(groups[t])}
	kinds := map[string]*RationaleKind{}
	for _, k := range rationaleKinds {
		r.Kinds = append(r.Kinds, RationaleKind{Kind: k, Said: []Said{}})
	}
	for i := range r.Kinds {
		kinds[r.Kinds[i].Kind] = &r.Kinds[i]
	}
	for _, s := range groups[t] {
		if len(s.Rationale) > 0 {
			r.WithRationale++
		}
		name := clean(s.Candidate, maxName)
		counted := map[string]bool{}
		for _, item := range s.Rationale {
			k := kinds[item.Kind]
			if k == nil {
				continue
			}
			if !counted[item.Kind] {
				counted[item.Kind] = true
				k.Submissions++
			}
			k.Said = append(k.Said, Said{Candidate: name, Text: clean(item.Text, maxText)})
		}
	}
	return r
}
