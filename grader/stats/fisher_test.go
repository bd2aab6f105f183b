package stats

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFisherMatchesPublishedValues(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		a, b, c, d int
		p, within  float64 // half a unit of the last digit published
	}{
		// The research note's check values: pass counts of two groups of 5 and of 10.
		{"4/5 against 0/5", 4, 1, 0, 5, 0.0476, 5e-5},
		{"5/5 against 0/5", 5, 0, 0, 5, 0.00794, 5e-6},
		{"7/10 against 2/10", 7, 3, 2, 8, 0.0698, 5e-5},
		// Fisher's tea-tasting lady (Agresti 2002, Categorical Data Analysis, §3.5.2, Table
		// 3.8): 3 of 4 cups right, two-sided P = 0.486.
		{"the tea-tasting lady", 3, 1, 1, 3, 0.486, 5e-4},
		{"no difference at all", 5, 5, 5, 5, 1, 1e-12},
		{"an empty table", 0, 0, 0, 0, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, c.p, FisherExact(c.a, c.b, c.c, c.d), c.within)
		})
	}
	require.True(t, math.IsNaN(FisherExact(-1, 2, 3, 4)), "a negative count is not a table")
}

// TestFisherAgreesWithExactRationals compares every 2×2 table with rows of up to 9 against an
// independent computation in exact rational arithmetic (no logarithms, no tolerance: tables of
// equal probability compare equal).
func TestFisherAgreesWithExactRationals(t *testing.T) {
	t.Parallel()
	for r1 := 1; r1 <= 9; r1++ {
		for r2 := 1; r2 <= 9; r2++ {
			for a := 0; a <= r1; a++ {
				for c := 0; c <= r2; c++ {
					want, _ := fisherRational(a, r1-a, c, r2-c).Float64()
					require.InDelta(t, want, FisherExact(a, r1-a, c, r2-c), 1e-12, "table %d %d / %d %d", a, r1-a, c, r2-c)
				}
			}
		}
	}
}

func fisherRational(a, b, c, d int) *big.Rat {
	r1, r2, c1 := a+b, c+d, a+c
	prob := func(x int) *big.Rat {
		num := new(big.Int).Mul(new(big.Int).Binomial(int64(r1), int64(x)), new(big.Int).Binomial(int64(r2), int64(c1-x)))
		return new(big.Rat).SetFrac(num, new(big.Int).Binomial(int64(r1+r2), int64(c1)))
	}
	observed := prob(a)
	sum := new(big.Rat)
	for x := max(0, c1-r2); x <= min(r1, c1); x++ {
		if p := prob(x); p.Cmp(observed) <= 0 {
			sum.Add(sum, p)
		}
	}
	return sum
}

// TestFisherIgnoresWhichGroupComesFirst: swapping the groups, or pass with not pass, changes
// nothing two-sided; the p-value is a probability.
func TestFisherIgnoresWhichGroupComesFirst(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	for range 2000 {
		a, b, c, d := rng.IntN(60), rng.IntN(60), rng.IntN(60), rng.IntN(60)
		p := FisherExact(a, b, c, d)
		require.True(t, p > 0 && p <= 1, "p = %v", p)
		require.InDelta(t, p, FisherExact(c, d, a, b), 1e-9)
		require.InDelta(t, p, FisherExact(b, a, d, c), 1e-9)
	}
}
