package compare

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
)

func compareOrFail(t *testing.T, subs []Submission, opts Options) Comparison {
	t.Helper()
	c, err := Compare(subs, opts)
	require.NoError(t, err)
	return c
}

// discoveries are the findings with q < 0.05.
func discoveries(c Comparison) []string {
	var ids []string
	for _, f := range c.Findings {
		if f.Q != nil && *f.Q < 0.05 {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

func knownDifference(track int, id string) float64 {
	if id == "backoff.growth" {
		return [2]float64{0.9, 0.3}[track]
	}
	return baseRate(id)
}

// TestAKnownDifferenceIsFound: 30 + 30 submissions where backoff.growth passes in 27 of 30 AI
// submissions and 9 of 30 manual ones, every other finding alike (the same count on both tracks,
// in other submissions); over five cohorts, backoff.growth and only it has q < 0.05, first in
// the order, with an interval of the difference that excludes 0.
func TestAKnownDifferenceIsFound(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 5; seed++ {
		spec := cohortSpec{perTrack: [2]int{30, 30}, seed: seed, exact: true, passRate: knownDifference}
		c := compareOrFail(t, spec.build(), Options{Seed: seed, Bootstrap: 1000})
		require.False(t, c.Exploratory)
		require.Equal(t, []string{"backoff.growth"}, discoveries(c), "seed %d", seed)
		top := c.Findings[0]
		require.Equal(t, "backoff.growth", top.ID, "sorted by difference")
		require.Equal(t, [2]int{27, 9}, [2]int{top.Tracks[0].Pass, top.Tracks[1].Pass})
		require.Equal(t, 30, top.Tracks[0].N)
		require.InDelta(t, 0.6, *top.Difference, 1e-9)
		require.Greater(t, top.DifferenceInterval.Lo, 0.0)
		require.Equal(t, 29, c.Tested, "ai.rationale is n/a on the manual track: not tested")
	}
}

// TestNoDifferenceFindsNone: the same cohorts without the difference find nothing.
func TestNoDifferenceFindsNone(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 5; seed++ {
		c := compareOrFail(t, cohortSpec{perTrack: [2]int{30, 30}, seed: seed, exact: true, passRate: sameRates}.build(), Options{Seed: seed, Bootstrap: 1000})
		require.Empty(t, discoveries(c), "seed %d", seed)
		require.Equal(t, 29, c.Tested)
		require.NotNil(t, c.Scores.MannWhitney)
	}
}

// TestDrawnCohortsKeepTheirErrorRates: cohorts whose verdicts are drawn at random, 40 of them
// per case. Without a difference, a cohort shows any discovery at most 5 % of the time
// (Benjamini–Hochberg controls the family-wise error under the global null; Fisher's test is
// conservative, so fewer); with backoff.growth at 90 % against 30 %, the difference is found in
// most (its power at 30 + 30 and m = 29), and nothing else is.
func TestDrawnCohortsKeepTheirErrorRates(t *testing.T) {
	t.Parallel()
	const cohorts = 40
	falseCohorts, found, wrong := 0, 0, 0
	for seed := uint64(100); seed < 100+cohorts; seed++ {
		null := compareOrFail(t, cohortSpec{perTrack: [2]int{30, 30}, seed: seed, passRate: sameRates}.build(), Options{Bootstrap: 50})
		if len(discoveries(null)) > 0 {
			falseCohorts++
		}
		diff := compareOrFail(t, cohortSpec{perTrack: [2]int{30, 30}, seed: seed, passRate: knownDifference}.build(), Options{Bootstrap: 50})
		for _, id := range discoveries(diff) {
			if id == "backoff.growth" {
				found++
			} else {
				wrong++
			}
		}
	}
	t.Logf("of %d drawn cohorts: %d null cohorts with a discovery; backoff.growth found in %d, another finding in %d", cohorts, falseCohorts, found, wrong)
	require.LessOrEqual(t, falseCohorts, 2)
	require.LessOrEqual(t, wrong, 2)
	require.GreaterOrEqual(t, found, cohorts*3/4)
}

// TestASmallCohortIsExploratory: with 6 submissions per track nothing is tested; at 10 per
// track the comparison tests.
func TestASmallCohortIsExploratory(t *testing.T) {
	t.Parallel()
	for _, n := range [][2]int{{6, 6}, {9, 30}, {30, 9}, {0, 12}} {
		c := compareOrFail(t, cohortSpec{perTrack: n, seed: 3, passRate: sameRates}.build(), Options{})
		require.True(t, c.Exploratory, "%v", n)
		require.Zero(t, c.Tested)
		for _, f := range c.Findings {
			require.Nil(t, f.P, f.ID)
			require.Nil(t, f.Q, f.ID)
		}
		require.Nil(t, c.Scores.MannWhitney)
		require.Nil(t, c.Scores.DeltaInterval)
	}
	c := compareOrFail(t, cohortSpec{perTrack: [2]int{6, 6}, seed: 3, passRate: sameRates}.build(), Options{})
	require.Len(t, c.Scores.Tracks[0].Points, 6, "the raw points are all there")
	require.NotNil(t, c.Findings[0].Tracks[0].Interval, "rates keep their Wilson interval")
	require.NotNil(t, c.Scores.CliffsDelta, "δ itself describes the points")

	c = compareOrFail(t, cohortSpec{perTrack: [2]int{10, 10}, seed: 3, passRate: sameRates}.build(), Options{})
	require.False(t, c.Exploratory)
	require.NotZero(t, c.Tested)
	require.NotNil(t, c.Scores.DeltaInterval)
}

// TestNotApplicableIsLeftOutOfN: n counts pass, warn and fail only; n/a, info and gradings
// without the finding are counted apart, and a finding no one was judged on is not compared.
func TestNotApplicableIsLeftOutOfN(t *testing.T) {
	t.Parallel()
	v := func(id string, verdict finding.Verdict) Verdict { return Verdict{ID: id, Verdict: verdict} }
	subs := []Submission{
		{Candidate: "a1", Track: TrackAI, Findings: []Verdict{v("timeout.request", finding.Pass), v("static.separation", finding.Info), v("run.flood", finding.NA)}},
		{Candidate: "a2", Track: TrackAI, Findings: []Verdict{v("timeout.request", finding.NA), v("static.separation", finding.Info), v("run.flood", finding.NA)}},
		{Candidate: "a3", Track: TrackAI, Findings: []Verdict{v("timeout.request", finding.Fail)}},
		{Candidate: "m1", Track: TrackManual, Findings: []Verdict{v("timeout.request", finding.NA), v("static.separation", finding.Info)}},
		{Candidate: "m2", Track: TrackManual, Findings: []Verdict{v("timeout.request", finding.Warn), v("timeout.request", finding.Pass)}},
		{Candidate: "u1", Track: TrackUnknown, Findings: []Verdict{v("timeout.request", finding.Pass)}},
	}
	c := compareOrFail(t, subs, Options{})
	require.Len(t, c.Findings, 1)
	f := c.Findings[0]
	require.Equal(t, Rate{Pass: 1, Fail: 1, N: 2, NA: 1, Rate: ptr(0.5), Interval: f.Tracks[0].Interval}, f.Tracks[0])
	require.Equal(t, 1, f.Tracks[1].N, "a finding counts once per submission: the first verdict")
	require.Equal(t, 1, f.Tracks[1].Warn)
	require.Equal(t, 1, f.Tracks[1].NA)
	require.Equal(t, [2]int{3, 2}, c.Submissions)
	require.Equal(t, []TrackCount{{Track: TrackUnknown, Submissions: 1}}, c.OtherTracks)
	require.Equal(t, []LeftOutFinding{
		{ID: "run.flood", Reason: "the behaviour could not be observed: n/a in all 2 submissions that report it"},
		{ID: "static.separation", Reason: "a fact, not a judgement: info in all 3 submissions that report it"},
	}, c.LeftOut)
	require.Equal(t, "ai: 1 n/a · manual: 1 n/a", leftOutText(c, f))
}

func TestRollUps(t *testing.T) {
	t.Parallel()
	ind := finding.ProperBackoff
	subs := []Submission{
		{Candidate: "a1", Track: TrackAI, Findings: []Verdict{
			{ID: "backoff.growth", Verdict: finding.Pass, Indicator: ind},
			{ID: "backoff.jitter", Verdict: finding.Fail, Indicator: ind},
			{ID: "secrets.output", Verdict: finding.Fail, Critical: true, Indicator: finding.HardcodedOrLogged},
			{ID: "tls.verification", Verdict: finding.Fail, Critical: true, Indicator: finding.AIRisks}},
			Rationale: []RationaleItem{{Kind: Accepted, Text: "the transport"}, {Kind: Accepted, Text: "the mapping"}, {Kind: "praised", Text: "x"}}},
		{Candidate: "a2", Track: TrackAI, Findings: []Verdict{
			{ID: "backoff.growth", Verdict: finding.NA, Indicator: ind},
			{ID: "secrets.output", Verdict: finding.Pass, Indicator: finding.HardcodedOrLogged}}},
		{Candidate: "m1", Track: TrackManual, Findings: []Verdict{
			{ID: "backoff.growth", Verdict: finding.Warn, Indicator: ind},
			{ID: "secrets.output", Verdict: finding.Fail, Critical: true, Indicator: finding.HardcodedOrLogged}}},
	}
	c := compareOrFail(t, subs, Options{})
	// Positive before negative, then by text.
	require.Equal(t, []IndicatorRow{
		{Kind: "positive", Text: finding.AIRisks.Text, Findings: []string{"tls.verification"},
			Tracks: [2]Verdicts{{Pass: 0, N: 1, Rate: ptr(0.0)}, {}}},
		{Kind: "positive", Text: ind.Text, Findings: []string{"backoff.growth", "backoff.jitter"},
			Tracks: [2]Verdicts{{Pass: 1, N: 2, Rate: ptr(0.5)}, {Pass: 0, N: 1, Rate: ptr(0.0)}}},
		{Kind: "negative", Text: finding.HardcodedOrLogged.Text, Findings: []string{"secrets.output"},
			Tracks: [2]Verdicts{{Pass: 1, N: 2, Rate: ptr(0.5)}, {Pass: 0, N: 1, Rate: ptr(0.0)}}},
	}, c.Indicators)
	require.Equal(t, CriticalSummary{Any: [2]int{1, 1}, Findings: []CriticalRow{
		{ID: "secrets.output", Submissions: [2]int{1, 1}},
		{ID: "tls.verification", Submissions: [2]int{1, 0}},
	}}, c.Critical)
	require.Equal(t, &RationaleSummary{Track: TrackAI, Submissions: 2, WithRationale: 1, Kinds: []RationaleKind{
		{Kind: Accepted, Submissions: 1, Said: []Said{{Candidate: "a1", Text: "the transport"}, {Candidate: "a1", Text: "the mapping"}}},
		{Kind: Modified, Said: []Said{}},
		{Kind: Rejected, Said: []Said{}},
	}}, c.Rationale)

	c = compareOrFail(t, subs, Options{Tracks: [2]string{TrackManual, TrackUnknown}})
	require.Nil(t, c.Rationale, "no AI track compared, no rationale tally")
}

func TestOptions(t *testing.T) {
	t.Parallel()
	_, err := Compare(nil, Options{Tracks: [2]string{"ai", "ai"}})
	require.ErrorContains(t, err, "with itself")
	_, err = Compare(nil, Options{Bootstrap: -1})
	require.ErrorContains(t, err, "negative")
	c := compareOrFail(t, nil, Options{})
	require.Equal(t, [2]string{TrackAI, TrackManual}, c.Tracks)
	require.Equal(t, DefaultBootstrap, c.Bootstrap)
	require.True(t, c.Exploratory)
	require.Empty(t, c.Findings)
}

// TestTheBootstrapIsSeeded: the same seed gives the same comparison; the seed is in it.
func TestTheBootstrapIsSeeded(t *testing.T) {
	t.Parallel()
	subs := cohortSpec{perTrack: [2]int{20, 20}, seed: 8, passRate: sameRates}.build()
	a := compareOrFail(t, subs, Options{Seed: 77, Bootstrap: 500})
	b := compareOrFail(t, subs, Options{Seed: 77, Bootstrap: 500})
	require.Equal(t, a, b)
	require.Equal(t, uint64(77), a.Seed)
	require.NotEqual(t, a.Scores.DeltaInterval, compareOrFail(t, subs, Options{Seed: 78, Bootstrap: 500}).Scores.DeltaInterval)
}

func TestRound6(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want float64 }{
		{0.123456789, 0.123457}, {1.5e-9, 1.5e-9}, {0.3, 0.3}, {0, 0}, {-0.04761904761, -0.047619}, {127.5, 127.5},
	} {
		require.Equal(t, c.want, round6(c.in))
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, in, want string }{
		{"plain text is kept", "backoff.growth", "backoff.growth"},
		{"letters beyond ASCII are kept", "Zoë Ødegård", "Zoë Ødegård"},
		{"control characters are shown", "a\x00b\x1bc\r\nd", `a\x00b\x1bc\x0d\x0ad`},
		{"tabs become spaces", "a\tb", "a b"},
		{"bidirectional overrides are shown", "a\u202eb\u2066c", `a\x202eb\x2066c`},
		{"bytes that are not UTF-8 are shown", "a\xffb", `a\xffb`},
		{"long text is cut", "abcdefghij", "abcde…"},
		{"long text beyond ASCII is cut by character", "ééééééé", "ééééé…"},
	} {
		require.Equal(t, c.want, clean(c.in, map[bool]int{true: 5, false: 40}[strings.HasPrefix(c.name, "long")]), c.name)
	}
}

// TestAScoreThatIsNotANumberIsLeftOut: the scores keep to numbers (the JSON could not hold the
// others, and ranks cannot order them).
func TestAScoreThatIsNotANumberIsLeftOut(t *testing.T) {
	t.Parallel()
	subs := cohortSpec{perTrack: [2]int{10, 10}, seed: 2, exact: true, passRate: sameRates}.build()
	subs[0].Score, subs[11].Score = math.NaN(), math.Inf(1)
	c := compareOrFail(t, subs, Options{Bootstrap: 100})
	require.Equal(t, [2]int{9, 9}, [2]int{c.Scores.Tracks[0].N, c.Scores.Tracks[1].N})
	require.Equal(t, [2]int{9, 9}, c.Scores.MannWhitney.N)
	require.Equal(t, [2]int{10, 10}, c.Submissions, "their findings still count")
	var b bytes.Buffer
	require.NoError(t, c.WriteJSON(&b))
}
