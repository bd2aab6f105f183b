package compare

import (
	"cmp"
	"math"
	"slices"

	"github.com/itsm-grader/grader/grader/stats"
)

// compareScores lists every score per track with its median and, when both tracks have scores,
// Cliff's δ; unless exploratory, the Mann–Whitney test and δ's bootstrap interval. A score that
// is not a finite number (no report gives one) is left out.
func compareScores(groups [2][]Submission, exploratory bool, opts Options) Scores {
	var s Scores
	var values [2][]float64
	for t, group := range groups {
		for _, sub := range group {
			if math.IsNaN(sub.Score) || math.IsInf(sub.Score, 0) {
				continue
			}
			s.Tracks[t].Points = append(s.Tracks[t].Points, Point{Candidate: clean(sub.Candidate, maxName), Score: sub.Score})
			values[t] = append(values[t], sub.Score)
		}
		slices.SortFunc(s.Tracks[t].Points, func(a, b Point) int {
			return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.Candidate, b.Candidate))
		})
		s.Tracks[t].N = len(values[t])
		if len(values[t]) > 0 {
			s.Tracks[t].Median = ptr(round6(stats.Median(values[t])))
		}
	}
	if len(values[0]) == 0 || len(values[1]) == 0 {
		return s
	}
	delta := stats.CliffsDelta(values[0], values[1])
	s.CliffsDelta, s.Magnitude = ptr(round6(delta)), stats.DeltaMagnitude(delta)
	if exploratory {
		return s
	}
	mw := stats.MannWhitney(values[0], values[1])
	s.MannWhitney = &MannWhitney{U1: mw.U1, U2: mw.U2, P: round6(mw.P), Exact: mw.Exact, N: [2]int{len(values[0]), len(values[1])}}
	s.DeltaInterval = interval(stats.BootstrapDelta(values[0], values[1], opts.Bootstrap, opts.Seed))
	return s
}
