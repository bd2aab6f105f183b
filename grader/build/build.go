// Package build turns a submission into one JavaScript file the sandbox runs, without running
// any of the submission's code on the host: dependencies are installed with
// `npm ci --ignore-scripts` from the configured registry only, and src/index.ts is bundled
// together with the grader's driver by esbuild's Go API. Whatever goes wrong because of the
// submission comes back as a Failure (a finding), never as an error; errors are the grader's
// own failures (npm missing, disk full).
package build

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/itsm-grader/grader/sandbox/safecopy"
)

// Entry is the bundle's file name, which the sandbox runs.
const Entry = "main.mjs"

// ResultFile is where the driver writes the SyncResult inside the candidate's /tmp.
const ResultFile = ".itsm-grader-result.json"

// Options configure a build.
type Options struct {
	// Workdir is a scratch directory the caller owns and removes.
	Workdir string
	// Registry is the only npm registry asked (default: the host npm's configured registry).
	Registry string
	// NPM is the npm executable (default "npm" on PATH).
	NPM string
	// Cache is npm's cache directory, shared between builds (default Workdir/npm-cache).
	Cache string
	// InstallTimeout bounds npm ci (default 5 minutes).
	InstallTimeout time.Duration
	Logger         *slog.Logger
}

// Bundle is a built submission.
type Bundle struct {
	// Dir holds Entry and nothing else: it is mounted read-only into the candidate container.
	Dir string
	// Marker prefixes the driver's result line on stdout (the fallback to ResultFile).
	Marker string
	// Dependencies are the installed runtime packages (name@version), from the lockfile.
	Dependencies []string
	// Warnings are esbuild's warnings, with locations.
	Warnings []Message
	Took     time.Duration
}

// Failure is a submission that cannot be built, with the compiler's or npm's words.
type Failure struct {
	Stage    string    // "layout", "install", "bundle" or "contract"
	Summary  string    // one line
	Messages []Message // esbuild's errors with file:line, or npm's output
}

// Message is one diagnostic, located where possible.
type Message struct {
	Text string
	File string
	Line int
	Col  int
}

func (m Message) String() string {
	if m.File == "" {
		return m.Text
	}
	return fmt.Sprintf("%s:%d:%d: %s", m.File, m.Line, m.Col, m.Text)
}

// SourceDir is where Build copies the submission inside its workdir (with node_modules once
// installed): the static review reads it there.
func SourceDir(workdir string) string { return filepath.Join(workdir, "source") }

// Build copies the submission (safely, under the caps), installs its locked dependencies and
// bundles it with the driver.
func Build(ctx context.Context, submission string, opts Options) (*Bundle, *Failure, error) {
	start := time.Now()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	src := SourceDir(opts.Workdir)
	if _, err := safecopy.Copy(submission, src, safecopy.Caps{}); err != nil {
		return nil, &Failure{Stage: "layout", Summary: fmt.Sprintf("the submission could not be copied: %v", err)}, nil
	}
	if f := checkLayout(src); f != nil {
		return nil, f, nil
	}
	deps, f, err := install(ctx, src, opts)
	if f != nil || err != nil {
		return nil, f, err
	}
	if f := checkExport(src); f != nil {
		return nil, f, nil
	}
	marker := newMarker()
	out := filepath.Join(opts.Workdir, "bundle")
	warnings, f, err := bundle(src, out, marker)
	if f != nil || err != nil {
		return nil, f, err
	}
	return &Bundle{Dir: out, Marker: marker, Dependencies: deps, Warnings: warnings, Took: time.Since(start)}, nil, nil
}

func checkLayout(src string) *Failure {
	if st, err := os.Stat(filepath.Join(src, "src", "index.ts")); err != nil || !st.Mode().IsRegular() {
		return &Failure{Stage: "layout", Summary: "src/index.ts is missing: the brief asks for an npm package whose src/index.ts exports syncTickets"}
	}
	return nil
}

func newMarker() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "@@itsm-grader-result-" + hex.EncodeToString(b)
}
