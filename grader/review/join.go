package review

import (
	"fmt"

	"github.com/itsm-grader/grader/grader/finding"
)

// Join sets each static finding's Related to the measured findings that speak to the same
// behaviour (and each of those to it), so a report shows a static "TLS verification off" beside
// the measured "token sent to the untrusted listener". Where a static finding and its mirror (the
// measured finding that observes the very same behaviour) disagree, the static summary says so: the runs never took the path the code has, or the runs saw what the review
// could not recognise (the measured verdict is the ground truth of behaviour).
func Join(findings []finding.Finding) {
	index := map[string]int{}
	for i, f := range findings {
		index[f.ID] = i
	}
	for _, r := range Rules() {
		si, ok := index[r.ID]
		if !ok {
			continue
		}
		for _, id := range r.Related {
			mi, ok := index[id]
			if !ok {
				continue
			}
			s, m := &findings[si], &findings[mi]
			s.Related = append(s.Related, related(*m))
			m.Related = append(m.Related, related(*s))
			if id != r.Mirror {
				continue
			}
			switch {
			case s.Verdict == finding.Fail && m.Verdict == finding.Pass && id == "secrets.output":
				// The runs see a fragment of 8 characters and more; a shorter one logged is the
				// review's alone to see, whatever path the runs took.
				s.Summary += " (the runs printed no token nor a fragment of 8 characters or more: either they never took this path, or what it logs is shorter than secrets.output can tell from chance)"
			case s.Verdict == finding.Fail && m.Verdict == finding.Pass:
				s.Summary += fmt.Sprintf(" (the runs never took this path: %s passes)", id)
			case s.Verdict == finding.Fail && m.Verdict == finding.Warn:
				s.Summary += fmt.Sprintf(" (%s warns: the runs showed it in part)", id)
			case s.Verdict == finding.Pass && m.Verdict == finding.Fail:
				s.Summary += fmt.Sprintf(" (yet %s fails: the runs saw what this review did not recognise in the code)", id)
			}
		}
	}
}

func related(f finding.Finding) finding.Related {
	return finding.Related{ID: f.ID, Kind: f.Kind, Verdict: f.Verdict, Summary: f.Summary}
}
