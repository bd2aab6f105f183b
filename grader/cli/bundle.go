package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/itsm-grader/grader/grader/bundler"
)

// runBundle is the half of a build that reads candidate code: the grader runs it inside a
// sandbox container (network none, read-only root, the submission mounted read-only), never on
// the host. Its stdout is a gzipped tar stream the host reads back as data.
func runBundle(_ context.Context, env Env, _ *slog.Logger, args []string) int {
	fs := flag.NewFlagSet("grader bundle", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: grader bundle --submission DIR --work DIR --marker M [--packages DIR]\n\nRun by the grader inside its sandbox: installs the verified tarballs, bundles src/index.ts\nwith the driver, and writes a gzipped tar stream (result.json, bundle/, source/) to stdout.")
		fs.PrintDefaults()
	}
	var opts bundler.Options
	fs.StringVar(&opts.Submission, "submission", "", "the submission (read-only)")
	fs.StringVar(&opts.Packages, "packages", "", "folder with plan.json and the verified tarballs")
	fs.StringVar(&opts.Work, "work", "", "writable scratch folder")
	fs.StringVar(&opts.Marker, "marker", "", "prefix of the driver's result line")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if opts.Submission == "" || opts.Work == "" || opts.Marker == "" || fs.NArg() > 0 {
		fs.Usage()
		return ExitUsage
	}
	res, err := bundler.Run(opts)
	if err == nil {
		err = bundler.Stream(env.Stdout, opts.Work, res)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader bundle: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}
