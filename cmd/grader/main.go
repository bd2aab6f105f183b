// Command grader grades candidates' ITSM ticket-sync clients. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/itsm-grader/grader/grader/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal now kills the process at once
	}()
	os.Exit(cli.Run(ctx, cli.Env{Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
}
