package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCliffsDelta(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		x, y  []float64
		delta float64
	}{
		// Counted by hand: (1,2) <, (1,4) <, (2,2) =, (2,4) <, (3,2) >, (3,4) <: one pair
		// greater, four smaller, of six: δ = (1 − 4)/6.
		{"three against two, one tie", []float64{1, 2, 3}, []float64{2, 4}, -0.5},
		// Counted by hand: 10 beats all four; 7 beats 5 and 6 and ties 7, loses to 9; 5 ties
		// 5, loses to 6, 7, 9: greater 4 + 2 = 6, smaller 1 + 3 = 4, of 12: δ = 2/12.
		{"three against four", []float64{10, 7, 5}, []float64{5, 6, 7, 9}, 2.0 / 12},
		{"every x larger", []float64{5, 6}, []float64{1, 2, 3}, 1},
		{"identical groups", []float64{1, 2, 3}, []float64{1, 2, 3}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, c.delta, CliffsDelta(c.x, c.y), 1e-12)
			require.InDelta(t, -c.delta, CliffsDelta(c.y, c.x), 1e-12, "swapping the groups negates δ")
		})
	}
	require.True(t, math.IsNaN(CliffsDelta(nil, []float64{1})))
}

// TestCliffsDeltaCountsPairs: over random data with ties, δ equals the pair count it is defined
// by, lies in [−1, 1], and changes sign with the order of the groups.
func TestCliffsDeltaCountsPairs(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	for range 300 {
		x, y := make([]float64, 1+rng.IntN(30)), make([]float64, 1+rng.IntN(30))
		for i := range x {
			x[i] = float64(rng.IntN(12))
		}
		for i := range y {
			y[i] = float64(rng.IntN(12))
		}
		d := CliffsDelta(x, y)
		require.InDelta(t, pairDelta(x, y), d, 1e-12)
		require.True(t, d >= -1 && d <= 1)
		require.InDelta(t, -d, CliffsDelta(y, x), 1e-12)
	}
}

func pairDelta(x, y []float64) float64 {
	sum := 0
	for _, a := range x {
		for _, b := range y {
			switch {
			case a > b:
				sum++
			case a < b:
				sum--
			}
		}
	}
	return float64(sum) / float64(len(x)*len(y))
}

func TestDeltaMagnitude(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    float64
		want string
	}{
		{0, "negligible"}, {0.146, "negligible"}, {-0.146, "negligible"},
		{0.147, "small"}, {-0.329, "small"},
		{0.33, "medium"}, {-0.473, "medium"},
		{0.474, "large"}, {-1, "large"},
		{math.NaN(), "undefined"},
	} {
		require.Equal(t, c.want, DeltaMagnitude(c.d), "δ = %v", c.d)
	}
}

// TestBootstrapMatchesANaiveResampler: the O(n1 + n2) resampling gives exactly the interval of a
// naive one that draws the same indices and counts δ pair by pair.
func TestBootstrapMatchesANaiveResampler(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range [][2]int{{1, 1}, {3, 5}, {12, 9}, {25, 40}} {
		x, y := make([]float64, size[0]), make([]float64, size[1])
		for i := range x {
			x[i] = float64(rng.IntN(10))
		}
		for i := range y {
			y[i] = float64(rng.IntN(10)) + 0.5*float64(rng.IntN(2))
		}
		const b, seed = 400, 42
		require.Equal(t, naiveBootstrap(x, y, b, seed), BootstrapDelta(x, y, b, seed), "%d + %d", size[0], size[1])
	}
}

// naiveBootstrap draws as BootstrapDelta documents (per replicate: n2 indices into the sorted y,
// then n1 into the sorted x, from rand.NewPCG(seed, BootstrapStream)) and counts δ pair by pair.
func naiveBootstrap(x, y []float64, b int, seed uint64) Interval {
	xs, ys := append([]float64{}, x...), append([]float64{}, y...)
	sortFloats(xs)
	sortFloats(ys)
	rng := rand.New(rand.NewPCG(seed, BootstrapStream))
	deltas := make([]float64, b)
	for r := range deltas {
		ry, rx := make([]float64, len(ys)), make([]float64, len(xs))
		for i := range ry {
			ry[i] = ys[rng.IntN(len(ys))]
		}
		for i := range rx {
			rx[i] = xs[rng.IntN(len(xs))]
		}
		deltas[r] = pairDelta(rx, ry)
	}
	sortFloats(deltas)
	at := func(p float64) float64 { // type 7, written out
		h := float64(b-1) * p
		i := int(h)
		if i+1 >= b {
			return deltas[b-1]
		}
		return deltas[i] + (h-float64(i))*(deltas[i+1]-deltas[i])
	}
	return Interval{Lo: at(0.025), Hi: at(0.975), Defined: true}
}

func sortFloats(v []float64) {
	for i := 1; i < len(v); i++ { // insertion sort: independent of the slices package
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

func TestBootstrapIsSeeded(t *testing.T) {
	t.Parallel()
	x := []float64{55, 61, 70, 72, 80, 81, 90, 91, 93, 100, 64, 77}
	y := []float64{40, 52, 55, 60, 61, 66, 70, 73, 79, 85, 58, 49}
	a, b := BootstrapDelta(x, y, 2000, 7), BootstrapDelta(x, y, 2000, 7)
	require.Equal(t, a, b, "the same seed gives the same interval")
	require.NotEqual(t, a, BootstrapDelta(x, y, 2000, 8), "another seed draws other resamples")
	require.True(t, a.Contains(CliffsDelta(x, y)), "%+v holds δ = %v", a, CliffsDelta(x, y))
	require.Equal(t, Interval{Lo: 1, Hi: 1, Defined: true}, BootstrapDelta([]float64{5, 6}, []float64{1, 2}, 100, 1), "complete separation stays so")
	require.False(t, BootstrapDelta(nil, y, 100, 1).Defined)
	require.False(t, BootstrapDelta(x, y, 0, 1).Defined)
}

func TestMedian(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		x    []float64
		want float64
	}{
		{"odd count", []float64{5, 1, 3}, 3},
		{"even count: mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
		{"one value", []float64{7}, 7},
	} {
		x := append([]float64{}, c.x...)
		require.Equal(t, c.want, Median(x), c.name)
		require.Equal(t, c.x, x, "the input is not sorted in place")
	}
	require.True(t, math.IsNaN(Median(nil)))
}
