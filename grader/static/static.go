// Package static runs the static review's analyzer: the TypeScript compiler, inside the
// sandbox, over a submission's source, and reads back the facts it prints. It judges nothing
// (grader/review does). docs/static-review.md describes the whole review.
package static

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/itsm-grader/grader/grader/facts"
	"github.com/itsm-grader/grader/sandbox"
)

//go:embed analyzer/analyzer.ts
var analyzerSource string

// Paths inside the analyzer's container.
const (
	analyzerDir   = "/opt/itsm-analyzer"
	toolchainDir  = "/opt/itsm-typescript/node_modules" // a node_modules by name, so @types/node finds undici-types beside it
	submissionDir = "/submission"
)

// Script is the analyzer as JavaScript for Node 24: its types stripped by esbuild.
func Script() ([]byte, error) {
	res := api.Transform(analyzerSource, api.TransformOptions{
		Loader: api.LoaderTS, Format: api.FormatESModule, Target: api.ES2024, Platform: api.PlatformNode, Sourcefile: "analyzer.ts",
	})
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("transform analyzer: %s:%d: %s", res.Errors[0].Location.File, res.Errors[0].Location.Line, res.Errors[0].Text)
	}
	return res.Code, nil
}

// Tool runs a one-off sandboxed program (*sandbox.Sandbox does).
type Tool interface {
	Tool(ctx context.Context, spec sandbox.ToolSpec) (*sandbox.ToolResult, error)
}

// Options configure an analysis.
type Options struct {
	// Toolchain is the node_modules folder with typescript and @types/node (make typescript
	// installs it in .cache/typescript/node_modules).
	Toolchain string
	// Fields are the target schema's property names: an object literal with three of them is
	// mapping code.
	Fields []string
}

// ErrAnalyzer marks the analyzer's own failures (a crash, a timeout, unreadable output): the
// review could not run on this submission, but grading can go on.
var ErrAnalyzer = errors.New("static analyzer failed")

// ErrNoToolchain says the pinned TypeScript toolchain is not installed.
var ErrNoToolchain = errors.New("the TypeScript toolchain is not installed (run make typescript)")

// Analyze runs the analyzer over the submission in dir (the build's scratch copy, with its
// installed node_modules where there are some) and returns its facts. The error is about the
// review failing to run (no toolchain, the engine; ErrAnalyzer: the analyzer itself), not
// about the code.
func Analyze(ctx context.Context, tool Tool, dir string, opts Options) (*facts.Facts, error) {
	facts, err := AnalyzeAll(ctx, tool, []string{dir}, opts)
	if err != nil {
		return nil, err
	}
	return &facts[0], nil
}

// AnalyzeAll analyzes several submissions in one container (the compiler's library files are
// parsed once): facts come back in the order of dirs.
func AnalyzeAll(ctx context.Context, tool Tool, dirs []string, opts Options) ([]facts.Facts, error) {
	if _, err := os.Stat(filepath.Join(opts.Toolchain, "typescript", "package.json")); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoToolchain, opts.Toolchain)
	}
	script, err := Script()
	if err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp("", "itsm-analyzer-")
	if err != nil {
		return nil, fmt.Errorf("stage analyzer: %w", err)
	}
	defer os.RemoveAll(stage)
	if err := os.Chmod(stage, 0o755); err != nil {
		return nil, fmt.Errorf("stage analyzer: %w", err)
	}
	if err := os.WriteFile(filepath.Join(stage, "analyzer.mjs"), script, 0o644); err != nil {
		return nil, fmt.Errorf("stage analyzer: %w", err)
	}
	toolchain, err := filepath.Abs(opts.Toolchain)
	if err != nil {
		return nil, err
	}
	mounts := []sandbox.Mount{{Host: stage, Container: analyzerDir}, {Host: toolchain, Container: toolchainDir}}
	cmd := []string{analyzerDir + "/analyzer.mjs", "--typescript", toolchainDir, "--fields", strings.Join(opts.Fields, ",")}
	for i, d := range dirs {
		src, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		at := fmt.Sprintf("%s/%d", submissionDir, i)
		mounts = append(mounts, sandbox.Mount{Host: src, Container: at})
		cmd = append(cmd, at)
	}
	res, err := tool.Tool(ctx, sandbox.ToolSpec{Mounts: mounts, Command: cmd})
	if err != nil {
		return nil, fmt.Errorf("run analyzer: %w", err)
	}
	return decode(res, len(dirs))
}

func decode(res *sandbox.ToolResult, projects int) ([]facts.Facts, error) {
	if err := toolFailure(res, ErrAnalyzer); err != nil {
		return nil, err
	}
	var out facts.Output
	dec := json.NewDecoder(bytes.NewReader(res.Stdout.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("%w: unreadable facts: %w", ErrAnalyzer, err)
	}
	if out.Analyzer != 1 || len(out.Projects) != projects {
		return nil, fmt.Errorf("%w: facts version %d with %d projects, want version 1 with %d", ErrAnalyzer, out.Analyzer, len(out.Projects), projects)
	}
	for i := range out.Projects {
		out.Projects[i].TypeScript = out.TypeScript
		out.Projects[i].Took = res.Wall
	}
	return out.Projects, nil
}

// toolFailure is how a sandboxed tool's run failed (a timeout, out of memory, an exit status,
// output over its cap), wrapping kind; nil when it ran to the end.
func toolFailure(res *sandbox.ToolResult, kind error) error {
	switch {
	case res.TimedOut:
		return fmt.Errorf("%w: timed out after %v", kind, res.Wall.Round(time.Second))
	case res.OOMKilled:
		return fmt.Errorf("%w: out of memory", kind)
	case res.ExitCode != 0:
		return fmt.Errorf("%w: exit status %d: %s", kind, res.ExitCode, lastLines(res.Stderr.Data, 5))
	case res.Stdout.Truncated:
		return fmt.Errorf("%w: output over %d bytes", kind, len(res.Stdout.Data))
	}
	return nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
