package stats

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWilsonMatchesPublishedLimits(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		k, n   int
		lo, hi float64
	}{
		// The research note's check values. 0/10's upper limit, 0.2775, is also the width
		// Newcombe (1998, below) reports for example (f), 0/10 − 0/10, and 0/20's, 0.1611, the
		// lower limit of (e).
		{"none of ten", 0, 10, 0, 0.2775},
		{"none of twenty", 0, 20, 0, 0.1611},
		{"seven of ten", 7, 10, 0.3968, 0.8922},
		{"all of ten mirrors none of ten", 10, 10, 1 - 0.2775, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := Wilson(c.k, c.n)
			require.True(t, w.Defined)
			require.InDelta(t, c.lo, w.Lo, 5e-5)
			require.InDelta(t, c.hi, w.Hi, 5e-5)
		})
	}
}

func TestWilsonOfNothingIsUndefined(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		k, n int
	}{{"no observations", 0, 0}, {"more passes than observations", 3, 2}, {"negative count", -1, 4}} {
		require.False(t, Wilson(c.k, c.n).Defined, c.name)
		require.False(t, Wilson(c.k, c.n).Contains(0), c.name)
	}
}

// TestNewcombeMatchesTheMethodTenColumn: Newcombe (1998), "Interval estimation for the difference
// between independent proportions: comparison of eleven methods", Statistics in Medicine
// 17:873–890, Table II, method 10 (score interval from the Wilson limits), examples (a)–(h).
// (a) and (b) are also the check values of R's propint package (tests of ci.two.indep.props).
func TestNewcombeMatchesTheMethodTenColumn(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name           string
		k1, n1, k2, n2 int
		lo, hi         float64
	}{
		{"(a) 56/70 − 48/80", 56, 70, 48, 80, 0.0524, 0.3339},
		{"(b) 9/10 − 3/10", 9, 10, 3, 10, 0.1705, 0.8090},
		{"(c) 6/7 − 2/7", 6, 7, 2, 7, 0.0582, 0.8062},
		{"(d) 5/56 − 0/29", 5, 56, 0, 29, -0.0381, 0.1926},
		{"(e) 0/10 − 0/20", 0, 10, 0, 20, -0.1611, 0.2775},
		{"(f) 0/10 − 0/10", 0, 10, 0, 10, -0.2775, 0.2775},
		{"(g) 10/10 − 0/20", 10, 10, 0, 20, 0.6791, 1},
		{"(h) 10/10 − 0/10", 10, 10, 0, 10, 0.6075, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			i := Newcombe(c.k1, c.n1, c.k2, c.n2)
			require.True(t, i.Defined)
			require.InDelta(t, c.lo, i.Lo, 5e-5)
			require.InDelta(t, c.hi, i.Hi, 5e-5)
		})
	}
	require.False(t, Newcombe(1, 2, 0, 0).Defined, "an empty group has no difference")
	require.False(t, Newcombe(0, 0, 1, 2).Defined, "an empty group has no difference")
}

// TestIntervalsHoldTheirEstimateAndMirror: over random counts, each interval holds its estimate
// within its bounds, and swapping the groups mirrors the difference's interval.
func TestIntervalsHoldTheirEstimateAndMirror(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 1))
	for range 5000 {
		n1, n2 := 1+rng.IntN(300), 1+rng.IntN(300)
		k1, k2 := rng.IntN(n1+1), rng.IntN(n2+1)
		p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
		w := Wilson(k1, n1)
		require.True(t, 0 <= w.Lo && w.Lo <= p1 && p1 <= w.Hi && w.Hi <= 1, "Wilson(%d, %d) = %+v", k1, n1, w)
		d, back := Newcombe(k1, n1, k2, n2), Newcombe(k2, n2, k1, n1)
		require.True(t, -1 <= d.Lo && d.Lo <= p1-p2+1e-12 && p1-p2-1e-12 <= d.Hi && d.Hi <= 1, "Newcombe(%d, %d, %d, %d) = %+v", k1, n1, k2, n2, d)
		require.InDelta(t, d.Lo, -back.Hi, 1e-12)
		require.InDelta(t, d.Hi, -back.Lo, 1e-12)
	}
}
