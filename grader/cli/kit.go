package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/itsm-grader/grader/grader/kit"
)

// runKit writes the candidate's starter kit (grader/kit) into a new or empty folder: the
// repository a team publishes as a GitHub template.
func runKit(_ context.Context, env Env, _ *slog.Logger, args []string) int {
	fs := flag.NewFlagSet("grader kit", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: grader kit --out DIR\n\nWrites the candidate's starter kit into DIR (new or empty): the brief, openapi.yaml, the\nticket schema, package.json and tsconfig.json set up as the grader builds, a src/index.ts stub,\nSUBMISSION.md, a RATIONALE.md outline, .gitignore and a README on practising against grader mock.")
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "folder to write the kit into: new, or empty (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 || *out == "" {
		if fs.NArg() > 0 {
			fmt.Fprintf(env.Stderr, "grader kit: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		}
		fs.Usage()
		return ExitUsage
	}
	files, err := kit.Write(*out)
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader kit: %v\n", err)
		return ExitFailure
	}
	printKit(env, *out, files)
	return ExitOK
}

func printKit(env Env, dir string, files []kit.File) {
	var b strings.Builder
	fmt.Fprintf(&b, "wrote the starter kit to %s (%d files):\n", dir, len(files))
	for _, f := range files {
		fmt.Fprintf(&b, "  %s\n", f.Path)
	}
	b.WriteString("next: push it to a repository of the hiring organisation and mark that repository a template\n")
	b.WriteString("(Settings > General > Template repository); candidates create their repositories from it.\n")
	fmt.Fprintf(&b, "When comparing a cohort, give grader compare --base %s, so the starter code is not counted as shared.\n", dir)
	_, _ = fmt.Fprint(env.Stdout, b.String())
}
