package stats

import "math"

// FisherExact is the two-sided p-value of Fisher's exact test on the 2×2 table
//
//	a b
//	c d
//
// (rows: the two groups; columns: pass, not pass). With the margins fixed, a follows the
// hypergeometric distribution
//
//	P(x) = C(a+b, x) · C(c+d, a+c−x) / C(n, a+c),  max(0, a+c−(c+d)) ≤ x ≤ min(a+b, a+c),
//
// computed as exp of log-binomials through math.Lgamma. The p-value sums P(x) over every table
// no more probable than the observed one, P(x) ≤ P(a)·(1 + 1e-7): the relative tolerance keeps
// tables of equal probability that rounding would otherwise split (R's fisher.test does the
// same). Agresti, Categorical Data Analysis (2002), §3.5. A negative cell gives NaN; an empty
// table gives 1.
func FisherExact(a, b, c, d int) float64 {
	if a < 0 || b < 0 || c < 0 || d < 0 {
		return math.NaN()
	}
	r1, r2, c1 := a+b, c+d, a+c
	n := r1 + r2
	if n == 0 {
		return 1
	}
	logDenom := logChoose(n, c1)
	logP := func(x int) float64 { return logChoose(r1, x) + logChoose(r2, c1-x) - logDenom }
	limit := logP(a) + math.Log1p(1e-7)
	sum := 0.0
	for x := max(0, c1-r2); x <= min(r1, c1); x++ {
		if lp := logP(x); lp <= limit {
			sum += math.Exp(lp)
		}
	}
	return min(sum, 1)
}

// logChoose is log C(n, k) for 0 ≤ k ≤ n.
func logChoose(n, k int) float64 {
	return lgamma(float64(n)+1) - lgamma(float64(k)+1) - lgamma(float64(n-k)+1)
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}
