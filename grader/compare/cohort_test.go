package compare

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/itsm-grader/grader/grader/finding"
)

// A synthetic rubric of 30 findings, shaped like the grader's: ids, severities, indicators, and
// which ones are critical when they fail.
type rubricItem struct {
	id        string
	severity  finding.Severity
	indicator finding.Indicator
	critical  bool
}

var rubric = func() []rubricItem {
	items := []rubricItem{
		{"build.contract", finding.High, finding.TypeScript, false},
		{"mapping.accuracy", finding.High, finding.MappingEdges, false},
		{"mapping.completeness", finding.High, finding.MappingEdges, false},
		{"retry.transient", finding.High, finding.RetryAndLogging, false},
		{"retry.permanent", finding.Medium, finding.NoClassification, false},
		{"backoff.growth", finding.Medium, finding.ProperBackoff, false},
		{"backoff.jitter", finding.Low, finding.ProperBackoff, false},
		{"retry.bounded", finding.High, finding.FixedRetryLogic, true},
		{"retry.retry_after", finding.Low, finding.FollowsSpecs, false},
		{"timeout.request", finding.High, finding.TimesOut, false},
		{"idempotency.key", finding.High, finding.IdempotentRetry, false},
		{"idempotency.duplicates", finding.Critical, finding.IdempotentRetry, true},
		{"secrets.output", finding.Critical, finding.HardcodedOrLogged, true},
		{"secrets.transport", finding.Critical, finding.SecureHeaders, true},
		{"tls.verification", finding.Critical, finding.AIRisks, true},
		{"wait.blocking", finding.Medium, finding.BlockingLoops, false},
		{"logging.errors", finding.Low, finding.RetryAndLogging, false},
		{"result.honest", finding.Medium, finding.HonestClient, false},
		{"concurrency.limit", finding.Medium, finding.FollowsSpecs, false},
		{"run.budget", finding.Medium, finding.FixedRetryLogic, false},
		{"static.typecheck", finding.Low, finding.TypeScript, false},
		{"static.hardcoded_credential", finding.Critical, finding.HardcodedOrLogged, true},
		{"static.tls_disabled", finding.Critical, finding.AIRisks, true},
		{"static.secret_logged", finding.High, finding.HardcodedOrLogged, false},
		{"static.busy_wait", finding.Medium, finding.BlockingLoops, false},
		{"static.unbounded_retry", finding.High, finding.FixedRetryLogic, false},
		{"static.no_timeout", finding.Medium, finding.TimesOut, false},
		{"static.dependencies", finding.Low, finding.HeavyFrameworks, false},
		{"static.unsafe_types", finding.Low, finding.TypeScript, false},
		{"ai.rationale", finding.Medium, finding.AIRationale, false},
	}
	return items
}()

var severityWeight = map[finding.Severity]float64{finding.Critical: 15, finding.High: 10, finding.Medium: 6, finding.Low: 3}

// cohortSpec describes a synthetic cohort: how many submissions per track, and each finding's
// pass rate on each track (the rest warn one time in four, else fail). Exact cohorts pass each
// finding in exactly round(rate·n) submissions of a track, chosen at random; the others draw
// each verdict at random with the rate as its chance.
type cohortSpec struct {
	perTrack [2]int
	passRate func(track int, id string) float64
	seed     uint64
	exact    bool
}

// baseRate is every finding's chance of passing when nothing sets it apart: spread from 45 % to
// 95 % so that the rubric has easy and hard findings.
func baseRate(id string) float64 {
	for i, r := range rubric {
		if r.id == id {
			return 0.45 + 0.5*float64((i*7)%30)/29
		}
	}
	return 0.5
}

// build draws the cohort (seeded: the same spec gives the same cohort); scores follow the
// report's weights; ai.rationale is n/a on the manual track, as the grader judges it.
func (c cohortSpec) build() []Submission {
	rng := rand.New(rand.NewPCG(c.seed, 99))
	tracks := [2]string{TrackAI, TrackManual}
	var subs []Submission
	for t, n := range c.perTrack {
		// passes[id][i]: whether the i-th submission of the track passes id, when exact.
		passes := map[string][]bool{}
		for _, item := range rubric {
			k := int(math.Round(c.passRate(t, item.id) * float64(n)))
			passes[item.id] = make([]bool, n)
			for _, i := range rng.Perm(n)[:k] {
				passes[item.id][i] = true
			}
		}
		for i := range n {
			s := Submission{Candidate: fmt.Sprintf("%s-%02d", tracks[t], i+1), Track: tracks[t]}
			earned, possible := 0.0, 0.0
			for _, item := range rubric {
				v := Verdict{ID: item.id, Severity: item.severity, Indicator: item.indicator}
				pass := passes[item.id][i]
				if !c.exact {
					pass = rng.Float64() < c.passRate(t, item.id)
				}
				switch {
				case item.id == "ai.rationale" && t == 1:
					v.Verdict = finding.NA
				case pass:
					v.Verdict = finding.Pass
				case rng.IntN(4) == 0:
					v.Verdict = finding.Warn
				default:
					v.Verdict = finding.Fail
					v.Critical = item.critical
				}
				w := severityWeight[item.severity]
				switch v.Verdict {
				case finding.Pass:
					earned, possible = earned+w, possible+w
				case finding.Warn:
					earned, possible = earned+w/2, possible+w
				case finding.Fail:
					possible += w
				}
				s.Findings = append(s.Findings, v)
			}
			s.Score = float64(int(earned/possible*1000+0.5)) / 10
			if t == 0 {
				s.Rationale = []RationaleItem{{Kind: Accepted, Text: "1 passage with a reason"}, {Kind: Rejected, Text: "2 passages with a reason"}}
			}
			subs = append(subs, s)
		}
	}
	return subs
}

func sameRates(_ int, id string) float64 { return baseRate(id) }
