package runner

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/prepare"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/sandbox"
)

// fakeSandbox answers each run with a journal naming its scenario, after a while; it fails
// the scenario named fail. It records the order runs were asked for and how many ran at once.
type fakeSandbox struct {
	fail  string
	delay time.Duration

	mu      sync.Mutex
	order   []string
	running int
	most    int
}

func (f *fakeSandbox) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	scenario := spec.MockArgs[2] // --sandbox --scenario NAME …
	f.mu.Lock()
	f.order = append(f.order, scenario)
	f.running++
	f.most = max(f.most, f.running)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.running--; f.mu.Unlock() }()
	start := time.Now()
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	if scenario == f.fail {
		return nil, errors.New("engine lost")
	}
	var b bytes.Buffer
	j := journal.New(journal.NewClock(), journal.Start{Scenario: scenario}, &b)
	_ = j.Finish()
	return &sandbox.Result{Journal: sandbox.Output{Data: b.Bytes()}, Timeline: sandbox.Timeline{Start: start}}, nil
}

func (f *fakeSandbox) Slots() int { return 2 }

// TestRunsStartLongestFirstWithinTheSandboxsLimit: runs are handed to the sandbox in the
// suite's order, a slot at a time, so the longest take the first slots; no more run at once
// than the sandbox allows.
func TestRunsStartLongestFirstWithinTheSandboxsLimit(t *testing.T) {
	t.Parallel()
	sb := &fakeSandbox{delay: 20 * time.Millisecond}
	scenarios := []suite.Scenario{{Name: "outage", Trials: 1}, {Name: "hang", Trials: 1}, {Name: "backoff", Trials: 3}, {Name: "happy", Trials: 1}}
	var events []Event
	var mu sync.Mutex
	runs, err := Run(context.Background(), sb, &prepare.Bundle{Dir: t.TempDir(), Marker: "@@m"}, scenarios, Options{Progress: func(e Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"outage", "hang"}, sb.order[:2], "the longest take the first slots")
	require.ElementsMatch(t, []string{"outage", "hang", "backoff", "backoff", "backoff", "happy"}, sb.order)
	require.Equal(t, 2, sb.most, "the sandbox's two slots, no more")
	require.Len(t, runs, 6)
	require.Equal(t, "backoff", runs[0].Scenario, "evidence is sorted by scenario and trial")
	require.Equal(t, []int{1, 2, 3}, []int{runs[0].Trial, runs[1].Trial, runs[2].Trial})
	done := 0
	for _, e := range events {
		if e.Done {
			done++
			require.GreaterOrEqual(t, e.Took, e.Queued)
		}
	}
	require.Equal(t, 6, done)
}

// TestTheFirstFailedRunStopsTheOthers: a run the sandbox could not carry out fails the suite,
// the runs still going are cancelled with it as the cause, and no run starts after it.
func TestTheFirstFailedRunStopsTheOthers(t *testing.T) {
	t.Parallel()
	sb := &fakeSandbox{fail: "hang", delay: 50 * time.Millisecond}
	scenarios := []suite.Scenario{{Name: "outage", Trials: 1}, {Name: "hang", Trials: 1}, {Name: "backoff", Trials: 3}, {Name: "happy", Trials: 1}}
	_, err := Run(context.Background(), sb, &prepare.Bundle{Dir: t.TempDir(), Marker: "@@m"}, scenarios, Options{Concurrency: 2})
	require.ErrorContains(t, err, "run hang trial 1: engine lost")
	require.Less(t, len(sb.order), 6, "runs after the failure were not started")
}

// TestACancelledGradingSaysWhy: cancelling the grading's context stops its runs with the
// cancellation's cause.
func TestACancelledGradingSaysWhy(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	sb := &fakeSandbox{delay: time.Minute}
	go func() {
		for {
			sb.mu.Lock()
			n := len(sb.order)
			sb.mu.Unlock()
			if n > 0 {
				cancel(errors.New("the operator pressed Ctrl-C"))
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, err := Run(ctx, sb, &prepare.Bundle{Dir: t.TempDir(), Marker: "@@m"}, []suite.Scenario{{Name: "outage", Trials: 1}}, Options{})
	require.ErrorContains(t, err, "the operator pressed Ctrl-C")
}
