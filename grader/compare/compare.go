package compare

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/stats"
)

// Compare compares the submissions of the two tracks of opts (first minus second). Submissions
// on another track are counted and left out. It fails only on options that cannot make a
// comparison: two tracks alike, or a negative number of resamples.
func Compare(subs []Submission, opts Options) (Comparison, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Comparison{}, err
	}
	groups, others := split(subs, opts.Tracks)
	c := Comparison{
		SchemaVersion: SchemaVersion, Cohort: clean(opts.Cohort, maxName), Tracks: opts.Tracks,
		Submissions: [2]int{len(groups[0]), len(groups[1])}, OtherTracks: others,
		MinPerTrack: MinPerTrack, Seed: opts.Seed, Bootstrap: opts.Bootstrap,
	}
	c.Exploratory = c.Submissions[0] < MinPerTrack || c.Submissions[1] < MinPerTrack
	c.Findings, c.LeftOut = compareFindings(groups, c.Exploratory)
	for _, f := range c.Findings {
		if f.P != nil {
			c.Tested++
		}
	}
	c.Scores = compareScores(groups, c.Exploratory, opts)
	c.Indicators = rollUpIndicators(groups)
	c.Critical = countCritical(groups)
	c.Rationale = tallyRationale(groups, opts.Tracks)
	if len(opts.Similar) > 0 {
		c.Similar, c.SimilarityThreshold = cleanSimilar(opts.Similar), opts.SimilarityThreshold
	}
	return c, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Tracks == [2]string{} {
		o.Tracks = [2]string{TrackAI, TrackManual}
	}
	if o.Tracks[0] == o.Tracks[1] {
		return o, fmt.Errorf("compare track %q with itself: name two different tracks", o.Tracks[0])
	}
	if o.Bootstrap < 0 {
		return o, errors.New("compare: the number of bootstrap resamples cannot be negative")
	}
	if o.Bootstrap == 0 {
		o.Bootstrap = DefaultBootstrap
	}
	o.Tracks = [2]string{clean(o.Tracks[0], maxTrack), clean(o.Tracks[1], maxTrack)}
	return o, nil
}

// split sorts the submissions into the two tracks and counts the others.
func split(subs []Submission, tracks [2]string) ([2][]Submission, []TrackCount) {
	var groups [2][]Submission
	other := map[string]int{}
	for _, s := range subs {
		switch s.Track {
		case tracks[0]:
			groups[0] = append(groups[0], s)
		case tracks[1]:
			groups[1] = append(groups[1], s)
		default:
			other[clean(s.Track, maxTrack)]++
		}
	}
	var counts []TrackCount
	for t, n := range other {
		counts = append(counts, TrackCount{Track: t, Submissions: n})
	}
	slices.SortFunc(counts, func(a, b TrackCount) int { return strings.Compare(a.Track, b.Track) })
	return groups, counts
}

// compareFindings tallies each finding per track, sets its rates, intervals and tests, and sorts
// them by difference; findings no track could judge are left out with their reason.
func compareFindings(groups [2][]Submission, exploratory bool) ([]FindingRow, []LeftOutFinding) {
	rows := map[string]*FindingRow{}
	seen := map[string]bool{}
	for t, group := range groups {
		for _, s := range group {
			clear(seen)
			for _, v := range s.Findings {
				id := clean(v.ID, maxID)
				if seen[id] {
					continue // a finding counts once per submission
				}
				seen[id] = true
				if rows[id] == nil {
					rows[id] = &FindingRow{ID: id}
				}
				tallyVerdict(&rows[id].Tracks[t], v.Verdict)
			}
		}
	}
	var kept []FindingRow
	var leftOut []LeftOutFinding
	for _, r := range rows {
		for t := range r.Tracks {
			r.Tracks[t].Absent = len(groups[t]) - r.Tracks[t].N - r.Tracks[t].NA - r.Tracks[t].Info
		}
		if r.Tracks[0].N == 0 && r.Tracks[1].N == 0 {
			leftOut = append(leftOut, LeftOutFinding{ID: r.ID, Reason: leftOutReason(r.Tracks)})
			continue
		}
		kept = append(kept, judgeRow(*r, exploratory))
	}
	adjust(kept)
	slices.SortFunc(kept, byDifference)
	slices.SortFunc(leftOut, func(a, b LeftOutFinding) int { return strings.Compare(a.ID, b.ID) })
	return kept, leftOut
}

func tallyVerdict(r *Rate, v finding.Verdict) {
	switch v {
	case finding.Pass:
		r.Pass++
	case finding.Warn:
		r.Warn++
	case finding.Fail:
		r.Fail++
	case finding.NA:
		r.NA++
	default: // info, or a verdict this grader does not know: not a judgement
		r.Info++
	}
	r.N = r.Pass + r.Warn + r.Fail
}

func leftOutReason(tracks [2]Rate) string {
	na, info := tracks[0].NA+tracks[1].NA, tracks[0].Info+tracks[1].Info
	switch {
	case na > 0 && info > 0:
		return fmt.Sprintf("no submission was judged on it: %d n/a, %d info", na, info)
	case info > 0:
		return fmt.Sprintf("a fact, not a judgement: info in all %d submissions that report it", info)
	default:
		return fmt.Sprintf("the behaviour could not be observed: n/a in all %d submissions that report it", na)
	}
}

// judgeRow sets a tallied finding's rates, Wilson intervals, difference with its Newcombe
// interval and, unless the comparison is exploratory, Fisher's p.
func judgeRow(r FindingRow, exploratory bool) FindingRow {
	for t := range r.Tracks {
		rt := &r.Tracks[t]
		if rt.N > 0 {
			rt.Rate = ptr(round6(float64(rt.Pass) / float64(rt.N)))
			rt.Interval = interval(stats.Wilson(rt.Pass, rt.N))
		}
	}
	a, b := r.Tracks[0], r.Tracks[1]
	if a.N == 0 || b.N == 0 {
		return r
	}
	r.Difference = ptr(round6(float64(a.Pass)/float64(a.N) - float64(b.Pass)/float64(b.N)))
	r.DifferenceInterval = interval(stats.Newcombe(a.Pass, a.N, b.Pass, b.N))
	if !exploratory {
		r.P = ptr(round6(stats.FisherExact(a.Pass, a.N-a.Pass, b.Pass, b.N-b.Pass)))
	}
	return r
}

// adjust sets the q-values of the tested findings.
func adjust(rows []FindingRow) {
	var p []float64
	var tested []int
	for i, r := range rows {
		if r.P != nil {
			p = append(p, *r.P)
			tested = append(tested, i)
		}
	}
	for k, q := range stats.BenjaminiHochberg(p) {
		rows[tested[k]].Q = ptr(round6(q))
	}
}

func byDifference(a, b FindingRow) int {
	switch {
	case a.Difference != nil && b.Difference != nil && *a.Difference != *b.Difference:
		if *a.Difference > *b.Difference {
			return -1
		}
		return 1
	case a.Difference != nil && b.Difference == nil:
		return -1
	case a.Difference == nil && b.Difference != nil:
		return 1
	}
	return strings.Compare(a.ID, b.ID)
}

// interval is a defined interval, rounded; nil for an undefined one.
func interval(i stats.Interval) *Interval {
	if !i.Defined {
		return nil
	}
	return &Interval{Lo: round6(i.Lo), Hi: round6(i.Hi)}
}

func ptr[T any](v T) *T { return &v }

// round6 rounds to 6 significant digits (through the decimal text: exactly, on any machine).
func round6(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return r
}
