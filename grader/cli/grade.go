package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/grading"
	"github.com/itsm-grader/grader/grader/intake"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/runner"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/sandbox"
)

type gradeFlags struct {
	out, ref, node, graderBin, runtimeImage, registry, scenarios, typescript, githubAPI string
	concurrency                                                                         int
}

func parseGradeFlags(args []string, stderr io.Writer) (*gradeFlags, string, error) {
	f := &gradeFlags{}
	fs := flag.NewFlagSet("grader grade", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: grader grade SUBMISSION (a folder or a git URL) --out DIR [flags]")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.out, "out", "", "directory for report.json, report.md, report.html and report.sarif (required)")
	fs.StringVar(&f.ref, "ref", "", "git ref to grade (a branch, tag or commit; git sources only)")
	f.engineFlags(fs)
	// Flags may follow the submission.
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, "", err
	}
	if len(positional) != 1 {
		return nil, "", errors.New("name exactly one submission (a folder or a git URL)")
	}
	if f.out == "" {
		return nil, "", errors.New("--out DIR is required")
	}
	return f, positional[0], nil
}

// engineFlags registers the flags every command that grades takes: the toolchain, the
// sandbox and the suite.
func (f *gradeFlags) engineFlags(fs *flag.FlagSet) {
	fs.StringVar(&f.node, "node", "", "Node.js 24 binary for the runtime image (default: $GRADER_NODE, else the grader's cache, installed on first use: see grader toolchain)")
	fs.StringVar(&f.typescript, "typescript", "", "node_modules folder with the pinned TypeScript compiler for the static review (default: $GRADER_TYPESCRIPT, else the grader's cache, installed on first use)")
	fs.StringVar(&f.graderBin, "grader-binary", "", "static grader binary for the mock image (default: this executable)")
	fs.StringVar(&f.runtimeImage, "runtime-image", "", "run candidates on this image instead of building one (e.g. "+"node:24-bookworm-slim)")
	fs.StringVar(&f.registry, "registry", "", "the npm registry locked dependencies' tarballs are fetched from (default: the host npm's configured one, else registry.npmjs.org)")
	fs.StringVar(&f.scenarios, "scenarios", "", "comma-separated scenarios to run (default: the whole suite)")
	fs.StringVar(&f.githubAPI, "github-api", "", "REST API of a GitHub Enterprise Server (e.g. https://ghe.example.com/api/v3/) for github sources (default: github.com's)")
	fs.IntVar(&f.concurrency, "concurrency", 3, "runs in the sandbox at once (the machine's noise grows with it: see README)")
}

func runGrade(ctx context.Context, env Env, log *slog.Logger, args []string) int {
	f, source, err := parseGradeFlags(args, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader grade: %v\n", err)
		return ExitUsage
	}
	ev, err := grade(ctx, env, log, f, source)
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader grade: %v\n", err)
		return ExitFailure
	}
	rep, err := judge.Judge(ev, time.Now())
	if err == nil {
		err = writeEvidence(ev, f.out)
	}
	if err == nil {
		err = writeReports(rep, f.out)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader grade: %v\n", err)
		return ExitFailure
	}
	summarise(env.Stdout, rep, f.out)
	fmt.Fprintf(env.Stdout, "evidence: %s (grader judge re-reads it)\n", filepath.Join(f.out, evidence.FileName))
	return ExitOK
}

func grade(ctx context.Context, env Env, log *slog.Logger, f *gradeFlags, source string) (*evidence.Evidence, error) {
	remote, err := gitHubRemote(env, log, f.githubAPI, source)
	if err != nil {
		return nil, err
	}
	if err := intake.Check(source, f.ref, remote); err != nil {
		return nil, err
	}
	sb, toolchain, err := openSandbox(ctx, env, log, f)
	if err != nil {
		return nil, err
	}
	defer sb.Close()
	scenarios, err := f.suite()
	if err != nil {
		return nil, err
	}
	total := 0
	for _, s := range scenarios {
		total += s.Trials
	}
	var mu sync.Mutex
	done := 0
	start := time.Now()
	return grading.Capture(ctx, grading.Options{
		Source: source, Ref: f.ref, Sandbox: sb, Toolchain: toolchain, Scenarios: scenarios,
		Registry: f.registry, Logger: log, Remote: remote,
		Progress: func(e runner.Event) {
			mu.Lock()
			defer mu.Unlock()
			if !e.Done {
				return
			}
			done++
			status := "done"
			if e.Err != nil {
				status = "failed: " + e.Err.Error()
			}
			fmt.Fprintf(env.Stderr, "[%2d/%d %5.1fs] %s trial %d %s in %.1fs (%.1fs queued)\n", done, total, time.Since(start).Seconds(), e.Scenario, e.Trial, status,
				(e.Took - e.Queued).Seconds(), e.Queued.Seconds())
		},
	})
}

// openSandbox finds the toolchain and prepares the sandbox the flags describe; the caller
// closes it.
func openSandbox(ctx context.Context, env Env, log *slog.Logger, f *gradeFlags) (*sandbox.Sandbox, string, error) {
	node, toolchain, err := toolchainPaths(ctx, env, f.node, f.typescript, f.registry)
	if err != nil {
		return nil, "", err
	}
	bin := f.graderBin
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, "", fmt.Errorf("find this executable: %w", err)
		}
		bin = exe
	}
	fmt.Fprintln(env.Stderr, "preparing the sandbox (images are built once and reused)…")
	sb, err := sandbox.New(ctx, sandbox.Options{NodeBinary: node, GraderBinary: bin, RuntimeImage: f.runtimeImage, MaxRuns: f.concurrency, Logger: log})
	if err != nil {
		return nil, "", err
	}
	return sb, toolchain, nil
}

// suite is the scenarios the flags ask for.
func (f *gradeFlags) suite() ([]suite.Scenario, error) {
	scenarios := suite.Default()
	if f.scenarios != "" {
		scenarios = suite.Only(scenarios, strings.Split(f.scenarios, ","))
		if len(scenarios) == 0 {
			return nil, fmt.Errorf("no scenario of the suite matches %q", f.scenarios)
		}
	}
	return scenarios, nil
}

// writeEvidence keeps what the grading observed beside its reports, so they can be judged again
// (grader judge) without running anything.
func writeEvidence(ev *evidence.Evidence, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	fh, err := os.Create(filepath.Join(dir, evidence.FileName))
	if err != nil {
		return fmt.Errorf("create %s: %w", evidence.FileName, err)
	}
	err = evidence.Write(fh, ev)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeReports(rep *report.Report, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	for name, write := range map[string]func(io.Writer) error{
		"report.json": rep.WriteJSON, "report.md": rep.WriteMarkdown, "report.html": rep.WriteHTML, "report.sarif": rep.WriteSARIF,
	} {
		if err := writeFile(filepath.Join(dir, name), write); err != nil {
			return err
		}
	}
	return nil
}

func summarise(w io.Writer, rep *report.Report, dir string) {
	fmt.Fprintf(w, "score %.1f/100", rep.Score.Total)
	if rep.Score.Note != "" {
		fmt.Fprintf(w, " (%s)", rep.Score.Note)
	}
	if len(rep.Critical) > 0 {
		fmt.Fprintf(w, "  CRITICAL: %s", strings.Join(rep.Critical, ", "))
	}
	fmt.Fprintln(w)
	for _, f := range rep.Findings {
		mark := map[finding.Verdict]string{finding.Pass: "pass", finding.Fail: "FAIL", finding.Warn: "warn", finding.NA: "n/a ", finding.Info: "info"}[f.Verdict]
		fmt.Fprintf(w, "  %-4s %-28s %s\n", mark, f.ID, f.Summary)
	}
	fmt.Fprintf(w, "track: %s\n", rep.Submission.Track)
	fmt.Fprintf(w, "reports: %s\n", filepath.Join(dir, "report.{json,md,html,sarif}"))
}
