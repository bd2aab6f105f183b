// Package cli is the grader command: it parses arguments and hands work to the packages that do
// it. All process state (arguments, streams, environment) comes in through Env, so whole runs
// are tested in-process against buffers.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Env is the process as the command sees it.
type Env struct {
	Args   []string // without the program name
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, log *slog.Logger, args []string) int
}

func commands() []command {
	return []command{
		{"grade", "grade a submission (a folder, a git URL or a GitHub repository) and write its reports", runGrade},
		{"batch", "grade a cohort's roster into the store (resumable; nothing graded twice)", runBatch},
		{"compare", "compare a cohort's AI-assisted and manual submissions (HTML, Markdown, CSV, JSON)", runCompare},
		{"rejudge", "judge a cohort's stored evidence again with this grader's rules", runRejudge},
		{"purge", "delete a cohort or a candidate from the store, files included", runPurge},
		{"judge", "judge a grading's stored evidence again and write its reports (no engine needed)", runJudge},
		{"mock", "run the mock ITSM standalone (for practice and debugging)", runMock},
		{"webhook", "serve GitHub's webhook and grade what it queues (deadlines, receipts, full reports)", runWebhook},
		{"kit", "write the candidate's starter kit (a GitHub template repository) into a new or empty folder", runKit},
		{"toolchain", "install Node.js 24 and the pinned TypeScript compiler into the grader's cache", runToolchain},
		{"sandbox", "manage the Docker sandbox (prune what stopped graders left)", runSandbox},
		{"bundle", "install and bundle a submission (run by the grader inside its sandbox)", runBundle},
	}
}

// Run executes one command line and returns the exit code.
func Run(ctx context.Context, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if len(env.Args) == 0 || env.Args[0] == "-h" || env.Args[0] == "--help" || env.Args[0] == "help" {
		usage(env.Stderr)
		if len(env.Args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == env.Args[0] {
			return c.run(ctx, env, log.With("cmd", c.name), env.Args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "grader: unknown command %q\n\n", env.Args[0])
	usage(env.Stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: grader COMMAND [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'grader COMMAND -h' for a command's flags.\n")
	_, _ = io.WriteString(w, b.String())
}
