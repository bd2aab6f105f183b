package compare

import "testing"

// BenchmarkCompare is the comparison of a cohort of 10,000 gradings (5,000 per track) on the
// 30 findings of the rubric, with the default 10,000 bootstrap resamples of Cliff's δ.
func BenchmarkCompare(b *testing.B) {
	subs := cohortSpec{perTrack: [2]int{5000, 5000}, seed: 1, passRate: knownDifference}.build()
	for b.Loop() {
		if _, err := Compare(subs, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriters writes the four formats of a 10,000-grading comparison.
func BenchmarkWriters(b *testing.B) {
	subs := cohortSpec{perTrack: [2]int{5000, 5000}, seed: 1, passRate: knownDifference}.build()
	c, err := Compare(subs, Options{Seed: 1, Bootstrap: 100})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, write := range []func(discard) error{
			func(w discard) error { return c.WriteHTML(w) },
			func(w discard) error { return c.WriteMarkdown(w) },
			func(w discard) error { return c.WriteCSV(w) },
			func(w discard) error { return c.WriteJSON(w) },
		} {
			if err := write(discard{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
