package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/judge"
)

// runJudge judges stored evidence again: no engine, no submission, nothing run. The report says
// when the rules or the grader differ from those that captured the evidence.
func runJudge(_ context.Context, env Env, _ *slog.Logger, args []string) int {
	fs := flag.NewFlagSet("grader judge", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: grader judge EVIDENCE (an evidence.json.gz written by grader grade) --out DIR\n\nComputes every finding and the four reports again from the evidence alone.")
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "directory for the reports (required)")
	var positional []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return ExitOK
			}
			return ExitUsage
		}
		args = fs.Args()
		if len(args) > 0 {
			positional = append(positional, args[0])
			args = args[1:]
		}
	}
	if len(positional) != 1 || *out == "" {
		fs.Usage()
		return ExitUsage
	}
	ev, err := readEvidence(positional[0])
	if err == nil {
		err = judgeTo(ev, *out, env)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader judge: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

func readEvidence(path string) (*evidence.Evidence, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open evidence: %w", err)
	}
	defer fh.Close()
	return evidence.Read(fh)
}

func judgeTo(ev *evidence.Evidence, dir string, env Env) error {
	rep, err := judge.Judge(ev, time.Now())
	if err != nil {
		return err
	}
	if err := writeReports(rep, dir); err != nil {
		return err
	}
	if rep.Rejudged != "" {
		fmt.Fprintf(env.Stderr, "%s\n", rep.Rejudged)
	}
	summarise(env.Stdout, rep, dir)
	return nil
}
