package compare

import "fmt"

// The dot plot of the findings and the strip plot of the scores, as SVG geometry the page's
// template draws. Pixels; the page is 960 wide.

const (
	plotWidth = 960
	dotAxisX  = 270.0 // x of 0 %
	dotAxisW  = 380.0 // 0–100 %
	dotTextX  = 676   // the difference column
	dotTop    = 40
	dotRowH   = 36
)

// tick is a labelled position on an axis.
type tick struct {
	X     float64
	Label string
}

// dotChart draws each finding's pass rate per track as a dot with its Wilson whisker on a shared
// 0–100 % axis, one row per finding in the comparison's order.
type dotChart struct {
	Width, Height int
	AxisTop       int
	TextX         int // the difference column
	Ticks         []tick
	Legend        [2]string
	Rows          []dotRow
}

// dotRow is one finding.
type dotRow struct {
	Y      int // top of the row
	ID     string
	Counts string // "ai 27/30 · manual 9/30"
	Marks  []dotMark
	Diff   string // "+60 pp (+38 to +75 pp)"
	Test   string // "q = 0.0001 (m = 28)", or why there is none
}

// dotMark is one track's dot and whisker.
type dotMark struct {
	Track      int // 0 or 1: the shape and colour
	X, Lo, Hi  float64
	Y          float64
	Title      string
	HasWhisker bool
}

func dotPlot(c Comparison) dotChart {
	p := dotChart{Width: plotWidth, AxisTop: dotTop - 8, TextX: dotTextX, Legend: c.Tracks}
	p.Height = dotTop + len(c.Findings)*dotRowH + 8
	for v := 0; v <= 100; v += 25 {
		p.Ticks = append(p.Ticks, tick{X: dotAxisX + float64(v)/100*dotAxisW, Label: fmt.Sprintf("%d %%", v)})
	}
	for i, f := range c.Findings {
		row := dotRow{Y: dotTop + i*dotRowH, ID: f.ID, Diff: points(f.Difference) + " (" + pointsRange(f.DifferenceInterval) + ")", Test: testText(c, f)}
		row.Counts = fmt.Sprintf("%s %d/%d · %s %d/%d", c.Tracks[0], f.Tracks[0].Pass, f.Tracks[0].N, c.Tracks[1], f.Tracks[1].Pass, f.Tracks[1].N)
		for t, r := range f.Tracks {
			if r.Rate == nil {
				continue
			}
			m := dotMark{Track: t, X: rateX(*r.Rate), Y: float64(row.Y) + 11 + float64(t)*12,
				Title: fmt.Sprintf("%s: %d of %d pass (%s, 95 %% interval %s)", c.Tracks[t], r.Pass, r.N, percent(r.Rate), percentRange(r.Interval))}
			if r.Interval != nil {
				m.Lo, m.Hi, m.HasWhisker = rateX(r.Interval.Lo), rateX(r.Interval.Hi), true
			}
			row.Marks = append(row.Marks, m)
		}
		p.Rows = append(p.Rows, row)
	}
	return p
}

func rateX(r float64) float64 { return dotAxisX + finite(r)*dotAxisW }

// testText is the q-value of a finding with its family, or why there is none.
func testText(c Comparison, f FindingRow) string {
	switch {
	case f.Q != nil:
		return qWithM(*f.Q, c.Tested)
	case c.Exploratory:
		return "exploratory: not tested"
	default:
		return "not tested: a track has no verdict"
	}
}

const (
	stripAxisX = 180.0
	stripAxisW = 740.0
	stripTop   = 30
	stripRowH  = 90
)

// stripChart draws every score as a point, a row per track, with the track's median.
type stripChart struct {
	Width, Height int
	Ticks         []tick
	Rows          []stripRow
}

// stripRow is one track's scores.
type stripRow struct {
	Track     int
	Y         int // top of the row
	Label     string
	Detail    string
	Points    []stripPoint
	Median    float64
	HasMedian bool
}

// stripPoint is one score.
type stripPoint struct {
	X, Y  float64
	Title string
}

func stripPlot(c Comparison) stripChart {
	p := stripChart{Width: plotWidth, Height: stripTop + 2*stripRowH + 4}
	for v := 0; v <= 100; v += 10 {
		p.Ticks = append(p.Ticks, tick{X: scoreX(float64(v)), Label: fmt.Sprint(v)})
	}
	for t, ts := range c.Scores.Tracks {
		row := stripRow{Track: t, Y: stripTop + t*stripRowH, Label: c.Tracks[t], Detail: fmt.Sprintf("n = %d", ts.N)}
		if ts.Median != nil {
			row.Median, row.HasMedian = scoreX(*ts.Median), true
			row.Detail += ", median " + score(*ts.Median)
		}
		for i, pt := range ts.Points {
			// A fixed spread over the row's height (no randomness): the i-th point of a track
			// is always drawn at the same place.
			jitter := float64((i*37)%61-30) * 1.1
			row.Points = append(row.Points, stripPoint{X: scoreX(pt.Score), Y: float64(row.Y) + stripRowH/2 + jitter,
				Title: pt.Candidate + ": " + score(pt.Score)})
		}
		p.Rows = append(p.Rows, row)
	}
	return p
}

func scoreX(s float64) float64 { return stripAxisX + min(max(finite(s), 0), 100)/100*stripAxisW }
