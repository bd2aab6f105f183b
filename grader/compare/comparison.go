package compare

// SchemaVersion is the version of comparison.json's shape. Bump it on any incompatible change.
const SchemaVersion = 1

// MinPerTrack is the number of submissions each track needs before the comparison tests
// anything. Below it the comparison is exploratory: counts, rates with their Wilson intervals,
// raw scores and medians only; no p-value, no q-value, no Mann–Whitney, no interval of Cliff's
// δ. At 5 per track the smallest possible Fisher p is 0.0079, and with about 30 findings
// Benjamini–Hochberg needs a lone finding to reach 0.05/30 = 0.0017: a test could not find
// anything, and a bootstrap of a handful of points has no coverage to speak of.
const MinPerTrack = 10

// DefaultBootstrap is the number of bootstrap resamples of Cliff's δ when Options leave it 0.
const DefaultBootstrap = 10000

// Options set a comparison up.
type Options struct {
	// Seed seeds the bootstrap of Cliff's δ; it is printed so the interval can be reproduced.
	Seed uint64
	// Bootstrap is the number of resamples B (0: DefaultBootstrap).
	Bootstrap int
	// Tracks are the two tracks compared, first minus second (zero: "ai" and "manual").
	Tracks [2]string
	// Cohort names the cohort in titles (optional).
	Cohort string
	// Similar are the pairs of similar code to show, and SimilarityThreshold the bar they met
	// (grader/similarity); none: the section is left out.
	Similar             []SimilarPair
	SimilarityThreshold float64
}

// Comparison is a cohort's comparison of two tracks: the model all four writers render and
// comparison.json holds. Numbers are rounded to 6 significant digits so that a comparison
// written on another machine is the same file. Pointers are nil (and left out of the JSON) where
// the data cannot support the number, or the comparison is exploratory.
type Comparison struct {
	SchemaVersion int    `json:"schemaVersion"`
	Cohort        string `json:"cohort,omitempty"`
	// Tracks are compared first minus second; Submissions counts each one's submissions.
	Tracks      [2]string `json:"tracks"`
	Submissions [2]int    `json:"submissions"`
	// OtherTracks counts the submissions left out because they are on neither track.
	OtherTracks []TrackCount `json:"otherTracks,omitempty"`
	// Exploratory is set when a track has fewer than MinPerTrack submissions.
	Exploratory bool `json:"exploratory"`
	MinPerTrack int  `json:"minPerTrack"`
	// Seed is written as a JSON string: a uint64 does not fit a JavaScript number.
	Seed      uint64 `json:"seed,string"`
	Bootstrap int    `json:"bootstrap"`
	// Tested is m, the number of findings tested with Fisher's test: the family of the
	// Benjamini–Hochberg adjustment.
	Tested int `json:"tested"`
	// Findings are sorted by Difference, largest first; those without one last.
	Findings []FindingRow `json:"findings"`
	// LeftOut are the findings no submission of either track passed, warned or failed.
	LeftOut    []LeftOutFinding  `json:"leftOut,omitempty"`
	Scores     Scores            `json:"scores"`
	Indicators []IndicatorRow    `json:"indicators"`
	Critical   CriticalSummary   `json:"critical"`
	Rationale  *RationaleSummary `json:"rationale,omitempty"`
	// Similar are pairs of similar code (a signal, never a verdict), the most similar first.
	Similar             []SimilarPair `json:"similar,omitempty"`
	SimilarityThreshold float64       `json:"similarityThreshold,omitempty"`
}

// Interval is a 95 % confidence interval [Lo, Hi].
type Interval struct {
	Lo float64 `json:"low"`
	Hi float64 `json:"high"`
}

// TrackCount is a number of submissions on a track.
type TrackCount struct {
	Track       string `json:"track"`
	Submissions int    `json:"submissions"`
}

// FindingRow compares one finding's pass rate across the tracks.
type FindingRow struct {
	ID     string  `json:"id"`
	Tracks [2]Rate `json:"tracks"`
	// Difference is the first track's pass rate minus the second's, with Newcombe's interval.
	Difference         *float64  `json:"difference,omitempty"`
	DifferenceInterval *Interval `json:"differenceInterval,omitempty"`
	// P is Fisher's exact test, two-sided, on pass against warn or fail, with n = Tracks[i].N.
	P *float64 `json:"p,omitempty"`
	// Q is P adjusted by Benjamini–Hochberg across the Tested findings.
	Q *float64 `json:"q,omitempty"`
}

// Rate is a finding's verdicts on one track. N counts pass, warn and fail; n/a (the behaviour
// could not be observed), info (a fact, not a judgement) and absent (a grading without the
// finding) are left out of N and of the rate.
type Rate struct {
	Pass   int `json:"pass"`
	Warn   int `json:"warn"`
	Fail   int `json:"fail"`
	N      int `json:"n"`
	NA     int `json:"na"`
	Info   int `json:"info"`
	Absent int `json:"absent"`
	// Rate is Pass / N, with its Wilson interval.
	Rate     *float64  `json:"rate,omitempty"`
	Interval *Interval `json:"interval,omitempty"`
}

// LeftOutFinding is a finding with no pass, warn or fail on either track, and why.
type LeftOutFinding struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Scores compares the scores of the two tracks.
type Scores struct {
	Tracks      [2]TrackScores `json:"tracks"`
	MannWhitney *MannWhitney   `json:"mannWhitney,omitempty"`
	// CliffsDelta is the first track's dominance over the second, −1 to 1, with its magnitude
	// and its bootstrap interval (Options.Seed, Options.Bootstrap).
	CliffsDelta   *float64  `json:"cliffsDelta,omitempty"`
	Magnitude     string    `json:"magnitude,omitempty"`
	DeltaInterval *Interval `json:"cliffsDeltaInterval,omitempty"`
}

// TrackScores are one track's scores, every one, lowest first.
type TrackScores struct {
	N      int      `json:"n"`
	Median *float64 `json:"median,omitempty"`
	Points []Point  `json:"points"`
}

// Point is one submission's score.
type Point struct {
	Candidate string  `json:"candidate"`
	Score     float64 `json:"score"`
}

// MannWhitney is the Mann–Whitney U test of the scores, with the n of each track.
type MannWhitney struct {
	U1    float64 `json:"u1"`
	U2    float64 `json:"u2"`
	P     float64 `json:"p"`
	Exact bool    `json:"exact"`
	N     [2]int  `json:"n"`
}

// IndicatorRow rolls the findings that name one of the hiring kit's indicators up: their
// verdicts pooled per track. Pooled verdicts of one submission are not independent, so the
// rate carries no interval and no test.
type IndicatorRow struct {
	Kind     string      `json:"kind"`
	Text     string      `json:"text"`
	Findings []string    `json:"findings"`
	Tracks   [2]Verdicts `json:"tracks"`
}

// Verdicts are pooled pass counts.
type Verdicts struct {
	Pass int      `json:"pass"`
	N    int      `json:"n"`
	Rate *float64 `json:"rate,omitempty"`
}

// CriticalSummary counts, per track, the submissions with critical findings.
type CriticalSummary struct {
	// Any counts the submissions with at least one.
	Any      [2]int        `json:"any"`
	Findings []CriticalRow `json:"findings"`
}

// CriticalRow counts, per track, the submissions where a finding was a critical failure.
type CriticalRow struct {
	ID          string `json:"id"`
	Submissions [2]int `json:"submissions"`
}

// RationaleSummary tallies what the AI track's rationales say.
type RationaleSummary struct {
	Track         string          `json:"track"`
	Submissions   int             `json:"submissions"`
	WithRationale int             `json:"withRationale"`
	Kinds         []RationaleKind `json:"kinds"`
}

// RationaleKind is what the rationales say was accepted, modified or rejected.
type RationaleKind struct {
	Kind string `json:"kind"`
	// Submissions counts the rationales that say something of this kind.
	Submissions int    `json:"submissions"`
	Said        []Said `json:"said"`
}

// Said is one candidate's words.
type Said struct {
	Candidate string `json:"candidate"`
	Text      string `json:"text"`
}
