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

	"github.com/itsm-grader/grader/grader/cohort"
	"github.com/itsm-grader/grader/grader/compare"
	"github.com/itsm-grader/grader/grader/intake"
	"github.com/itsm-grader/grader/grader/similarity"
	"github.com/itsm-grader/grader/grader/static"
)

type compareFlags struct {
	gradeFlags
	db, cohort, out string
	seed            uint64
	bootstrap       int
	drafts, base    string
	threshold       float64
}

func parseCompareFlags(args []string, stderr io.Writer) (*compareFlags, error) {
	f := &compareFlags{}
	fs := flag.NewFlagSet("grader compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: grader compare --db FILE --cohort NAME --out DIR\n\nCompares the cohort's AI-assisted and manual submissions: comparison.html (one self-contained\npage), comparison.md, comparison.csv and comparison.json.")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.db, "db", "", "the store (required)")
	fs.StringVar(&f.cohort, "cohort", "", "the cohort (required)")
	fs.StringVar(&f.out, "out", "", "folder for the comparison (required)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the bootstrap of Cliff's δ (printed on the page: the same seed gives the same interval)")
	fs.IntVar(&f.bootstrap, "bootstrap", compare.DefaultBootstrap, "bootstrap resamples")
	fs.StringVar(&f.drafts, "ai-drafts", "", "folder of known AI drafts to match submissions against (each subfolder one draft); tokenized in the sandbox")
	fs.StringVar(&f.base, "base", "", "folder of code every candidate received (a template), subtracted before comparing; tokenized in the sandbox")
	fs.Float64Var(&f.threshold, "similarity-threshold", similarity.DefaultThreshold, "similarity at or above which a pair of submissions is shown")
	f.engineFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case f.db == "" || f.cohort == "" || f.out == "":
		return nil, errors.New("--db FILE, --cohort NAME and --out DIR are required")
	}
	return f, nil
}

func runCompare(ctx context.Context, env Env, _ *slog.Logger, args []string) int {
	f, err := parseCompareFlags(args, env.Stderr)
	if code, done := usageError(env, "compare", err); done {
		return code
	}
	page, err := compareCohort(ctx, env, f)
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader compare: %v\n", err)
		return ExitFailure
	}
	fmt.Fprintf(env.Stdout, "comparison: %s\n", page)
	return ExitOK
}

// compareCohort writes the cohort's comparison into f.out and returns the HTML page's path.
func compareCohort(ctx context.Context, env Env, f *compareFlags) (string, error) {
	st, err := openExisting(ctx, f.db)
	if err != nil {
		return "", err
	}
	defer st.Close()
	subs, failures, err := cohort.Submissions(ctx, st, f.cohort)
	if err != nil {
		return "", err
	}
	if len(subs) == 0 {
		return "", fmt.Errorf("cohort %s has no graded submission yet (%d candidates' own failures)", f.cohort, failures)
	}
	simOpts, err := similarInputs(ctx, env, f)
	if err != nil {
		return "", err
	}
	similar, err := cohort.Similar(ctx, st, f.cohort, simOpts)
	if err != nil {
		return "", err
	}
	c, err := compare.Compare(subs, compare.Options{Seed: f.seed, Bootstrap: f.bootstrap, Cohort: f.cohort, Similar: similar, SimilarityThreshold: simOpts.Threshold})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return "", fmt.Errorf("make %s: %w", f.out, err)
	}
	for name, write := range map[string]func(io.Writer) error{
		"comparison.html": c.WriteHTML, "comparison.md": c.WriteMarkdown, "comparison.csv": c.WriteCSV, "comparison.json": c.WriteJSON,
	} {
		if err := writeFile(filepath.Join(f.out, name), write); err != nil {
			return "", err
		}
	}
	return filepath.Join(f.out, "comparison.html"), nil
}

// writeFile creates path and writes it with write.
func writeFile(path string, write func(io.Writer) error) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	err = write(fh)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// similarInputs tokenizes the known AI drafts and the base code, when given, in the sandbox:
// the only part of a comparison that needs the engine.
func similarInputs(ctx context.Context, env Env, f *compareFlags) (cohort.SimilarOptions, error) {
	opts := cohort.SimilarOptions{Threshold: f.threshold}
	if f.drafts == "" && f.base == "" {
		return opts, nil
	}
	var drafts []string
	if f.drafts != "" {
		var err error
		if drafts, err = draftFolders(f.drafts); err != nil {
			return opts, err
		}
	}
	dirs := append([]string(nil), drafts...)
	if f.base != "" {
		if err := intake.Check(f.base, "", nil); err != nil {
			return opts, fmt.Errorf("--base: %w", err)
		}
		dirs = append(dirs, f.base)
	}
	sb, toolchain, err := openSandbox(ctx, env, slog.New(slog.DiscardHandler), &f.gradeFlags)
	if err != nil {
		return opts, err
	}
	defer sb.Close()
	docs, err := static.Tokens(ctx, sb, dirs, static.Options{Toolchain: toolchain})
	if err != nil {
		return opts, fmt.Errorf("tokenize the drafts and the base: %w", err)
	}
	for i, dir := range drafts {
		code, err := static.ReadCode(dir)
		if err != nil {
			return opts, err
		}
		docs[i].Name = filepath.Base(dir)
		opts.Drafts = append(opts.Drafts, cohort.Draft{Doc: docs[i], Code: code})
	}
	if f.base != "" {
		opts.Base = similarity.NewIndex(0, 0, docs[len(docs)-1])
	}
	return opts, nil
}

// draftFolders are the drafts in dir: each subfolder, or dir itself when it holds code.
func draftFolders(dir string) ([]string, error) {
	if err := intake.Check(dir, "", nil); err != nil {
		return nil, fmt.Errorf("--ai-drafts: %w", err)
	}
	for _, own := range []string{"package.json", "src"} {
		if _, err := os.Stat(filepath.Join(dir, own)); err == nil {
			return []string{dir}, nil
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--ai-drafts: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--ai-drafts %s holds no draft (a folder per draft)", dir)
	}
	return out, nil
}
