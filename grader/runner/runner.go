// Package runner runs a built submission through the grading suite in the sandbox, scenarios
// and trials in parallel up to a limit, and captures each run as evidence (grader/evidence): the
// mock's journal, what the sandbox captured, and how syncTickets settled.
package runner

import (
	"context"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/itsm-grader/grader/fixtures/scenarios"
	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/prepare"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/harness/plan"
	"github.com/itsm-grader/grader/harness/secrets"
	"github.com/itsm-grader/grader/harness/tlsca"
	"github.com/itsm-grader/grader/sandbox"
)

// Sandbox runs one spec (satisfied by *sandbox.Sandbox).
type Sandbox interface {
	Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error)
}

// Ports the mock listens on inside the run's namespace.
const (
	httpsPort     = "8443"
	untrustedPort = "9443"
)

// Hosts the client reaches the APIs by (mapped to the shared loopback).
var Hosts = []string{"source.itsm.test", "target.itsm.test"}

// Options tune a suite run.
type Options struct {
	// Concurrency is how many runs are handed to the sandbox at once; 0 takes the sandbox's own
	// limit where it says (Slots), else 3. The sandbox's limit is the one that holds: several
	// gradings share one sandbox, and timing measurements need the machine not to be
	// oversubscribed (BenchmarkDrift: 8 runs on 2 cores triple the noise).
	Concurrency int
	// Progress is told of every run that starts and ends; it may be nil.
	Progress func(Event)
}

// Slots is what a sandbox that limits its runs in flight says of its limit.
type Slots interface {
	Slots() int
}

// Event is one step of progress. Queued is how long a run waited for a sandbox slot before it
// started; Took is its whole time, queue included.
type Event struct {
	Scenario string
	Trial    int
	Done     bool
	Queued   time.Duration
	Took     time.Duration
	Err      error
}

// Run runs every scenario's trials, longest first, and captures each as evidence. A run the
// sandbox could not carry out is an error (the grader failed), never a finding; the first one
// cancels the runs still going, with itself as the cause.
func Run(ctx context.Context, sb Sandbox, b *prepare.Bundle, suiteScenarios []suite.Scenario, opts Options) ([]evidence.Run, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 3
		if s, ok := sb.(Slots); ok && s.Slots() > 0 {
			opts.Concurrency = s.Slots()
		}
	}
	jobs, err := jobsOf(suiteScenarios)
	if err != nil {
		return nil, err
	}
	runs := make([]evidence.Run, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	// Go blocks once Concurrency runs are going, so the runs start in the suite's order: the
	// longest first.
	g.SetLimit(opts.Concurrency)
	for i, j := range jobs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			progress(opts, Event{Scenario: j.sc.Name, Trial: j.trial})
			start := time.Now()
			r, queued, err := runOne(gctx, sb, b, j)
			runs[i] = r
			progress(opts, Event{Scenario: j.sc.Name, Trial: j.trial, Done: true, Queued: queued, Took: time.Since(start), Err: err})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	sort.SliceStable(runs, func(a, b int) bool {
		return runs[a].Scenario < runs[b].Scenario || runs[a].Scenario == runs[b].Scenario && runs[a].Trial < runs[b].Trial
	})
	return runs, nil
}

// jobsOf lists the suite's runs in order, each with its plan.
func jobsOf(suiteScenarios []suite.Scenario) ([]job, error) {
	var jobs []job
	for _, sc := range suiteScenarios {
		p, err := scenarios.Load(sc.Name)
		if err != nil {
			return nil, err
		}
		src, err := scenarios.Source(sc.Name)
		if err != nil {
			return nil, err
		}
		for t := 1; t <= sc.Trials; t++ {
			jobs = append(jobs, job{sc: sc, plan: p, source: string(src), trial: t})
		}
	}
	return jobs, nil
}

func progress(o Options, e Event) {
	if o.Progress != nil {
		o.Progress(e)
	}
}

// job is one trial of one scenario.
type job struct {
	sc     suite.Scenario
	plan   *plan.Plan
	source string // the plan as written, kept with the evidence
	trial  int
}

func runOne(ctx context.Context, sb Sandbox, b *prepare.Bundle, j job) (evidence.Run, time.Duration, error) {
	tok := secrets.New("", "")
	spec, err := specFor(b, j.sc, j.plan, tok)
	if err != nil {
		return evidence.Run{}, 0, err
	}
	asked := time.Now()
	res, err := sb.Run(ctx, spec)
	if err != nil {
		return evidence.Run{}, 0, fmt.Errorf("run %s trial %d: %w", j.sc.Name, j.trial, err)
	}
	var queued time.Duration
	if !res.Timeline.Start.IsZero() {
		queued = max(res.Timeline.Start.Sub(asked), 0)
	}
	return capture(j, tok, b.Marker, res), queued, nil
}

func specFor(b *prepare.Bundle, sc suite.Scenario, p *plan.Plan, tok *secrets.Tokens) (sandbox.Spec, error) {
	trusted, err := tlsca.New("ITSM grading CA")
	if err != nil {
		return sandbox.Spec{}, err
	}
	untrusted, err := tlsca.New("ITSM untrusted CA")
	if err != nil {
		return sandbox.Spec{}, err
	}
	tb, err := trusted.Encode()
	if err != nil {
		return sandbox.Spec{}, err
	}
	ub, err := untrusted.Encode()
	if err != nil {
		return sandbox.Spec{}, err
	}
	targetPort := httpsPort
	if p.TargetListener == "untrusted" {
		targetPort = untrustedPort
	}
	return sandbox.Spec{
		MockArgs: []string{"--sandbox", "--scenario", sc.Name, "--tls-dir", sandbox.FilesDir,
			"--source-token", tok.Source, "--target-token", tok.Target,
			"--http-port", "8080", "--https-port", httpsPort, "--untrusted-port", untrustedPort},
		MockFiles:      map[string][]byte{"trusted.pem": tb, "untrusted.pem": ub},
		CandidateFiles: map[string][]byte{"ca.pem": trusted.CertPEM},
		Bundle:         b.Dir,
		Command:        []string{sandbox.BundleDir + "/" + prepare.Entry},
		Env: map[string]string{
			"ITSM_SOURCE_URL":     "https://source.itsm.test:" + httpsPort,
			"ITSM_SOURCE_TOKEN":   tok.Source,
			"ITSM_TARGET_URL":     "https://target.itsm.test:" + targetPort,
			"ITSM_TARGET_TOKEN":   tok.Target,
			"NODE_EXTRA_CA_CERTS": sandbox.FilesDir + "/ca.pem",
		},
		Hosts:  Hosts,
		Limits: sandbox.Limits{Wall: sc.Budget},
	}, nil
}
