// Package runner runs a built submission through the grading suite in the sandbox, scenarios
// and trials in parallel up to a limit, and turns each run into an Observation: the mock's
// journal, what the sandbox captured, and how syncTickets settled.
package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/itsm-grader/grader/fixtures/scenarios"
	"github.com/itsm-grader/grader/grader/build"
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
	// Concurrency is how many runs share the machine (default 3: BenchmarkDrift shows the noise
	// of 8 runs on 2 cores is several times that of one).
	Concurrency int
	// Progress is told of every run that starts and ends; it may be nil.
	Progress func(Event)
}

// Event is one step of progress.
type Event struct {
	Scenario string
	Trial    int
	Done     bool
	Took     time.Duration
	Err      error
}

// Run runs every scenario's trials. A run the sandbox could not carry out is an error (the
// grader failed), never a finding.
func Run(ctx context.Context, sb Sandbox, b *build.Bundle, suiteScenarios []suite.Scenario, opts Options) ([]Observation, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 3
	}
	type job struct {
		sc    suite.Scenario
		plan  *plan.Plan
		trial int
	}
	var jobs []job
	for _, sc := range suiteScenarios {
		p, err := scenarios.Load(sc.Name)
		if err != nil {
			return nil, err
		}
		for t := 1; t <= sc.Trials; t++ {
			jobs = append(jobs, job{sc: sc, plan: p, trial: t})
		}
	}
	obs := make([]Observation, len(jobs))
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	for i, j := range jobs {
		// Slots are taken here, in the suite's order, so the longest runs start first: a
		// goroutine each racing for a slot would start them in any order.
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = context.Cause(ctx)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			progress(opts, Event{Scenario: j.sc.Name, Trial: j.trial})
			start := time.Now()
			o, err := runOne(ctx, sb, b, j.sc, j.plan, j.trial)
			obs[i], errs[i] = o, err
			progress(opts, Event{Scenario: j.sc.Name, Trial: j.trial, Done: true, Took: time.Since(start), Err: err})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.SliceStable(obs, func(a, b int) bool {
		return obs[a].Scenario < obs[b].Scenario || obs[a].Scenario == obs[b].Scenario && obs[a].Trial < obs[b].Trial
	})
	return obs, nil
}

func progress(o Options, e Event) {
	if o.Progress != nil {
		o.Progress(e)
	}
}

func runOne(ctx context.Context, sb Sandbox, b *build.Bundle, sc suite.Scenario, p *plan.Plan, trial int) (Observation, error) {
	tok := secrets.New("", "")
	spec, err := specFor(b, sc, p, tok)
	if err != nil {
		return Observation{}, err
	}
	res, err := sb.Run(ctx, spec)
	if err != nil {
		return Observation{}, fmt.Errorf("run %s trial %d: %w", sc.Name, trial, err)
	}
	return observe(sc, p, trial, tok, b.Marker, res), nil
}

func specFor(b *build.Bundle, sc suite.Scenario, p *plan.Plan, tok *secrets.Tokens) (sandbox.Spec, error) {
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
		Command:        []string{sandbox.BundleDir + "/" + build.Entry},
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
