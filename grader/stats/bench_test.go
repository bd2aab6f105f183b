package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkPerFindingStatistics is a comparison's per-finding work on 10,000 gradings (5,000 per
// track) and 30 findings: two Wilson intervals, the Newcombe interval and Fisher's test for each
// finding, then Benjamini–Hochberg across them.
func BenchmarkPerFindingStatistics(b *testing.B) {
	const findings, perTrack = 30, 5000
	rng := rand.New(rand.NewPCG(1, 1))
	k1, k2 := make([]int, findings), make([]int, findings)
	for i := range k1 {
		k1[i], k2[i] = rng.IntN(perTrack+1), rng.IntN(perTrack+1)
	}
	p := make([]float64, findings)
	for b.Loop() {
		for i := range findings {
			Wilson(k1[i], perTrack)
			Wilson(k2[i], perTrack)
			Newcombe(k1[i], perTrack, k2[i], perTrack)
			p[i] = FisherExact(k1[i], perTrack-k1[i], k2[i], perTrack-k2[i])
		}
		BenjaminiHochberg(p)
	}
}

// BenchmarkScoreStatistics is a comparison's score work on 5,000 + 5,000 scores (0–100 to one
// decimal, so with ties as real scores have): Mann–Whitney and Cliff's δ with B = 10,000
// bootstrap resamples.
func BenchmarkScoreStatistics(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	score := func(mean float64) float64 {
		return math.Round(min(100, max(0, mean+15*rng.NormFloat64()))*10) / 10
	}
	x, y := make([]float64, 5000), make([]float64, 5000)
	for i := range x {
		x[i], y[i] = score(70), score(65)
	}
	for b.Loop() {
		MannWhitney(x, y)
		CliffsDelta(x, y)
		BootstrapDelta(x, y, 10000, 1)
	}
}
