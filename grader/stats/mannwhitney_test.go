package stats

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMannWhitneyMatchesRsPublishedExamples: the two examples of R's ?wilcox.test (stats
// package, R Core Team), whose output is printed in R's documentation and its many copies.
func TestMannWhitneyMatchesRsPublishedExamples(t *testing.T) {
	t.Parallel()
	t.Run("permeability constants, no ties: exact", func(t *testing.T) {
		t.Parallel()
		// Hollander & Wolfe (1973), Nonparametric Statistical Methods, p. 69: permeability
		// constants of the human chorioamnion at term (x) and at 12–26 weeks (y).
		// wilcox.test(x, y): W = 35, p-value = 0.2544.
		x := []float64{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46}
		y := []float64{1.15, 0.88, 0.90, 0.74, 1.21}
		r := MannWhitney(x, y)
		require.True(t, r.Exact)
		require.Equal(t, 35.0, r.U1)
		require.Equal(t, 15.0, r.U2)
		require.InDelta(t, 0.2544, r.P, 5e-5)
	})
	t.Run("ozone in May and August, with ties: normal approximation", func(t *testing.T) {
		t.Parallel()
		// The airquality data (New York State Department of Conservation, 1973; Chambers et
		// al. 1983, Graphical Methods for Data Analysis), Ozone in May and in August without
		// the missing days. wilcox.test(Ozone ~ Month, data = airquality, subset = Month %in%
		// c(5, 8)): "Wilcoxon rank sum test with continuity correction", W = 127.5,
		// p-value = 0.0001208.
		may := []float64{41, 36, 12, 18, 28, 23, 19, 8, 7, 16, 11, 14, 18, 14, 34, 6, 30, 11, 1, 11, 4, 32, 23, 45, 115, 37}
		aug := []float64{39, 9, 16, 78, 35, 66, 122, 89, 110, 44, 28, 65, 22, 59, 23, 31, 44, 21, 9, 45, 168, 73, 76, 118, 84, 85}
		r := MannWhitney(may, aug)
		require.False(t, r.Exact)
		require.Equal(t, 127.5, r.U1)
		require.Equal(t, 26.0*26-127.5, r.U2)
		require.InDelta(t, 0.0001208, r.P, 5e-8)
	})
}

// TestExactMannWhitneyAgreesWithEnumeration: the exact p-value against a brute-force count over
// every assignment of the pooled values to the two groups, U counted pair by pair (code that
// shares nothing with the implementation).
func TestExactMannWhitneyAgreesWithEnumeration(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2026, 11))
	for _, size := range [][2]int{{1, 1}, {1, 5}, {2, 3}, {3, 3}, {4, 6}, {5, 5}, {6, 7}, {3, 11}, {7, 7}, {2, 13}} {
		for range 6 {
			n1, n2 := size[0], size[1]
			pooled := rng.Perm(n1 + n2) // distinct values: no ties
			x, y := make([]float64, n1), make([]float64, n2)
			for i := range x {
				x[i] = float64(pooled[i]) + rng.Float64()/2
			}
			for i := range y {
				y[i] = float64(pooled[n1+i]) + rng.Float64()/2
			}
			r := MannWhitney(x, y)
			require.True(t, r.Exact, "%d + %d without ties", n1, n2)
			require.InDelta(t, bruteForceP(x, y), r.P, 1e-12, "x %v y %v", x, y)
		}
	}
}

// bruteForceP: the share of all C(n1+n2, n1) splits of the pooled values whose U is at least as
// far from n1·n2/2 as the observed one.
func bruteForceP(x, y []float64) float64 {
	pooled := append(append([]float64{}, x...), y...)
	u := func(group func(i int) bool) float64 {
		count := 0.0
		for i := range pooled {
			for j := range pooled {
				if group(i) && !group(j) && pooled[i] > pooled[j] {
					count++
				}
			}
		}
		return count
	}
	n1, n2 := len(x), len(y)
	centre := float64(n1*n2) / 2
	observed := math.Abs(u(func(i int) bool { return i < n1 }) - centre)
	extreme, total := 0, 0
	for mask := uint32(0); mask < 1<<(n1+n2); mask++ {
		if bits.OnesCount32(mask) != n1 {
			continue
		}
		total++
		if math.Abs(u(func(i int) bool { return mask&(1<<i) != 0 })-centre) >= observed-1e-9 {
			extreme++
		}
	}
	return float64(extreme) / float64(total)
}

// TestExactAndNormalMeetAtTheLimit backs ExactLimit's comment: at 49 + 49, the largest exact
// case, the normal approximation is within 0.002 of the exact p-value for every U (measured:
// 0.0017, at U = 1095 where p is 0.46).
func TestExactAndNormalMeetAtTheLimit(t *testing.T) {
	t.Parallel()
	const n = ExactLimit - 1
	worst, counts := 0.0, uCounts(n, n)
	for u := 0; u <= n*n/2; u++ {
		exact := exactPOf(counts, u)
		normal := normalP(n, n, float64(u), 0)
		worst = max(worst, math.Abs(exact-normal))
	}
	require.Less(t, worst, 0.002)
	require.Greater(t, worst, 0.0, "the two computations are distinct")
}

func TestMannWhitneyEdgeCases(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		x, y  []float64
		u1, p float64
		exact bool
	}{
		{"every value tied: no evidence of a shift", []float64{3, 3, 3}, []float64{3, 3}, 3, 1, false},
		{"complete separation of 5 + 5", []float64{6, 7, 8, 9, 10}, []float64{1, 2, 3, 4, 5}, 25, 2.0 / 252, true},
		{"one against one", []float64{2}, []float64{1}, 1, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := MannWhitney(c.x, c.y)
			require.Equal(t, c.u1, r.U1)
			require.InDelta(t, c.p, r.P, 1e-12)
			require.Equal(t, c.exact, r.Exact)
		})
	}
	require.True(t, math.IsNaN(MannWhitney(nil, []float64{1}).P), "an empty group")
}

// TestMannWhitneyIgnoresWhichGroupComesFirst: swapping the groups swaps U1 and U2 and keeps P.
func TestMannWhitneyIgnoresWhichGroupComesFirst(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 8))
	for range 300 {
		x, y := make([]float64, 1+rng.IntN(70)), make([]float64, 1+rng.IntN(70))
		for i := range x {
			x[i] = float64(rng.IntN(40)) // ties, sometimes
		}
		for i := range y {
			y[i] = float64(rng.IntN(40)) + rng.Float64()
		}
		a, b := MannWhitney(x, y), MannWhitney(y, x)
		require.Equal(t, a.U1, b.U2)
		require.Equal(t, a.U2, b.U1)
		require.InDelta(t, a.P, b.P, 1e-12)
		require.True(t, a.P > 0 && a.P <= 1)
		require.Equal(t, float64(len(x)*len(y)), a.U1+a.U2)
	}
}
