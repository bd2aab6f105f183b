// Package grading is one grading from end to end: fetch the submission, build it, run the suite
// in the sandbox, judge the observations, and assemble the report.
package grading

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/itsm-grader/grader/grader/build"
	"github.com/itsm-grader/grader/grader/checks"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/intake"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/runner"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/harness/journal"
)

// Options configure a grading.
type Options struct {
	Source      string
	Ref         string
	Sandbox     runner.Sandbox
	Scenarios   []suite.Scenario // default suite.Default()
	Concurrency int
	Registry    string // npm registry for locked dependencies
	NPMCache    string
	Progress    func(runner.Event)
	Logger      *slog.Logger
}

// Grade grades one submission. The error is about grading failing (the engine, the disk); a
// submission that does not build gets a report saying so.
func Grade(ctx context.Context, opts Options) (*report.Report, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Scenarios == nil {
		opts.Scenarios = suite.Default()
	}
	work, err := os.MkdirTemp("", "itsm-grade-")
	if err != nil {
		return nil, fmt.Errorf("make work directory: %w", err)
	}
	defer os.RemoveAll(work)
	sub, err := intake.Fetch(ctx, opts.Source, opts.Ref, work)
	if err != nil {
		return nil, fmt.Errorf("fetch submission: %w", err)
	}
	meta := report.Submission{Source: opts.Source, Ref: sub.Ref, Commit: sub.Commit}
	b, failure, err := build.Build(ctx, sub.Dir, build.Options{Workdir: work, Registry: opts.Registry, Cache: opts.NPMCache, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("build submission: %w", err)
	}
	if failure != nil {
		return buildFailed(meta, failure), nil
	}
	obs, err := runner.Run(ctx, opts.Sandbox, b, opts.Scenarios, runner.Options{Concurrency: opts.Concurrency, Progress: opts.Progress})
	if err != nil {
		return nil, err
	}
	findings := checks.Run(obs)
	info := report.Build{OK: true, Dependencies: b.Dependencies, TookMS: b.Took.Milliseconds()}
	for _, w := range b.Warnings {
		info.Messages = append(info.Messages, checks.Clean(w.String(), nil))
	}
	return report.New(meta, info, findings, runs(obs), time.Now()), nil
}

func buildFailed(meta report.Submission, f *build.Failure) *report.Report {
	info := report.Build{Stage: f.Stage, Summary: checks.Clean(f.Summary, nil)}
	for _, m := range f.Messages {
		for _, l := range strings.Split(strings.TrimRight(m.String(), "\n"), "\n") {
			info.Messages = append(info.Messages, checks.Clean(l, nil))
		}
	}
	contract := checks.BuildFailed(fmt.Sprintf("the submission did not build (%s): %s", f.Stage, info.Summary), info.Messages)
	findings := append([]finding.Finding{contract}, checks.NotApplicable("the submission did not build, so nothing ran", "build.contract")...)
	return report.New(meta, info, findings, nil, time.Now())
}

// runs summarises each run for the report's timelines.
func runs(obs []runner.Observation) []report.Run {
	var out []report.Run
	for _, o := range obs {
		r := report.Run{Scenario: o.Scenario, Trial: o.Trial, ExitCode: o.Run.ExitCode, TimedOut: o.Run.TimedOut,
			OOMKilled: o.Run.OOMKilled, WallMS: o.Run.Wall.Milliseconds(), Outcome: o.Outcome.Kind}
		if o.Run.CPUKnown {
			r.CPUMS = o.Run.CPU.Milliseconds()
		}
		if o.Journal != nil {
			r.Tickets = len(o.Journal.Tickets)
			r.Attempts = attempts(o.Journal)
		}
		out = append(out, r)
	}
	return out
}

func attempts(l *journal.Log) []report.Attempt {
	var out []report.Attempt
	var t0 int64 = -1
	for _, r := range l.Requests {
		subject := r.Ticket
		switch {
		case r.Endpoint == "source.list" && r.Offset != nil:
			subject = fmt.Sprintf("page %d", *r.Offset)
		case subject == "":
			continue
		}
		if t0 < 0 {
			t0 = r.ArrivalUS
		}
		out = append(out, report.Attempt{
			Subject: checks.Clean(subject, nil), StartMS: (r.ArrivalUS - t0) / 1000, EndMS: (r.EndUS - t0) / 1000,
			Status: r.Status, Fault: r.Fault, Outcome: r.Outcome, EndedBy: r.EndedBy, Created: r.Created != "", Replay: r.Replayed,
		})
	}
	return out
}
