package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// CliffsDelta is Cliff's dominance statistic (Cliff 1993, Psychological Bulletin 114:494–509):
// the share of pairs (x, y) with x > y minus the share with x < y, from −1 (every y larger) to
// 1 (every x larger). With U1 from MannWhitney, δ = 2·U1/(n1·n2) − 1. NaN when a group is empty.
func CliffsDelta(x, y []float64) float64 {
	if len(x) == 0 || len(y) == 0 {
		return math.NaN()
	}
	u1, _ := uStatistic(x, y)
	return 2*u1/(float64(len(x))*float64(len(y))) - 1
}

// DeltaMagnitude names the size of a Cliff's δ by the thresholds of Romano et al. (2006,
// "Appropriate statistics for ordinal level data", Annual meeting of the Florida Association
// of Institutional Research): |δ| < 0.147 negligible, < 0.33 small, < 0.474 medium, else large.
func DeltaMagnitude(d float64) string {
	switch a := math.Abs(d); {
	case math.IsNaN(d):
		return "undefined"
	case a < 0.147:
		return "negligible"
	case a < 0.33:
		return "small"
	case a < 0.474:
		return "medium"
	default:
		return "large"
	}
}

// BootstrapStream is the PCG stream (the second word of rand.NewPCG) of BootstrapDelta's
// generator; the seed is the first word.
const BootstrapStream = 0x9e3779b97f4a7c15

// BootstrapDelta is the 95 % percentile bootstrap interval of Cliff's δ (Efron & Tibshirani
// 1993, An Introduction to the Bootstrap, §13.3): b times, each group is resampled with
// replacement within itself (stratified: the group sizes stay n1 and n2) and δ computed again;
// the limits are the 2.5th and 97.5th percentiles of the b values, interpolated between order
// statistics (Hyndman & Fan 1996, type 7, R's default quantile). The generator is
// rand.NewPCG(seed, BootstrapStream): the same data, b and seed give the same interval.
//
// Each resample's δ costs O(n1 + n2), not O(n1·n2): the values are sorted once and each x knows
// how many y's lie below it and how many at or below it, so δ·n1·n2 is the sum over the drawn
// x's of (drawn y's below) − (drawn y's above), read from a prefix sum of the y's draw counts.
// An empty group or b < 1 gives an undefined interval.
func BootstrapDelta(x, y []float64, b int, seed uint64) Interval {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 || b < 1 {
		return Interval{}
	}
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	below, atOrBelow := make([]int, n1), make([]int, n1)
	for i, v := range xs {
		below[i] = sort.SearchFloat64s(ys, v)
		atOrBelow[i] = sort.Search(n2, func(j int) bool { return ys[j] > v })
	}
	rng := rand.New(rand.NewPCG(seed, BootstrapStream))
	drawn := make([]int, n2+1) // drawn[j+1]: draws of ys[j]; then its prefix sums
	deltas := make([]float64, b)
	pairs := float64(n1) * float64(n2)
	for r := range deltas {
		clear(drawn)
		for range n2 {
			drawn[rng.IntN(n2)+1]++
		}
		for j := 1; j <= n2; j++ {
			drawn[j] += drawn[j-1]
		}
		sum := 0
		for range n1 {
			i := rng.IntN(n1)
			sum += drawn[below[i]] - (n2 - drawn[atOrBelow[i]])
		}
		deltas[r] = float64(sum) / pairs
	}
	slices.Sort(deltas)
	return Interval{Lo: quantile(deltas, 0.025), Hi: quantile(deltas, 0.975), Defined: true}
}

// quantile is the type-7 quantile of sorted values.
func quantile(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p
	lo := int(math.Floor(h))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}
