package checks

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
)

// simulatedPolicy is a backoff policy: the wait before retry i (1-based).
type simulatedPolicy func(rng *rand.Rand, i int) time.Duration

func millis(x float64) time.Duration { return time.Duration(x * float64(time.Millisecond)) }

// exponentialPolicy waits base × factor^(i−1), capped (0: no cap), scaled by jitter (a draw in
// [0, 1) for full jitter).
func exponentialPolicy(base, factor, capMS float64, jitter func(*rand.Rand) float64) simulatedPolicy {
	return func(rng *rand.Rand, i int) time.Duration {
		m := base
		for k := 1; k < i; k++ {
			m *= factor
		}
		if capMS > 0 {
			m = min(m, capMS)
		}
		return millis(m * jitter(rng))
	}
}

func fullJitter(rng *rand.Rand) float64  { return rng.Float64() }
func equalJitter(rng *rand.Rand) float64 { return 0.5 + rng.Float64()/2 }
func noJitter(*rand.Rand) float64        { return 1 }

// simulatedWaits is one backoff scenario's waits as the plan gives them (8 faulted tickets × 3
// trials = 24 waits at each of 4 retry indexes) under thresholds.go's noise model: 5–15 ms on
// every wait, 3 % of waits stretched by 50–300 ms.
func simulatedWaits(rng *rand.Rand, policy simulatedPolicy) [][]wait {
	const samples, indexes = 24, 4
	out := make([][]wait, indexes)
	for i := 1; i <= indexes; i++ {
		for range samples {
			d := policy(rng, i) + millis(5+10*rng.Float64())
			if rng.Float64() < 0.03 {
				d += millis(50 + 250*rng.Float64())
			}
			out[i-1] = append(out[i-1], wait{d: d})
		}
	}
	return out
}

func classifyWaits(waits [][]wait) finding.Verdict {
	env := make([]time.Duration, len(waits))
	for i, ws := range waits {
		env[i], _ = envelopeOf(ws)
	}
	v, _ := classifyEnvelope(env, medianWait(waits[0]))
	return v
}

// TestBackoffGrowthSimulated holds backoff.growth to the error rates thresholds.go claims, over
// simulated suites: the shapes it must get right (at least the share given), and, logged, the
// shapes this plan cannot tell apart yet (fixtures/pending/README.md): a linear policy with full
// jitter, an exponential one growing by 1.5, and one that reaches its cap by the fourth retry.
// Measured with 20,000 suites each (2026-12-01): linear 500 ms × n with full jitter pass 9.5 %,
// warn 25 %, fail 65 %; exponential × 1.5 from 300 ms pass 20 %, warn 60 %, fail 20 %; doubling
// from 200 ms capped at 1 s pass 80 %, warn 16 %, fail 4 %. With 24 waits per retry index the
// envelope's log has a standard deviation of 0.07–0.09, the size of the differences between
// those shapes' growth per retry (0.1–0.3): no statistic over this plan separates them.
func TestBackoffGrowthSimulated(t *testing.T) {
	t.Parallel()
	const suites = 2000
	linear := func(base, step float64, jitter func(*rand.Rand) float64) simulatedPolicy {
		return func(rng *rand.Rand, i int) time.Duration { return millis((base + step*float64(i)) * jitter(rng)) }
	}
	within20 := func(rng *rand.Rand) float64 { return 0.8 + 0.4*rng.Float64() }
	cases := []struct {
		name    string
		policy  simulatedPolicy
		verdict finding.Verdict
		atLeast float64 // share of suites with that verdict; 0: only logged
	}{
		{"doubling from 200 ms, full jitter", exponentialPolicy(200, 2, 0, fullJitter), finding.Pass, 0.995},
		{"doubling from 100 ms, full jitter", exponentialPolicy(100, 2, 0, fullJitter), finding.Pass, 0.99},
		{"doubling from 200 ms, equal jitter", exponentialPolicy(200, 2, 0, equalJitter), finding.Pass, 1},
		{"doubling from 200 ms, no jitter", exponentialPolicy(200, 2, 0, noJitter), finding.Pass, 1},
		{"doubling from 200 ms capped at 5 s", exponentialPolicy(200, 2, 5000, fullJitter), finding.Pass, 0.995},
		{"linear 300 ms × n, no jitter", linear(0, 300, noJitter), finding.Fail, 0.97},
		{"linear 200 + 200 ms × n, ±20 %", linear(200, 200, within20), finding.Fail, 0.95},
		// fixtures/submissions/linear-backoff's policy: fail in 100 % of 100,000 suites.
		{"linear 500 ms × n, ±15 %", linear(0, 500, func(rng *rand.Rand) float64 { return 0.85 + 0.3*rng.Float64() }), finding.Fail, 0.999},
		{"constant 300 ms ±50 %", linear(300, 0, func(rng *rand.Rand) float64 { return 0.5 + rng.Float64() }), finding.Fail, 1},
		{"linear 500 ms × n, full jitter", linear(0, 500, fullJitter), finding.Fail, 0},
		{"× 1.5 from 300 ms, full jitter", exponentialPolicy(300, 1.5, 0, fullJitter), finding.Pass, 0},
		{"doubling from 200 ms capped at 1 s", exponentialPolicy(200, 2, 1000, fullJitter), finding.Pass, 0},
	}
	rng := rand.New(rand.NewPCG(2026, 12))
	for _, tc := range cases {
		counts := map[finding.Verdict]int{}
		for range suites {
			counts[classifyWaits(simulatedWaits(rng, tc.policy))]++
		}
		share := func(v finding.Verdict) float64 { return float64(counts[v]) / suites }
		t.Logf("%-36s pass %5.1f %%  warn %5.1f %%  fail %5.1f %%", tc.name, 100*share(finding.Pass), 100*share(finding.Warn), 100*share(finding.Fail))
		if tc.atLeast > 0 {
			require.GreaterOrEqual(t, share(tc.verdict), tc.atLeast, "%s: %s", tc.name, tc.verdict)
		}
	}
}
