package checks

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/itsm-grader/grader/grader/finding"
)

// wait is one wait in the backoff scenario: how long it was, and how much of it the machine's
// noise could account for (what stalled the mock, journaled by its probe, plus what held the
// candidate's main thread back, watched by the sandbox, over the wait).
type wait struct {
	d, noise time.Duration
}

// retryWaits collects, per retry index (0: the wait before the second attempt), the waits in
// the backoff scenario across trials and tickets.
func retryWaits(obs Observations) ([][]wait, []finding.Evidence) {
	var byIndex [][]wait
	var ev []finding.Evidence
	for _, o := range obs.Of("backoff") {
		for _, id := range sortedKeys(creates(o)) {
			rs := creates(o)[id]
			for i := 1; i < len(rs) && i <= 4; i++ {
				for len(byIndex) < i {
					byIndex = append(byIndex, nil)
				}
				byIndex[i-1] = append(byIndex[i-1], wait{d: gap(rs[i-1], rs[i]), noise: noiseOver(o, rs[i-1].EndUS, rs[i].ArrivalUS)})
			}
			// The plan warms the client up with creates that succeed at once: the examples are
			// tickets that were retried.
			if o.Trial == 1 && len(ev) < 2 && len(rs) > 1 {
				ev = append(ev, evidence(o, "attempts at "+id, lines(rs, 6)...))
			}
		}
	}
	return byIndex, ev
}

// retryDelays are retryWaits' durations alone.
func retryDelays(obs Observations) ([][]time.Duration, []finding.Evidence) {
	waits, ev := retryWaits(obs)
	out := make([][]time.Duration, len(waits))
	for i, ws := range waits {
		out[i] = durations(ws)
	}
	return out, ev
}

// noiseOver is how much of [fromUS, toUS] the machine's noise could account for: the mock's
// stalls plus the candidate's run delay and throttling (each an upper bound); zero where
// neither was measured.
func noiseOver(o Observation, fromUS, toUS int64) time.Duration {
	var us int64
	if o.Journal != nil {
		if span := o.Journal.NoiseOver(fromUS, toUS); span.Measured {
			us += span.StallUS
		}
	}
	if held, ok := o.Delays.Over(fromUS, toUS); ok {
		us += held
	}
	return time.Duration(us) * time.Microsecond
}

func medianOf(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func iqr(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)*3/4] - s[len(s)/4]
}

var backoffGrowth = Check{
	ID: "backoff.growth", Title: "Backs off exponentially between attempts", Severity: finding.Medium,
	Indicator: finding.ProperBackoff,
	Question:  "Why exponential backoff rather than a fixed delay, and what cap did you choose?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "backoff"); ok {
			return j
		}
		for _, o := range obs.Of("backoff") {
			if busy(o) {
				return finding.Judged(finding.NA, "the client blocks its event loop while it waits (see wait.blocking), so each wait the mock sees includes other tickets' waits: the growth of its backoff cannot be told apart").
					With(evidence(o, fmt.Sprintf("CPU %s over %s of wall time", ms(o.Process.CPU), ms(o.Process.Wall))))
			}
		}
		waits, ev := retryWaits(obs)
		if len(waits) < 2 {
			return tooFewRetries(obs, fmt.Sprintf("too few retries in the backoff scenario to measure growth (%d retry index(es))", len(waits))).With(ev...)
		}
		// The upper envelope per retry index: a policy's bound grows as the policy says whatever
		// its jitter, and with 24 samples the envelope of full jitter is tight where medians and
		// means are not. It is the mean of the 2nd to 5th longest waits, not the longest: under
		// load a few waits stretch by a scheduling stall of up to a few hundred ms. History (make
		// stability): the longest wait over 15 samples flipped a verdict once in 100 gradings;
		// the third-longest over 15 flipped one once in 100 again (a full-jitter client measured
		// warn: simulated 0.35 % of suites); the mean of ranks 2-5 over 24 samples misclassifies
		// full jitter (200 ms base, 5-15 ms of noise, 3 % of waits stretched by 50-300 ms) in
		// 0.002 % of 100,000 simulated suites, and a 100 ms base, whose first window is close to
		// the noise, in 0.35 %. What is left of the machine is measured, not assumed: each
		// envelope carries the noise over the waits it is made of, and a verdict that the noise
		// could turn is inconclusive (the grading measures again), never a verdict.
		var env, sd, noise []time.Duration
		desc := ""
		for i, ws := range waits {
			e, n := envelopeOf(ws)
			env, sd, noise = append(env, e), append(sd, envelopeError(ws)), append(noise, n)
			desc += fmt.Sprintf("retry %d: median %s, upper envelope %s ± %s (noise up to %s) over %d; ", i+1, ms(medianWait(ws)), ms(e), ms(sd[i]), ms(n), len(ws))
		}
		j := finding.Judgement{Evidence: append([]finding.Evidence{{Scenario: "backoff", Text: desc}}, ev...)}
		if c, text, ok := backoffCap(obs); ok {
			j = j.With(finding.Evidence{Scenario: "outage", Text: text}).Measure("cap_ms", float64(c.Milliseconds()))
		}
		first, last := env[0], env[len(env)-1]
		g := ratio(last, first, len(env)-1)
		late := ratio(last, env[max(0, len(env)-3)], min(2, len(env)-1))
		j = j.Measure("growth_factor", math.Round(g*100)/100).Measure("late_growth_factor", math.Round(late*100)/100).
			Measure("first_delay_ms", float64(first.Milliseconds())).Measure("noise_ms", float64(slices.Max(noise).Milliseconds()))
		j.Verdict, j.Summary = classifyEnvelope(env, sd, medianWait(waits[0]))
		if other, ok := noiseCouldTurn(env, sd, noise, j.Verdict); ok {
			j.Summary = fmt.Sprintf("inconclusive: %s, but up to %s of the machine's noise over the waits could make it %s (%s)",
				j.Summary, ms(slices.Max(noise)), other, envelopeList(env))
			j.Verdict = finding.NA
		}
		return j
	},
}

// tooFewRetries is n/a, saying when another flaw is why: the backoff plan faults the tickets
// of the last page, so a client that stops reading the source early never meets its faults.
func tooFewRetries(obs Observations, summary string) finding.Judgement {
	for _, o := range obs.Of("backoff") {
		if unread := unreadRows(o); unread > 0 {
			return finding.Judged(finding.NA, "%s: the client never reached the faulted tickets, %d source rows unread (mapping.completeness)", summary, unread).
				ObscuredBy("mapping.completeness")
		}
	}
	return finding.Judged(finding.NA, "%s", summary)
}

// classifyEnvelope names the shape of a backoff from its upper envelope per retry index and
// the envelope's standard error (envelopeError).
func classifyEnvelope(env, sd []time.Duration, firstMedian time.Duration) (finding.Verdict, string) {
	first, last := env[0], env[len(env)-1]
	if last < noBackoff {
		return finding.Fail, "no backoff: retries follow each other at once (none)"
	}
	g := ratio(last, first, len(env)-1)
	late := ratio(last, env[max(0, len(env)-3)], min(2, len(env)-1))
	switch {
	case g >= exponentialRatio && late >= exponentialRatio:
		return finding.Pass, fmt.Sprintf("exponential: the upper envelope of the waits grows by a factor of %.2f per retry (from %s to %s)", g, ms(first), ms(last))
	case g >= linearRatio && arithmetic(env):
		why, clear := clearlyLinear(env, sd)
		if !clear {
			return finding.Warn, fmt.Sprintf("linear-like but not clearly: the upper envelope of the waits grows by even steps (%s), a factor of %.2f overall and %.2f late, but %s: an exponential policy growing by 1.5 could look like this", envelopeList(env), g, late, why)
		}
		return finding.Fail, fmt.Sprintf("linear, not exponential: the upper envelope of the waits grows by about %s a retry (%s), a factor of %.2f overall and only %.2f late; %s", ms(meanStep(env)), envelopeList(env), g, late, why)
	case g >= linearRatio:
		return finding.Warn, fmt.Sprintf("mixed: the upper envelope of the waits grows by %.2f per retry overall but only %.2f late (%s): neither clearly exponential nor linear", g, late, envelopeList(env))
	}
	return finding.Fail, fmt.Sprintf("constant: the wait stays near %s (growth factor %.2f)", ms(firstMedian), g)
}

// noiseCouldTurn says whether the envelope, each retry index taken anywhere between its measure
// and its measure less the noise over it (noise only ever stretches a wait), could be
// classified otherwise than verdict, and how. Noise under noiseFloor is the journal's own
// precision and is left out.
func noiseCouldTurn(env, sd, noise []time.Duration, verdict finding.Verdict) (finding.Verdict, bool) {
	var noisy []int
	for i, n := range noise {
		if n >= noiseFloor {
			noisy = append(noisy, i)
		}
	}
	for mask := 1; mask < 1<<len(noisy); mask++ {
		alt := slices.Clone(env)
		for b, i := range noisy {
			if mask&(1<<b) != 0 {
				alt[i] = max(env[i]-noise[i], 0)
			}
		}
		if v, _ := classifyEnvelope(alt, sd, alt[0]); v != verdict {
			return v, true
		}
	}
	return "", false
}

// envelopeOf is a retry index's upper envelope (envelope) and the mean noise over the waits it
// is made of.
func envelopeOf(ws []wait) (time.Duration, time.Duration) {
	s := slices.Clone(ws)
	slices.SortFunc(s, func(a, b wait) int { return int(a.d - b.d) })
	n := len(s)
	var picked []wait
	switch {
	case n >= 8:
		picked = s[n-5 : n-1]
	case n >= 5:
		picked = s[n-3 : n-2]
	default:
		picked = s[n-1:]
	}
	var sum, noise time.Duration
	for _, w := range picked {
		sum += w.d
		noise += w.noise
	}
	return sum / time.Duration(len(picked)), noise / time.Duration(len(picked))
}

// envelopeError is the standard error of a retry index's envelope (envelopeOf) from the spread
// of its waits: for 24 waits drawn uniformly from a window, the mean of the 2nd to 5th longest
// has a standard deviation of 0.126 times their interquartile range (simulated, 200,000 draws),
// and any other jitter that spreads its waits less around the top is tighter than that. It
// is never taken under envelopeErrorFloor, the journal's and the envelope's own precision.
func envelopeError(ws []wait) time.Duration {
	return max(time.Duration(envelopeErrorPerIQR*float64(iqr(durations(ws)))), envelopeErrorFloor)
}

// clearlyLinear says whether an envelope that grows by even steps is linear beyond its
// standard errors, and why or why not in words: every step is above zero by linearZ errors
// (a capped policy stops growing) and the second step is under 1.5 times the first by linearZ
// errors (an exponential policy's steps grow by its factor until its cap: a factor of 1.5
// or more is exponential growth the brief accepts). Without it, a policy growing by 1.5 had
// even enough steps to fail as linear in 16-21 % of simulated suites (TestBackoffGrowthSimulated).
func clearlyLinear(env, sd []time.Duration) (string, bool) {
	if len(env) < 3 || len(sd) != len(env) {
		return "too few retry indexes to tell", false
	}
	e := func(i int) float64 { return float64(env[i]) }
	v := func(i int) float64 { return float64(sd[i]) * float64(sd[i]) }
	for i := 1; i < len(env); i++ {
		step, err := e(i)-e(i-1), math.Sqrt(v(i)+v(i-1))
		if step < linearZ*err {
			return fmt.Sprintf("step %d (%s) is within %.0f standard errors (%s) of none", i, ms(time.Duration(step)), linearZ, ms(time.Duration(err))), false
		}
	}
	// 1.5 × (e1 − e0) − (e2 − e1): how far the second step falls short of 1.5 times the first.
	short := 2.5*e(1) - 1.5*e(0) - e(2)
	err := math.Sqrt(2.25*v(0) + 6.25*v(1) + v(2))
	if short < linearZ*err {
		return fmt.Sprintf("the second step (%s) is within %.0f standard errors (%s) of 1.5 times the first (%s)", ms(env[2]-env[1]), linearZ, ms(time.Duration(err)), ms(time.Duration(1.5*float64(env[1]-env[0])))), false
	}
	return fmt.Sprintf("the second step (%s) is under 1.5 times the first (%s) by %.1f standard errors", ms(env[2]-env[1]), ms(time.Duration(1.5*float64(env[1]-env[0]))), short/err), true
}

func medianWait(ws []wait) time.Duration { return medianOf(durations(ws)) }

// durations are the waits' lengths.
func durations(ws []wait) []time.Duration {
	ds := make([]time.Duration, len(ws))
	for i, w := range ws {
		ds[i] = w.d
	}
	return ds
}

// arithmetic says the envelope grows by even steps, as a linear policy's does (base × attempt):
// every step positive and within linearSpread of their mean. A capped exponential policy, the
// other shape that grows slowly late, has uneven steps (doubling, then flat at the cap).
func arithmetic(env []time.Duration) bool {
	if len(env) < 3 {
		return false
	}
	mean := meanStep(env)
	for i := 1; i < len(env); i++ {
		step := env[i] - env[i-1]
		if step <= 0 || math.Abs(float64(step-mean)) > linearSpread*float64(mean) {
			return false
		}
	}
	return true
}

func meanStep(env []time.Duration) time.Duration {
	return (env[len(env)-1] - env[0]) / time.Duration(len(env)-1)
}

func envelopeList(env []time.Duration) string {
	parts := make([]string, len(env))
	for i, e := range env {
		parts[i] = ms(e)
	}
	return strings.Join(parts, ", ")
}

// ratio is the mean growth factor per step from a to b over steps steps.
func ratio(b, a time.Duration, steps int) float64 {
	return math.Pow(float64(max(b, time.Millisecond))/float64(max(a, time.Millisecond)), 1/float64(steps))
}

var backoffJitter = Check{
	ID: "backoff.jitter", Title: "Adds jitter to its backoff", Severity: finding.Medium,
	Indicator: finding.ProperBackoff,
	Question:  "What happens to the target when a thousand clients like yours retry on the same schedule?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "backoff"); ok {
			return j
		}
		delays, ev := retryDelays(obs)
		jittered, judgedIdx := 0, 0
		desc := ""
		for i, d := range delays {
			if len(d) < 4 {
				continue
			}
			judgedIdx++
			spread := iqr(d)
			bar := max(jitterIQR, time.Duration(jitterIQRShare*float64(medianOf(d))))
			if spread >= bar {
				jittered++
			}
			desc += fmt.Sprintf("retry %d: IQR %s over %d waits (bar %s); ", i+1, ms(spread), len(d), ms(bar))
		}
		if judgedIdx == 0 {
			return tooFewRetries(obs, "too few retries in the backoff scenario to measure jitter").With(ev...)
		}
		j := finding.Judgement{Evidence: append([]finding.Evidence{{Scenario: "backoff", Text: desc}}, ev...)}
		j = j.Measure("jittered_indexes", float64(jittered)).Measure("indexes", float64(judgedIdx))
		if jittered*2 > judgedIdx {
			j.Verdict, j.Summary = finding.Pass, fmt.Sprintf("the waits vary across tickets and trials beyond the sandbox's noise at %d of %d retry indexes", jittered, judgedIdx)
		} else {
			j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("deterministic waits: at %d of %d retry indexes the spread stays within the sandbox's noise", judgedIdx-jittered, judgedIdx)
		}
		return j
	},
}

// backoffCap looks for the cap of a backoff in the outage, where the client retries for as long
// as it allows itself: the longest wait per retry index (across tickets) stops growing. It is
// evidence for the interviewer, not part of the verdict.
func backoffCap(obs Observations) (time.Duration, string, bool) {
	outage := obs.Of("outage")
	if len(outage) == 0 {
		return 0, "", false
	}
	var env []time.Duration
	for _, rs := range creates(outage[0]) {
		for i := 1; i < len(rs); i++ {
			for len(env) < i {
				env = append(env, 0)
			}
			env[i-1] = max(env[i-1], gap(rs[i-1], rs[i]))
		}
	}
	if len(env) < 5 {
		return 0, "", false
	}
	// The cap is where three successive envelopes stay within 30 % of their largest.
	for i := 0; i+3 <= len(env); i++ {
		w := env[i : i+3]
		top, low := slices.Max(w), slices.Min(w)
		if env[i] >= noBackoff && float64(low) >= 0.7*float64(top) && (i == 0 || float64(env[i-1]) < 0.7*float64(top)) {
			return top, fmt.Sprintf("the waits level off from retry %d at about %s: a cap", i+1, ms(top)), true
		}
	}
	return 0, fmt.Sprintf("no cap seen: the longest waits over %d retries were %s … %s", len(env), ms(env[0]), ms(env[len(env)-1])), false
}

// envelope is the upper envelope of a retry index's waits: the mean of the 2nd to 5th longest
// (8 waits or more), else the third-longest (5 to 7), else the longest.
func envelope(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	n := len(s)
	switch {
	case n >= 8:
		var sum time.Duration
		for _, x := range s[n-5 : n-1] {
			sum += x
		}
		return sum / 4
	case n >= 5:
		return s[n-3]
	}
	return s[n-1]
}
