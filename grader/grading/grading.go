// Package grading is one grading from end to end: fetch the submission, build it, run the suite
// in the sandbox, judge the observations, and assemble the report.
package grading

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/grader/build"
	"github.com/itsm-grader/grader/grader/checks"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/intake"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/review"
	"github.com/itsm-grader/grader/grader/runner"
	"github.com/itsm-grader/grader/grader/static"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/harness/journal"
)

// Sandbox runs scenarios and the static analyzer (satisfied by *sandbox.Sandbox).
type Sandbox interface {
	runner.Sandbox
	static.Tool
}

// Options configure a grading.
type Options struct {
	Source  string
	Ref     string
	Sandbox Sandbox
	// Toolchain is the node_modules folder with the pinned TypeScript compiler (make typescript
	// puts it in .cache/typescript/node_modules).
	Toolchain   string
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
	sub, failure, err := fetch(ctx, opts, work)
	if err != nil {
		return nil, err
	}
	var b *build.Bundle
	if failure == nil {
		b, failure, err = build.Build(ctx, opts.Sandbox, sub.Dir, build.Options{Workdir: work, Registry: opts.Registry, Cache: opts.NPMCache, Logger: opts.Logger})
		if err != nil {
			return nil, fmt.Errorf("build submission: %w", err)
		}
	}
	// Everything read from the submission from here on is read from the host's own copy: the
	// build's (with its installed node_modules) where it got that far, else the intake's.
	copied := build.SourceDir(work)
	if st, err := os.Stat(copied); err != nil || !st.IsDir() {
		copied = sub.Dir
	}
	track := review.Track(copied)
	meta := report.Submission{Source: opts.Source, Ref: sub.Ref, Commit: sub.Commit, Track: track}
	// The static review runs before the scenarios, never beside them: its compile is a burst of
	// CPU that would add noise to the runs' timing.
	staticFindings, staticInfo, err := staticReview(ctx, opts, copied)
	if err != nil {
		return nil, err
	}
	var rep *report.Report
	if failure != nil {
		rep = buildFailed(meta, failure, staticFindings, copied, track)
	} else {
		captured, err := runner.Run(ctx, opts.Sandbox, b, opts.Scenarios, runner.Options{Concurrency: opts.Concurrency, Progress: opts.Progress})
		if err != nil {
			return nil, err
		}
		obs, err := checks.Observe(captured)
		if err != nil {
			return nil, err
		}
		info := report.Build{OK: true, Dependencies: b.Dependencies, TookMS: b.Took.Milliseconds()}
		for _, w := range b.Warnings {
			info.Messages = append(info.Messages, checks.Clean(w.String()))
		}
		rep = report.New(meta, info, joined(checks.Run(obs), staticFindings, copied, track), runs(obs), time.Now())
	}
	rep.Static = staticInfo
	return rep, nil
}

// fetch lays the submission out in the work directory. A submission the intake refuses (a link,
// a device, over a cap) is a build failure, reported as a finding; a source that cannot be
// reached is an error.
func fetch(ctx context.Context, opts Options, work string) (*intake.Submission, *build.Failure, error) {
	sub, err := intake.Fetch(ctx, opts.Source, opts.Ref, intake.Options{Workdir: work})
	if errors.Is(err, intake.ErrRefused) {
		return &intake.Submission{Dir: filepath.Join(work, "refused"), Source: opts.Source, Ref: opts.Ref},
			&build.Failure{Stage: "intake", Summary: "the submission was refused: " + err.Error()}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fetch submission: %w", err)
	}
	return sub, nil, nil
}

// staticReview runs the analyzer over the build's copy of the submission and judges its facts.
// An analyzer that fails on this submission leaves the static findings n/a with the reason; a
// missing toolchain or a failing engine fails the grading.
func staticReview(ctx context.Context, opts Options, dir string) ([]finding.Finding, *report.Static, error) {
	fields, err := exercise.TargetFields()
	if err != nil {
		return nil, nil, err
	}
	in := &review.Input{Dir: dir}
	info := &report.Static{}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		in.Failure = "the submission could not be copied, so there is no code to read"
		info.Error = in.Failure
		return review.Review(in), info, nil
	}
	facts, err := static.Analyze(ctx, opts.Sandbox, dir, static.Options{Toolchain: opts.Toolchain, Fields: fields})
	switch {
	case errors.Is(err, static.ErrAnalyzer):
		opts.Logger.Warn("static review", "err", err)
		in.Failure = checks.Clean(err.Error())
		info.Error = in.Failure
	case err != nil:
		return nil, nil, fmt.Errorf("static review: %w", err)
	default:
		in.Facts = facts
		info.TypeScript, info.TookMS = checks.Clean(facts.TypeScript), facts.Took.Milliseconds()
		for _, f := range facts.Files {
			info.Files++
			info.Lines += f.Lines
		}
	}
	return review.Review(in), info, nil
}

// joined puts measured and static findings together, judges the AI rationale against both, and
// relates each static finding to its measured counterparts.
func joined(measured, staticFindings []finding.Finding, dir, track string) []finding.Finding {
	all := append(append([]finding.Finding{}, measured...), staticFindings...)
	all = append(all, review.Rationale(dir, track, all))
	review.Join(all)
	return all
}

func buildFailed(meta report.Submission, f *build.Failure, staticFindings []finding.Finding, dir, track string) *report.Report {
	info := report.Build{Stage: f.Stage, Summary: checks.Clean(f.Summary)}
	for _, m := range f.Messages {
		for _, l := range strings.Split(strings.TrimRight(m.String(), "\n"), "\n") {
			info.Messages = append(info.Messages, checks.Clean(l))
		}
	}
	contract := checks.BuildFailed(fmt.Sprintf("the submission did not build (%s): %s", f.Stage, info.Summary), info.Messages)
	findings := append([]finding.Finding{contract}, checks.NotApplicable("the submission did not build, so nothing ran", "build.contract")...)
	return report.New(meta, info, joined(findings, staticFindings, dir, track), nil, time.Now())
}

// runs summarises each run for the report's timelines.
func runs(obs checks.Observations) []report.Run {
	var out []report.Run
	for _, o := range obs {
		r := report.Run{Scenario: o.Scenario, Trial: o.Trial, ExitCode: o.Process.ExitCode, TimedOut: o.Process.TimedOut,
			OOMKilled: o.Process.OOMKilled, WallMS: o.Process.Wall.Milliseconds(), Outcome: o.Outcome.Kind}
		if o.Process.CPUKnown {
			r.CPUMS = o.Process.CPU.Milliseconds()
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
			Subject: checks.Clean(subject), StartMS: (r.ArrivalUS - t0) / 1000, EndMS: (r.EndUS - t0) / 1000,
			Status: r.Status, Fault: r.Fault, Outcome: r.Outcome, EndedBy: r.EndedBy, Created: r.Created != "", Replay: r.Replayed,
		})
	}
	return out
}
