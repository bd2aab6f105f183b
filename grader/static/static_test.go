package static

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/sandbox"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// TestAnalyzerTypeChecksItself: the analyzer is written against the compiler's own API and
// compiles under --strict with the pinned toolchain (run on the host's Node 24: it is our code).
func TestAnalyzerTypeChecksItself(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tsc")
	}
	node, tc := testenv.Node24(t), testenv.TypeScript(t)
	dir := t.TempDir()
	require.NoError(t, os.Symlink(tc, filepath.Join(dir, "node_modules")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "analyzer.ts"), []byte(analyzerSource), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type":"module"}`), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(tc, "typescript", "bin", "tsc"), "--strict", "--noEmit", "--target", "es2024", "--lib", "es2024",
		"--module", "nodenext", "--moduleResolution", "nodenext", "--types", "node", "--skipLibCheck", "--noUnusedLocals", "analyzer.ts")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

func TestScriptIsJavaScript(t *testing.T) {
	t.Parallel()
	js, err := Script()
	require.NoError(t, err)
	require.Contains(t, string(js), "function main()")
	require.NotContains(t, string(js), "import type", "types are stripped")
}

// fakeTool answers with a canned result: decoding must turn every way the analyzer can fail into
// ErrAnalyzer, never a panic or facts made up.
type fakeTool struct{ res *sandbox.ToolResult }

func (f fakeTool) Tool(context.Context, sandbox.ToolSpec) (*sandbox.ToolResult, error) {
	return f.res, nil
}

func TestAnalyzerFailuresAreErrAnalyzer(t *testing.T) {
	t.Parallel()
	toolchain := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(toolchain, "typescript"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(toolchain, "typescript", "package.json"), []byte(`{}`), 0o644))
	out := func(s string) sandbox.Output { return sandbox.Output{Data: []byte(s), Total: int64(len(s))} }
	for name, res := range map[string]*sandbox.ToolResult{
		"crash":            {ExitCode: 1, Stderr: out("TypeError: boom\n    at main")},
		"timeout":          {TimedOut: true, ExitCode: 137},
		"out of memory":    {OOMKilled: true, ExitCode: 137},
		"not JSON":         {Stdout: out("hello")},
		"unknown field":    {Stdout: out(`{"analyzer":1,"typescript":"6","projects":[{"evil":1}]}`)},
		"wrong version":    {Stdout: out(`{"analyzer":2,"typescript":"6","projects":[{}]}`)},
		"no project":       {Stdout: out(`{"analyzer":1,"typescript":"6","projects":[]}`)},
		"truncated output": {Stdout: sandbox.Output{Data: []byte(`{"analyzer":1`), Total: 1 << 30, Truncated: true}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Analyze(context.Background(), fakeTool{res}, t.TempDir(), Options{Toolchain: toolchain})
			require.ErrorIs(t, err, ErrAnalyzer)
		})
	}
	_, err := Analyze(context.Background(), fakeTool{}, t.TempDir(), Options{Toolchain: t.TempDir()})
	require.ErrorIs(t, err, ErrNoToolchain)
	require.False(t, errors.Is(err, ErrAnalyzer))
	require.True(t, strings.Contains(err.Error(), "make typescript"))
}
