package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/itsm-grader/grader/grader/toolchain"
)

// toolchainPaths finds Node.js 24 and the TypeScript toolchain for a command: a flag, else its
// environment variable, else the grader's cache folder, installed there on first use (a line
// on stderr says so). A path given explicitly must exist: it is never installed over.
func toolchainPaths(ctx context.Context, env Env, nodeFlag, typescriptFlag, registry string) (node, typescript string, err error) {
	node, err = toolchainPart(ctx, env, toolchain.Node, nodeFlag, "GRADER_NODE", "--node", registry)
	if err != nil {
		return "", "", err
	}
	typescript, err = toolchainPart(ctx, env, toolchain.TypeScript, typescriptFlag, "GRADER_TYPESCRIPT", "--typescript", registry)
	return node, typescript, err
}

func toolchainPart(ctx context.Context, env Env, part toolchain.Part, given, envVar, flagName, registry string) (string, error) {
	if given == "" {
		given = env.Getenv(envVar)
	}
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("%s %s (from %s or $%s): %w", part, given, flagName, envVar, err)
		}
		return given, nil
	}
	cache, err := toolchain.CacheDir(env.Getenv)
	if err != nil {
		return "", err
	}
	path, err := toolchain.Ensure(ctx, part, toolchain.Options{Cache: cache, Registry: registry, Progress: env.Stderr})
	if err != nil {
		return "", fmt.Errorf("%w (check that the npm registry answers, pass --registry, or give the path with %s)", err, flagName)
	}
	return path, nil
}

// runToolchain installs the toolchain into the cache (or checks it is there) and prints where.
func runToolchain(ctx context.Context, env Env, _ *slog.Logger, args []string) int {
	fs := flag.NewFlagSet("grader toolchain", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cache := fs.String("cache", "", "cache folder (default: $GRADER_CACHE, else itsm-grader in the user's cache folder)")
	registry := fs.String("registry", "", "npm registry to fetch from (default: the host npm's configured one, else registry.npmjs.org)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: grader toolchain [--cache DIR] [--registry URL]\n\nInstalls Node.js 24 and the pinned TypeScript compiler, verified against the grader's lockfiles, and prints their paths.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	dir := *cache
	if dir == "" {
		var err error
		if dir, err = toolchain.CacheDir(env.Getenv); err != nil {
			fmt.Fprintf(env.Stderr, "grader toolchain: %v\n", err)
			return ExitFailure
		}
	}
	for _, part := range []toolchain.Part{toolchain.Node, toolchain.TypeScript} {
		path, err := toolchain.Ensure(ctx, part, toolchain.Options{Cache: dir, Registry: *registry, Progress: env.Stderr})
		if err != nil {
			fmt.Fprintf(env.Stderr, "grader toolchain: %v\n", err)
			return ExitFailure
		}
		fmt.Fprintf(env.Stdout, "%s: %s\n", part, path)
	}
	return ExitOK
}
