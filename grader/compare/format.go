package compare

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// How numbers read on the page and in Markdown.

// percent is a rate as a whole percentage: "90 %".
func percent(r *float64) string {
	if r == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f %%", *r*100)
}

// percentRange is an interval of rates: "74–97 %".
func percentRange(i *Interval) string {
	if i == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f–%.0f %%", i.Lo*100, i.Hi*100)
}

// points is a difference of rates in percentage points: "+60 pp".
func points(d *float64) string {
	if d == nil {
		return "—"
	}
	return signed(*d*100, 0) + " pp"
}

// pointsRange is an interval of differences: "+38 to +75 pp".
func pointsRange(i *Interval) string {
	if i == nil {
		return "—"
	}
	return signed(i.Lo*100, 0) + " to " + signed(i.Hi*100, 0) + " pp"
}

// signed writes v with its sign, and 0 without one.
func signed(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	switch {
	case s == strconv.FormatFloat(0, 'f', decimals, 64) || s == "-"+strconv.FormatFloat(0, 'f', decimals, 64):
		return strconv.FormatFloat(0, 'f', decimals, 64)
	case v > 0:
		return "+" + s
	}
	return "−" + s[1:]
}

// probability is a p- or q-value to two significant digits, or "< 0.0001".
func probability(p float64) string {
	if p < 0.0001 {
		return "< 0.0001"
	}
	return strconv.FormatFloat(p, 'g', 2, 64)
}

// pWithN is a p-value with the n it stands on: "p = 0.0012 (n = 30, 28)".
func pWithN(p float64, n [2]int) string {
	v := probability(p)
	if v[0] != '<' {
		v = "= " + v
	}
	return fmt.Sprintf("p %s (n = %d, %d)", v, n[0], n[1])
}

// qWithM is a q-value with the family it was adjusted in: "q = 0.036 (m = 28)".
func qWithM(q float64, m int) string {
	v := probability(q)
	if v[0] != '<' {
		v = "= " + v
	}
	return fmt.Sprintf("q %s (m = %d)", v, m)
}

// score is a score or a median to one decimal.
func score(v float64) string {
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// count writes a U statistic (a whole number or a half) in full.
func count(u float64) string {
	return strconv.FormatFloat(u, 'f', -1, 64)
}

// delta is Cliff's δ to two decimals, signed.
func delta(d float64) string {
	return signed(d, 2)
}

// deltaRange is δ's interval: "+0.12 to +0.48".
func deltaRange(i *Interval) string {
	if i == nil {
		return "—"
	}
	return delta(i.Lo) + " to " + delta(i.Hi)
}

// ns is the n of each track of a finding.
func ns(f FindingRow) [2]int { return [2]int{f.Tracks[0].N, f.Tracks[1].N} }

// finite guards the geometry against a NaN.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// leftOutText says what a finding's n leaves out, per track: "ai: 2 n/a · manual: 1 absent".
func leftOutText(c Comparison, f FindingRow) string {
	var parts []string
	for t, r := range f.Tracks {
		var what []string
		for _, x := range []struct {
			n    int
			name string
		}{{r.NA, "n/a"}, {r.Info, "info"}, {r.Absent, "absent"}} {
			if x.n > 0 {
				what = append(what, fmt.Sprintf("%d %s", x.n, x.name))
			}
		}
		if len(what) > 0 {
			parts = append(parts, c.Tracks[t]+": "+strings.Join(what, ", "))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " · ")
}
