package sandbox

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/sandbox/testenv"
)

// TestTheRunsOutweighTheHostsProcesses: the sandbox gives the candidates' and the mocks' parent
// cgroups their CPU weight, and a run's mock lives under its own parent, where its use of its
// limits is read.
func TestTheRunsOutweighTheHostsProcesses(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	if !s.cpuByCgroup {
		t.Skip("the engine is not local with the cgroupfs driver: weights are left to it")
	}
	for _, base := range []string{cgroupBase, mockCgroupBase} {
		got, err := readWeight(base)
		require.NoError(t, err)
		require.Equal(t, weightWritten(DefaultCPUShares), got, base)
	}
	res, err := s.Run(context.Background(), friendlySpec(t, "happy", friendlyJS))
	require.NoError(t, err)
	require.True(t, res.MockStats.Known, "read from %s", mockCgroupBase)
	require.Positive(t, res.MockStats.CPU)
	require.Less(t, res.MockStats.CPU, res.Timeline.Done.Sub(res.Timeline.Start), "the mock used a fraction of a core")
}

// weightWritten is what weighGroup writes for shares on this machine's cgroup version.
func weightWritten(shares int) int {
	if _, err := readInt(cgroupRoot + "/cpu/" + cgroupBase + "/cpu.shares"); err == nil {
		return shares
	}
	return min(max(shares*100/1024, 1), 10000)
}

// spinJS keeps three threads busy for 1.5 s of wall time under the candidate's one-core quota:
// the main thread gets about a third of a core, and waits or is throttled the rest. 1.5 s, not
// 0.6 s: on a loaded machine the watch starts once the engine has said the container's pid, and
// a rehearsal with two test suites on two cores once began watching after the main thread had
// spun 0.6 s (367 ms watched, 9.5 ms of CPU): the test then measured the wait for the workers.
const spinJS = `
import { Worker } from "node:worker_threads";
const spin = "const end = Date.now() + 1500; while (Date.now() < end) {}";
const workers = [new Worker(spin, { eval: true }), new Worker(spin, { eval: true })];
const end = Date.now() + 1500; while (Date.now() < end) {}
await Promise.all(workers.map((w) => new Promise((r) => w.on("exit", r))));
`

// idleJS waits on a timer and ends.
const idleJS = `await new Promise((r) => setTimeout(r, 600));`

// TestTheCandidatesRunDelayIsMeasured: the host watches the candidate's main thread. A client
// that wants more CPU than its quota is held back (it waits runnable, or its container is
// throttled), and the sandbox sees it in the intervals it happened; a client that sleeps is not.
func TestTheCandidatesRunDelayIsMeasured(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	if !s.cpuByCgroup {
		t.Skip("the engine is not local: the candidate's threads cannot be read")
	}
	cases := []struct {
		name     string
		js       string
		minHeld  time.Duration
		minCPU   time.Duration
		throttle bool
	}{
		{"three threads on one core are held back", spinJS, 150 * time.Millisecond, 100 * time.Millisecond, true},
		{"a sleeping client is not", idleJS, 0, 0, false},
	}
	held := make([]time.Duration, len(cases))
	for i, tc := range cases {
		res, err := s.Run(context.Background(), friendlySpec(t, "happy", tc.js))
		require.NoError(t, err)
		require.Zero(t, res.ExitCode, string(res.Stderr.Data))
		sc := res.Sched
		require.True(t, sc.Known, tc.name)
		require.False(t, sc.From.Before(res.Timeline.CandidateStarted), "watched from the candidate's start")
		require.False(t, sc.To.After(res.Timeline.CandidateExited), "to its end")
		t.Logf("%s: delay %v, throttled %v, CPU %v over %v, %d intervals kept", tc.name, sc.Delay, sc.Throttled, sc.CPU, sc.To.Sub(sc.From), len(sc.Waits))
		held[i] = sc.Delay + sc.Throttled
		require.GreaterOrEqual(t, held[i], tc.minHeld, tc.name)
		require.GreaterOrEqual(t, sc.CPU, tc.minCPU, tc.name)
		if tc.throttle {
			require.Positive(t, sc.Throttled, "the quota held the container back")
		}
		var inWaits time.Duration
		for _, w := range sc.Waits {
			require.True(t, w.Delay >= schedThreshold || w.Throttled > 0, "an interval is kept for a reason")
			inWaits += w.Delay + w.Throttled
		}
		require.LessOrEqual(t, inWaits, sc.Delay+sc.Throttled)
		whole, ok := sc.DelayOver(sc.From, sc.To)
		require.True(t, ok)
		require.InDelta(t, float64(inWaits), float64(whole), float64(len(sc.Waits)+1)*float64(time.Microsecond), "over the whole span, every interval kept")
		_, ok = sc.DelayOver(sc.From, sc.To.Add(time.Second))
		require.False(t, ok, "nothing is known past the span watched")
	}
	require.Greater(t, held[0], 4*held[1], "the spinning client was held back far longer than the sleeping one")
}

// waitJS lives 1.5 s: longer than the quiet window its runs ask for.
const waitJS = `await new Promise((r) => setTimeout(r, 1500));`

// TestTheStartGateStaggersStarts: with the gate, runs handed in together make and start their
// containers one after another, and none while another run's quiet window lasts.
func TestTheStartGateStaggersStarts(t *testing.T) {
	t.Parallel()
	sandboxForTest(t) // the images, built once
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := New(ctx, Options{NodeBinary: testenv.Node24(t), GraderBinary: graderBinary, StartGate: true})
	require.NoError(t, err)
	defer s.Close()

	const runs, quiet = 3, time.Second
	results := make([]*Result, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp := friendlySpec(t, "happy", waitJS)
			sp.Quiet = quiet
			res, err := s.Run(ctx, sp)
			require.NoError(t, err)
			results[i] = res
		}()
	}
	wg.Wait()
	for i, a := range results {
		for j, b := range results {
			if i == j {
				continue
			}
			// b's start lies wholly before a's, or after a's quiet window (or a's end).
			quietEnd := a.Timeline.CandidateStarted.Add(quiet)
			if a.Timeline.Done.Before(quietEnd) {
				quietEnd = a.Timeline.Done
			}
			before := !b.Timeline.CandidateStarted.After(a.Timeline.Gated)
			after := !b.Timeline.Gated.Before(quietEnd)
			require.True(t, before || after, "run %d started its containers during run %d's start or quiet window", j, i)
		}
	}
}
