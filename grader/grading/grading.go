// Package grading is one grading from end to end: fetch the submission, build it, review its
// code and run the suite in the sandbox, all captured as evidence (Capture); then judge the
// evidence into a report (grader/judge), which needs nothing but the evidence.
package grading

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/grader/checks"
	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/intake"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/prepare"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/review"
	"github.com/itsm-grader/grader/grader/runner"
	"github.com/itsm-grader/grader/grader/static"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/grader/version"
)

// Sandbox runs scenarios and one-off tools (the bundler, the analyzer): *sandbox.Sandbox.
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
	// Remote fetches sources of a hosting service (a GitHub repository); nil: folders and git
	// URLs only.
	Remote   intake.Remote
	NPMCache string
	Progress func(runner.Event)
	Logger   *slog.Logger
}

// Grade grades one submission: Capture, then judge.Judge. The error is about grading failing
// (the engine, the disk); a submission that does not build gets a report saying so.
func Grade(ctx context.Context, opts Options) (*report.Report, error) {
	ev, err := Capture(ctx, opts)
	if err != nil {
		return nil, err
	}
	return judge.Judge(ev, time.Now())
}

// Capture observes one submission: it fetches, builds and reviews it, and runs the suite, and
// returns everything observed as evidence.
func Capture(ctx context.Context, opts Options) (*evidence.Evidence, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Scenarios == nil {
		opts.Scenarios = suite.Default()
	}
	suiteVersion, err := suite.Version(opts.Scenarios)
	if err != nil {
		return nil, err
	}
	ev := &evidence.Evidence{
		SchemaVersion: evidence.SchemaVersion, CapturedAt: time.Now().UTC(),
		Versions:   evidence.Versions{Grader: version.Grader(), Suite: suiteVersion, Rules: judge.RulesVersion},
		Submission: evidence.Submission{Source: opts.Source, Ref: opts.Ref},
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
	ev.Submission.Commit = sub.Commit
	var b *prepare.Bundle
	if failure == nil {
		b, failure, err = prepare.Prepare(ctx, opts.Sandbox, sub.Dir, prepare.Options{Workdir: work, Registry: opts.Registry, Cache: opts.NPMCache, Logger: opts.Logger})
		if err != nil {
			return nil, fmt.Errorf("build submission: %w", err)
		}
	}
	ev.Build = buildEvidence(b, failure)
	// Everything read from the submission from here on is read from the host's own copy: the
	// build's (with its installed node_modules) where it got that far, else the intake's.
	copied := prepare.SourceDir(work)
	if st, err := os.Stat(copied); err != nil || !st.IsDir() {
		copied = sub.Dir
	}
	// The static review runs before the scenarios, never beside them: its compile is a burst of
	// CPU that would add noise to the runs' timing.
	if ev.Static, err = staticReview(ctx, opts, copied); err != nil {
		return nil, err
	}
	if failure == nil {
		if err := runSuite(ctx, opts, b, ev); err != nil {
			return nil, err
		}
	}
	// The code for similarity is read after the runs, never before or beside them: its container
	// starts and stops, and the scanner is a burst of CPU.
	if err := codeForSimilarity(ctx, opts, copied, &ev.Static); err != nil {
		return nil, err
	}
	return ev, nil
}

// maxRemeasures bounds how often a scenario is run again because the machine's noise left its
// timing verdict inconclusive: after that the verdict says inconclusive, with the noise.
const maxRemeasures = 2

// runSuite runs the suite, then runs again, at most maxRemeasures times, the scenarios whose
// timing verdict the noise measured over their waits could turn (checks.Remeasure): the
// evidence keeps the last measurement and says what was measured again and why.
func runSuite(ctx context.Context, opts Options, b *prepare.Bundle, ev *evidence.Evidence) error {
	runs, err := runner.Run(ctx, opts.Sandbox, b, opts.Scenarios, runner.Options{Concurrency: opts.Concurrency, Progress: opts.Progress})
	if err != nil {
		return err
	}
	ev.Runs = runs
	for range maxRemeasures {
		obs, err := checks.Observe(ev.Runs)
		if err != nil {
			return err
		}
		again := checks.Remeasure(obs)
		if len(again) == 0 {
			return nil
		}
		names := make([]string, 0, len(again))
		for _, r := range again {
			names = append(names, r.Scenario)
			opts.Logger.Info("measuring again", "scenario", r.Scenario, "why", r.Reason)
		}
		fresh, err := runner.Run(ctx, opts.Sandbox, b, suite.Only(opts.Scenarios, names), runner.Options{Concurrency: opts.Concurrency, Progress: opts.Progress})
		if err != nil {
			return err
		}
		ev.Runs = replaceRuns(ev.Runs, fresh)
		ev.Remeasured = append(ev.Remeasured, again...)
	}
	return nil
}

// replaceRuns swaps the runs of the scenarios fresh holds for fresh's, in order.
func replaceRuns(runs, fresh []evidence.Run) []evidence.Run {
	redone := map[string]bool{}
	for _, r := range fresh {
		redone[r.Scenario] = true
	}
	out := make([]evidence.Run, 0, len(runs))
	for _, r := range runs {
		if !redone[r.Scenario] {
			out = append(out, r)
		}
	}
	out = append(out, fresh...)
	sort.SliceStable(out, func(a, b int) bool {
		return out[a].Scenario < out[b].Scenario || out[a].Scenario == out[b].Scenario && out[a].Trial < out[b].Trial
	})
	return out
}

// fetch lays the submission out in the work directory. A submission the intake refuses (a link,
// a device, over a cap) is a build failure, reported as a finding; a source that cannot be
// reached is an error.
func fetch(ctx context.Context, opts Options, work string) (*intake.Submission, *prepare.Failure, error) {
	sub, err := intake.Fetch(ctx, opts.Source, opts.Ref, intake.Options{Workdir: work, Remote: opts.Remote})
	if errors.Is(err, intake.ErrRefused) {
		return &intake.Submission{Dir: filepath.Join(work, "refused"), Source: opts.Source, Ref: opts.Ref},
			&prepare.Failure{Stage: "intake", Summary: "the submission was refused: " + err.Error()}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fetch submission: %w", err)
	}
	return sub, nil, nil
}

func buildEvidence(b *prepare.Bundle, f *prepare.Failure) evidence.Build {
	if f != nil {
		out := evidence.Build{Stage: f.Stage, Summary: f.Summary}
		for _, m := range f.Messages {
			out.Messages = append(out.Messages, evidence.Message(m))
		}
		return out
	}
	out := evidence.Build{OK: true, Dependencies: b.Dependencies, TookMS: b.Took.Milliseconds()}
	for _, w := range b.Warnings {
		out.Warnings = append(out.Warnings, evidence.Message(w))
	}
	return out
}

// staticReview runs the analyzer over the host's copy of the submission and gathers the files
// the rules read. An analyzer that fails on this submission is recorded with the reason (its
// findings are then n/a); a missing toolchain or a failing engine fails the grading.
func staticReview(ctx context.Context, opts Options, dir string) (evidence.Static, error) {
	var out evidence.Static
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		out.Failure = "the submission could not be copied, so there is no code to read"
		return out, nil
	}
	src, err := review.Gather(dir)
	if err != nil {
		return out, fmt.Errorf("static review: %w", err)
	}
	if out.Sources, err = json.Marshal(src); err != nil {
		return out, fmt.Errorf("static review: %w", err)
	}
	fields, err := exercise.TargetFields()
	if err != nil {
		return out, err
	}
	fs, err := static.Analyze(ctx, opts.Sandbox, dir, static.Options{Toolchain: opts.Toolchain, Fields: fields})
	switch {
	case errors.Is(err, static.ErrAnalyzer):
		opts.Logger.Warn("static review", "err", err)
		out.Failure = err.Error()
		return out, nil
	case err != nil:
		return out, fmt.Errorf("static review: %w", err)
	}
	if out.Facts, err = json.Marshal(fs); err != nil {
		return out, fmt.Errorf("static review: %w", err)
	}
	out.TypeScript, out.TookMS = fs.TypeScript, fs.Took.Milliseconds()
	return out, nil
}

// codeForSimilarity keeps the submission's code with the evidence: its tokens as the pinned
// scanner reads them in the sandbox, and its TypeScript files. A scanner that fails on this
// submission is recorded with the reason; the engine failing fails the grading.
func codeForSimilarity(ctx context.Context, opts Options, dir string, out *evidence.Static) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil
	}
	docs, err := static.Tokens(ctx, opts.Sandbox, []string{dir}, static.Options{Toolchain: opts.Toolchain})
	switch {
	case errors.Is(err, static.ErrTokenizer):
		opts.Logger.Warn("tokens for similarity", "err", err)
		out.TokensFailure = err.Error()
	case err != nil:
		return fmt.Errorf("tokens for similarity: %w", err)
	default:
		docs[0].Name = ""
		out.Tokens = &docs[0]
	}
	if out.Code, err = static.ReadCode(dir); err != nil {
		return fmt.Errorf("code for similarity: %w", err)
	}
	return nil
}
