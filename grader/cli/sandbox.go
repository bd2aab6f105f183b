package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/itsm-grader/grader/sandbox"
)

// runSandbox handles "grader sandbox SUBCOMMAND".
func runSandbox(ctx context.Context, env Env, log *slog.Logger, args []string) int {
	if len(args) == 0 || args[0] != "prune" {
		fmt.Fprintln(env.Stderr, "usage: grader sandbox prune [--all]\n\n  prune   remove containers, volumes and cgroups that stopped graders left behind\n          (--all: every grader object, live runs included)")
		return ExitUsage
	}
	fs := flag.NewFlagSet("grader sandbox prune", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	all := fs.Bool("all", false, "remove every grader container, volume and cgroup, live runs included")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	s, err := sandbox.Connect(ctx, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader sandbox prune: %v\n", err)
		return ExitFailure
	}
	defer s.Close()
	rep, err := s.Prune(ctx, *all)
	fmt.Fprintf(env.Stdout, "removed %d containers, %d volumes, %d cgroups\n", rep.Containers, rep.Volumes, rep.Cgroups)
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader sandbox prune: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}
