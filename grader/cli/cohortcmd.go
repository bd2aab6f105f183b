package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/itsm-grader/grader/grader/cohort"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/store"
)

// storeFlags are the flags of the commands that read a cohort from the store.
type storeFlags struct {
	db, cohort, candidate string
}

func parseStoreFlags(name, usage string, args []string, env Env, withCandidate bool) (*storeFlags, error) {
	f := &storeFlags{}
	fs := flag.NewFlagSet("grader "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.db, "db", "", "the store (SQLite file) (required)")
	fs.StringVar(&f.cohort, "cohort", "", "the cohort (required)")
	if withCandidate {
		fs.StringVar(&f.candidate, "candidate", "", "one candidate of the cohort (default: the whole cohort)")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case f.db == "":
		return nil, errors.New("--db FILE is required")
	case f.cohort == "":
		return nil, errors.New("--cohort NAME is required")
	}
	return f, nil
}

// openExisting opens a store that must exist already: reading commands never create one.
func openExisting(ctx context.Context, path string) (*store.Store, error) {
	if err := mustExist(path); err != nil {
		return nil, err
	}
	return store.Open(ctx, path)
}

func runRejudge(ctx context.Context, env Env, _ *slog.Logger, args []string) int {
	f, err := parseStoreFlags("rejudge", "usage: grader rejudge --db FILE --cohort NAME\n\nJudges each candidate's stored evidence again with this grader's rules ("+judge.RulesVersion+") and records the new findings. Runs nothing.", args, env, false)
	if code, done := usageError(env, "rejudge", err); done {
		return code
	}
	st, err := openExisting(ctx, f.db)
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader rejudge: %v\n", err)
		return ExitFailure
	}
	defer st.Close()
	n, err := cohort.Rejudge(ctx, st, f.cohort, func(rep *report.Report, dir string) error { return writeReports(rep, dir) })
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader rejudge: %v\n", err)
		return ExitFailure
	}
	fmt.Fprintf(env.Stdout, "cohort %s: %d gradings judged again by rules %s; %d were judged by them already\n", f.cohort, n.Judged, judge.RulesVersion, n.Current)
	return ExitOK
}

func runPurge(ctx context.Context, env Env, _ *slog.Logger, args []string) int {
	f, err := parseStoreFlags("purge", "usage: grader purge --db FILE --cohort NAME [--candidate NAME]\n\nDeletes a cohort, or one candidate of it, completely: rows, evidence, reports and similarity pairs.", args, env, true)
	if code, done := usageError(env, "purge", err); done {
		return code
	}
	st, err := openExisting(ctx, f.db)
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader purge: %v\n", err)
		return ExitFailure
	}
	defer st.Close()
	var p store.Purged
	what := "cohort " + f.cohort
	if f.candidate != "" {
		p, err = st.PurgeCandidate(ctx, f.cohort, f.candidate)
		what = "candidate " + f.candidate + " of " + what
	} else {
		p, err = st.Purge(ctx, f.cohort)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader purge: %v\n", err)
		return ExitFailure
	}
	fmt.Fprintf(env.Stdout, "purged %s: %d candidates, %d submissions, %d gradings, %d findings, %d similarity pairs, %d files and folders\n",
		what, p.Candidates, p.Submissions, p.Gradings, p.Findings, p.SimilarityPairs, p.Files)
	return ExitOK
}

// usageError reports a command line's error: done is true when the command must stop.
func usageError(env Env, name string, err error) (int, bool) {
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		return ExitOK, true
	}
	fmt.Fprintf(env.Stderr, "grader %s: %v\n", name, err)
	return ExitUsage, true
}

// mustExist says what to do when a store file is missing.
func mustExist(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no store at %s (grader batch creates one)", path)
	}
	return nil
}
