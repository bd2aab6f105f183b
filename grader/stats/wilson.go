package stats

import "math"

// Wilson is the Wilson score interval for a proportion k/n (Wilson 1927, "Probable inference,
// the law of succession, and statistical inference", JASA 22:209–212):
//
//	p̂ = k/n, centre = (p̂ + z²/2n) / (1 + z²/n),
//	half = z/(1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²),
//
// with z = Z95, clamped to [0, 1] (the limits at k = 0 and k = n are 0 and 1 up to rounding).
// n = 0 gives an undefined interval. k outside [0, n] is a caller's error and also gives one.
func Wilson(k, n int) Interval {
	if n <= 0 || k < 0 || k > n {
		return Interval{}
	}
	p, nf, z2 := float64(k)/float64(n), float64(n), Z95*Z95
	denom := 1 + z2/nf
	centre := (p + z2/(2*nf)) / denom
	half := Z95 / denom * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi := clamp(centre-half, 0, 1), clamp(centre+half, 0, 1)
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return Interval{Lo: lo, Hi: hi, Defined: true}
}

// Newcombe is the hybrid score interval for the difference of two independent proportions
// p1 − p2 = k1/n1 − k2/n2, built from the two Wilson intervals [l1, u1] and [l2, u2]
// (Newcombe 1998, "Interval estimation for the difference between independent proportions:
// comparison of eleven methods", Statistics in Medicine 17:873–890, method 10):
//
//	L = (p1 − p2) − √((p1 − l1)² + (u2 − p2)²),
//	U = (p1 − p2) + √((u1 − p1)² + (p2 − l2)²).
//
// Either group empty gives an undefined interval.
func Newcombe(k1, n1, k2, n2 int) Interval {
	w1, w2 := Wilson(k1, n1), Wilson(k2, n2)
	if !w1.Defined || !w2.Defined {
		return Interval{}
	}
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	d := p1 - p2
	lo := d - math.Hypot(p1-w1.Lo, w2.Hi-p2)
	hi := d + math.Hypot(w1.Hi-p1, p2-w2.Lo)
	return Interval{Lo: clamp(lo, -1, 1), Hi: clamp(hi, -1, 1), Defined: true}
}
