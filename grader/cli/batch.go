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

	"github.com/itsm-grader/grader/grader/cohort"
	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/grading"
	"github.com/itsm-grader/grader/grader/intake"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/store"
)

type batchFlags struct {
	gradeFlags
	db, cohort string
	workers    int
	lease      time.Duration
}

func parseBatchFlags(args []string, stderr io.Writer) (*batchFlags, string, error) {
	f := &batchFlags{}
	fs := flag.NewFlagSet("grader batch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: grader batch ROSTER.csv --db FILE [--cohort NAME] [flags]\n\nThe roster is CSV with the header candidate,source,ref,track (source: a folder, relative to\nthe roster's, or an https git URL; track: ai, manual, or empty for what SUBMISSION.md says).\nStop it at any moment and run it again: it finishes what was left, grading nothing twice.")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.db, "db", "", "the store (SQLite file; created if missing) (required)")
	fs.StringVar(&f.cohort, "cohort", "", "the cohort's name (default: the roster's file name without .csv)")
	fs.IntVar(&f.workers, "workers", 2, "gradings under way at once (their runs share the sandbox's --concurrency slots)")
	fs.DurationVar(&f.lease, "lease", 45*time.Second, "how long a grading stays claimed without a heartbeat: after a batch is killed, its gradings are taken up again once this has passed")
	f.engineFlags(fs)
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, "", err
	}
	if len(positional) != 1 {
		return nil, "", errors.New("name exactly one roster (a CSV file)")
	}
	if f.db == "" {
		return nil, "", errors.New("--db FILE is required")
	}
	if f.cohort == "" {
		f.cohort = strings.TrimSuffix(filepath.Base(positional[0]), filepath.Ext(positional[0]))
	}
	return f, positional[0], nil
}

// parseInterleaved parses flags that may come before or after the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) > 0 {
			positional = append(positional, args[0])
			args = args[1:]
		}
	}
	return positional, nil
}

func runBatch(ctx context.Context, env Env, log *slog.Logger, args []string) int {
	f, rosterPath, err := parseBatchFlags(args, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader batch: %v\n", err)
		return ExitUsage
	}
	if err := batch(ctx, env, log, f, rosterPath); err != nil {
		fmt.Fprintf(env.Stderr, "grader batch: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

func batch(ctx context.Context, env Env, log *slog.Logger, f *batchFlags, rosterPath string) error {
	remote, err := gitHubRemote(env, log, f.githubAPI)
	if err != nil {
		return err
	}
	entries, err := readRoster(rosterPath, remote)
	if err != nil {
		return err
	}
	scenarios, err := f.suite()
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	sb, toolchain, err := openSandbox(ctx, env, log, &f.gradeFlags)
	if err != nil {
		return err
	}
	defer sb.Close()
	bar := newProgressBar(env.Stderr, f.cohort)
	capture := func(ctx context.Context, source, ref string) (*evidence.Evidence, error) {
		return grading.Capture(ctx, grading.Options{Source: source, Ref: ref, Sandbox: sb, Toolchain: toolchain, Scenarios: scenarios, Registry: f.registry, Logger: log, Remote: remote})
	}
	status, err := cohort.Run(ctx, st, entries, cohort.Options{
		Cohort: f.cohort, Workers: f.workers, Lease: f.lease, Capture: capture, Logger: log, Remote: remote,
		Write:    func(rep *report.Report, dir string) error { return writeReports(rep, dir) },
		Progress: bar.show,
	})
	bar.end()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "cohort %s: %d graded (%d new from this roster), %d failed for the grader's reasons, %d candidates' own failures\nstore: %s\n",
		f.cohort, status.Done, status.New, status.Failed, status.CandidateFailures, st.Path())
	if status.Failed > 0 {
		return fmt.Errorf("%d gradings failed after every attempt (see the log above; run again to retry them after fixing the cause)", status.Failed)
	}
	return nil
}

func readRoster(path string, remote intake.Remote) ([]cohort.Entry, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	defer fh.Close()
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	return cohort.ReadRoster(io.LimitReader(fh, 16<<20), abs, remote)
}

// progressBar shows a batch's progress: a bar redrawn in place on a terminal, a line per
// change otherwise (a log, a CI job).
type progressBar struct {
	w        io.Writer
	cohort   string
	terminal bool
	start    time.Time

	mu   sync.Mutex
	last string
}

func newProgressBar(w io.Writer, cohort string) *progressBar {
	terminal := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			terminal = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progressBar{w: w, cohort: cohort, terminal: terminal, start: time.Now()}
}

// progressLine is the progress in words: done / running / queued, and an ETA from the measured
// mean grading time and the batch's workers.
func progressLine(s cohort.Status, elapsed time.Duration) string {
	total := s.Queued + s.Running + s.Done + s.Failed
	line := fmt.Sprintf("%d/%d done · %d running · %d queued", s.Done, total, s.Running, s.Queued)
	if s.Fetched < s.Entries {
		line += fmt.Sprintf(" · fetching %d/%d", s.Fetched, s.Entries)
	}
	if s.Failed > 0 {
		line += fmt.Sprintf(" · %d failed", s.Failed)
	}
	if left := s.Queued + s.Running; left > 0 && s.MeanGrading > 0 {
		parallel := max(1, min(s.Workers, left))
		eta := time.Duration(left) * s.MeanGrading / time.Duration(parallel)
		line += " · ETA " + eta.Round(time.Second).String()
	}
	return line + fmt.Sprintf(" · %s elapsed", elapsed.Round(time.Second))
}

func (p *progressBar) show(s cohort.Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := progressLine(s, time.Since(p.start))
	if !p.terminal {
		key := line[:strings.LastIndex(line, " · ")] // the elapsed time alone is no news
		if key == p.last {
			return
		}
		p.last = key
		fmt.Fprintf(p.w, "%s: %s\n", p.cohort, line)
		return
	}
	total := s.Queued + s.Running + s.Done + s.Failed
	const width = 30
	filled := 0
	if total > 0 {
		filled = width * (s.Done + s.Failed) / total
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s [%s%s] %s", p.cohort, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), line)
}

func (p *progressBar) end() {
	if p.terminal {
		fmt.Fprintln(p.w)
	}
}
