package stats

import "sort"

// BenjaminiHochberg turns m p-values into q-values, in the same order (Benjamini & Hochberg
// 1995, "Controlling the false discovery rate", JRSS B 57:289–300; the step-up q-values as R's
// p.adjust(method = "BH")): with the p-values sorted, p_(1) ≤ … ≤ p_(m),
//
//	q_(i) = min over j ≥ i of min(1, m · p_(j) / j).
//
// Declaring every finding with q ≤ α a difference keeps the expected share of false ones among
// them at most α. m is len(p): pass every p-value of the family, tested or not significant.
// p-values must be numbers in [0, 1].
func BenjaminiHochberg(p []float64) []float64 {
	m := len(p)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return p[order[i]] < p[order[j]] })
	q := make([]float64, m)
	running := 1.0
	for rank := m; rank >= 1; rank-- {
		i := order[rank-1]
		running = min(running, p[i]*(float64(m)/float64(rank))) // m/m is exactly 1: q ≥ p
		q[i] = running
	}
	return q
}
