package checks

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	captured "github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/plan"
)

// traffic builds a run in which each ticket's attempts follow the waits policy gives (wait
// before retry i, 1-based), each attempt taking 2 ms.
func traffic(scenario string, trial, tickets, attempts int, policy func(i int) time.Duration) Observation {
	l := &journal.Log{}
	seq := int64(0)
	for t := 1; t <= tickets; t++ {
		at := int64(1000 * t)
		for a := 1; a <= attempts; a++ {
			if a > 1 {
				at += policy(a - 1).Microseconds()
			}
			seq++
			l.Requests = append(l.Requests, journal.Request{Seq: seq, Endpoint: "target.create", Ticket: fmt.Sprintf("INC%07d", t),
				Attempt: a, ArrivalUS: at, EndUS: at + 2000, Fault: "status_503", Status: 503, Outcome: "response", EndedBy: "server"})
			at += 2000
		}
	}
	return Observation{Plan: &plan.Plan{Name: scenario}, Journal: l,
		Run: &captured.Run{Scenario: scenario, Trial: trial, Process: captured.Process{CPUKnown: true, CPU: 300 * time.Millisecond, Wall: 3 * time.Second}}}
}

func backoffRuns(policy func(i int) time.Duration) Observations {
	var obs Observations
	for trial := 1; trial <= 3; trial++ {
		obs = append(obs, traffic("backoff", trial, 5, 5, policy))
	}
	return obs
}

// TestBackoffChecksOnRecordedTraffic: each backoff shape must trigger the verdict it should, and
// only that one.
func TestBackoffChecksOnRecordedTraffic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	jitter := func(d time.Duration) time.Duration { return time.Duration(rng.Float64() * float64(d)) }
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	cases := []struct {
		name           string
		policy         func(i int) time.Duration
		growth, jitter finding.Verdict
	}{
		{"exponential with full jitter", func(i int) time.Duration { return jitter(ms(200 << (i - 1))) }, finding.Pass, finding.Pass},
		{"exponential without jitter", func(i int) time.Duration { return ms(200 << (i - 1)) }, finding.Pass, finding.Fail},
		{"linear without jitter", func(i int) time.Duration { return ms(300 * i) }, finding.Fail, finding.Fail},
		{"linear with ±10 % jitter", func(i int) time.Duration { return ms(900*i) + jitter(ms(200*i)) }, finding.Fail, finding.Pass},
		// Full jitter over a linear window is not measured clearly in four retries: warn.
		{"linear with full jitter", func(i int) time.Duration { return jitter(ms(300 * i)) }, finding.Warn, finding.Pass},
		// Steps even within ±35 % but growing (220, 260, 320 ms), as noise can make a policy
		// growing by 1.5 look: not clearly linear, so warn, not fail.
		{"steps that grow a little", func(i int) time.Duration { return ms([]int{400, 620, 880, 1200}[i-1]) }, finding.Warn, finding.Fail},
		{"exponential capped early: mixed", func(i int) time.Duration { return min(ms(200<<(i-1)), ms(800)) }, finding.Warn, finding.Fail},
		{"constant with jitter", func(int) time.Duration { return ms(300) + jitter(ms(200)) }, finding.Fail, finding.Pass},
		{"no backoff at all", func(int) time.Duration { return ms(3) }, finding.Fail, finding.Fail},
	}
	for _, tc := range cases {
		obs := backoffRuns(tc.policy)
		require.Equal(t, tc.growth, backoffGrowth.Judge(obs).Verdict, "%s: growth", tc.name)
		require.Equal(t, tc.jitter, backoffJitter.Judge(obs).Verdict, "%s: jitter", tc.name)
	}
}

func TestBackoffCapIsFoundInTheOutage(t *testing.T) {
	t.Parallel()
	capped := func(i int) time.Duration { return min(time.Duration(200<<(i-1))*time.Millisecond, 3*time.Second) }
	obs := append(backoffRuns(capped), traffic("outage", 1, 3, 10, capped))
	j := backoffGrowth.Judge(obs)
	require.Equal(t, finding.Pass, j.Verdict)
	require.InDelta(t, 3000, j.Measured["cap_ms"], 10)

	uncapped := func(i int) time.Duration { return time.Duration(100<<(i-1)) * time.Millisecond }
	obs = append(backoffRuns(uncapped), traffic("outage", 1, 3, 8, uncapped))
	require.NotContains(t, backoffGrowth.Judge(obs).Measured, "cap_ms")
}

// TestNoisyWaitsAreInconclusiveNotWrong: a doubling policy whose first waits the machine
// stretched by 400 ms looks mixed; the noise the sandbox saw over those very waits accounts for
// the stretch, so the verdict is inconclusive (and the grading measures again), not warn. The
// same noise over waits it cannot turn changes nothing.
func TestNoisyWaitsAreInconclusiveNotWrong(t *testing.T) {
	t.Parallel()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	stretched := func(i int) time.Duration {
		if i == 1 {
			return ms(600) // 200 ms asked, 400 ms of the machine
		}
		return ms(200 << (i - 1))
	}
	heldOverFirstWaits := func(obs Observations, held time.Duration) Observations {
		for k := range obs {
			o := &obs[k]
			// One sampling interval over all the first waits (the tickets' waits overlap), its
			// delay such that each first wait, in proportion, gets held.
			from, to, w := int64(1<<62), int64(0), int64(0)
			for _, rs := range creates(*o) {
				from, to, w = min(from, rs[0].EndUS), max(to, rs[1].ArrivalUS), rs[1].ArrivalUS-rs[0].EndUS
			}
			o.Run.Delays = journal.Delays{Known: true, FromUS: 0, ToUS: 1 << 40, PeriodUS: 10_000,
				Intervals: []journal.Delay{{FromUS: from, ToUS: to, DelayUS: held.Microseconds() * (to - from) / w}}}
		}
		return obs
	}
	quiet := backoffRuns(stretched)
	require.Equal(t, finding.Warn, backoffGrowth.Judge(quiet).Verdict, "without the noise measured, the stretch reads as a shape")

	noisy := heldOverFirstWaits(backoffRuns(stretched), ms(400))
	j := backoffGrowth.Judge(noisy)
	require.Equal(t, finding.NA, j.Verdict)
	require.Contains(t, j.Summary, "inconclusive")
	require.Contains(t, j.Summary, "could make it pass")
	require.Equal(t, "backoff", Remeasure(noisy)[0].Scenario)

	steady := heldOverFirstWaits(backoffRuns(func(i int) time.Duration { return ms(400) }), ms(100))
	require.Equal(t, finding.Fail, backoffGrowth.Judge(steady).Verdict, "a constant wait stays constant whatever the noise over the first")
	require.Empty(t, Remeasure(steady))
}
