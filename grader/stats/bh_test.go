package stats

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBenjaminiHochberg(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		p, q []float64
	}{
		{
			// By hand: sorted 0.005 (1), 0.01 (2), 0.03 (3), 0.04 (4); m·p/j = 0.02, 0.02, 0.04,
			// 0.04; the running minimum from the largest leaves them so; back in input order.
			name: "four p-values worked by hand",
			p:    []float64{0.01, 0.04, 0.03, 0.005},
			q:    []float64{0.02, 0.04, 0.04, 0.02},
		},
		{
			// By hand: sorted 0.05/3 (1), 0.03 (2), 0.1 (3); m·p/j = 0.05, 0.045, 0.1; the running
			// minimum from the largest carries 0.045 down to the smallest.
			name: "a larger p-value lowers a smaller one's q",
			p:    []float64{0.1, 0.03, 0.05 / 3},
			q:    []float64{0.1, 0.045, 0.045},
		},
		{name: "a single test is its own q", p: []float64{0.2}, q: []float64{0.2}},
		{name: "q never exceeds 1", p: []float64{0.9, 0.95}, q: []float64{0.95, 0.95}},
		{name: "nothing to adjust", p: []float64{}, q: []float64{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			q := BenjaminiHochberg(c.p)
			require.Len(t, q, len(c.q))
			for i := range q {
				require.InDelta(t, c.q[i], q[i], 1e-12, "q[%d]", i)
			}
		})
	}
}

// TestBenjaminiHochbergPublishedExample: Benjamini & Hochberg (1995), JRSS B 57:289–300, §4: of
// 15 p-values from a trial of thrombolytic treatment, the procedure at q* = 0.05 rejects the four
// smallest (where Bonferroni rejects three).
func TestBenjaminiHochbergPublishedExample(t *testing.T) {
	t.Parallel()
	p := []float64{0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000}
	q := BenjaminiHochberg(p)
	var rejected []int
	for i, v := range q {
		if v <= 0.05 {
			rejected = append(rejected, i)
		}
	}
	require.Equal(t, []int{0, 1, 2, 3}, rejected)
	require.InDelta(t, 15*0.0095/4, q[3], 1e-12)
	require.InDelta(t, 15*0.0201/5, q[4], 1e-12)
}

// TestQValuesKeepTheOrderOfTheirPValues: over random families, q ≥ p, q ≤ 1, the order of the
// p-values is kept, and shuffling the family shuffles the q-values with it.
func TestQValuesKeepTheOrderOfTheirPValues(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 5))
	for range 500 {
		p := make([]float64, 1+rng.IntN(40))
		for i := range p {
			p[i] = rng.Float64() * rng.Float64()
		}
		before := slices.Clone(p)
		q := BenjaminiHochberg(p)
		require.Equal(t, before, p, "the p-values are not modified")
		for i := range p {
			require.True(t, q[i] >= p[i] && q[i] <= 1)
			for j := range p {
				if p[i] <= p[j] {
					require.LessOrEqual(t, q[i], q[j])
				}
			}
		}
		perm := rng.Perm(len(p))
		shuffled := make([]float64, len(p))
		for i, j := range perm {
			shuffled[i] = p[j]
		}
		qs := BenjaminiHochberg(shuffled)
		for i, j := range perm {
			require.InDelta(t, q[j], qs[i], 1e-15)
		}
	}
}
