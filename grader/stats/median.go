package stats

import (
	"math"
	"slices"
)

// Median is the middle value of x (the mean of the two middle values when len(x) is even),
// or NaN when x is empty. x is not modified.
func Median(x []float64) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	s := slices.Clone(x)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
