// Package stats holds the statistics a cohort comparison needs, written by hand because no
// well-kept Go library has them (gonum has none): Wilson and Newcombe intervals for pass rates,
// Fisher's exact test, Benjamini–Hochberg q-values, the Mann–Whitney U test, Cliff's δ with a
// seeded stratified bootstrap interval, and the median. Every function is pure; each documents
// its formula and where it comes from, and its tests check it against published values or an
// independent computation.
package stats

// Z95 is the standard normal quantile Φ⁻¹(0.975): the z of every 95 % interval here.
const Z95 = 1.959963984540054

// Interval is a 95 % confidence interval [Lo, Hi]. Defined is false when the data cannot support
// one (no observations in a group): Lo and Hi are then zero and mean nothing.
type Interval struct {
	Lo, Hi  float64
	Defined bool
}

// Contains says whether v lies in a defined interval.
func (i Interval) Contains(v float64) bool {
	return i.Defined && i.Lo <= v && v <= i.Hi
}

func clamp(v, lo, hi float64) float64 {
	return min(max(v, lo), hi)
}
