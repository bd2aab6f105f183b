// Package bundler is the half of a build that reads the candidate's code: it runs inside a
// sandbox container (as `grader bundle`, from the grader binary in the mock image), never on the
// host. It copies the submission (regular files and folders only), lays out node_modules from
// tarballs the host has already downloaded and verified, checks that src/index.ts exports
// syncTickets, and bundles it with the grader's driver using esbuild, confined to the
// submission's own files and a grader-owned tsconfig. Its output is one gzipped tar stream on
// stdout: result.json, bundle/main.mjs and source/ (the submission with its node_modules, for
// the static review). The host reads that stream back as data, under caps.
package bundler

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/itsm-grader/grader/sandbox/safecopy"
)

// Names inside the output stream.
const (
	ResultName = "result.json"
	BundleDir  = "bundle"
	SourceDir  = "source"
	// Entry is the bundle's file name, which the sandbox runs.
	Entry = "main.mjs"
	// PlanName is the install plan in the packages folder the host mounts.
	PlanName = "plan.json"
)

// ResultFile is where the driver writes the SyncResult inside the candidate's /tmp.
const ResultFile = ".itsm-grader-result.json"

// Options configure one bundling, inside the container.
type Options struct {
	// Submission is the host's copy of the submission, mounted read-only.
	Submission string
	// Packages holds PlanName and the verified tarballs it names (empty: no dependencies).
	Packages string
	// Work is writable scratch space (the container's /tmp); Work/out is what is streamed back.
	Work string
	// Marker prefixes the driver's result line on stdout.
	Marker string
	// Caps bound the installed dependencies (zero: DefaultInstallCaps).
	Caps safecopy.Caps
}

// DefaultInstallCaps bound node_modules as laid out: a TypeScript client with a few runtime
// dependencies installs hundreds of files (the corpus's heaviest, express + lodash + moment,
// about 1,900 files and 12 MB); a package that unpacks to more is refused, not installed.
func DefaultInstallCaps() safecopy.Caps {
	return safecopy.Caps{MaxFiles: 30_000, MaxBytes: 256 << 20, MaxDepth: 40}
}

// PlannedPackage is one entry of the install plan: where a tarball goes in node_modules.
type PlannedPackage struct {
	Path string `json:"path"` // lockfile key, e.g. node_modules/p-retry
	File string `json:"file"` // the tarball's name in the packages folder
}

// Result is result.json: how the bundling ended.
type Result struct {
	// Failure is set when the submission does not build; nothing else is then streamed.
	Failure  *Failure  `json:"failure,omitempty"`
	Warnings []Message `json:"warnings,omitempty"`
	// Installed counts what node_modules holds.
	InstalledPackages int   `json:"installedPackages"`
	InstalledFiles    int   `json:"installedFiles"`
	InstalledBytes    int64 `json:"installedBytes"`
	TookMS            int64 `json:"tookMs"`
}

// Failure is a submission that cannot be built, with the compiler's or installer's words.
type Failure struct {
	Stage    string    `json:"stage"`   // "layout", "install", "bundle" or "contract"
	Summary  string    `json:"summary"` // one line
	Messages []Message `json:"messages,omitempty"`
}

// Message is one diagnostic, located where possible.
type Message struct {
	Text string `json:"text"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

func (m Message) String() string {
	if m.File == "" {
		return m.Text
	}
	return fmt.Sprintf("%s:%d:%d: %s", m.File, m.Line, m.Col, m.Text)
}

// Run does the whole bundling and returns its result; the caller streams Work/out. An error is
// the bundler failing (a missing mount, a full disk), never the submission.
func Run(opts Options) (*Result, error) {
	start := time.Now()
	if opts.Caps.MaxFiles == 0 && opts.Caps.MaxBytes == 0 {
		opts.Caps = DefaultInstallCaps()
	}
	out := filepath.Join(opts.Work, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("make output folder: %w", err)
	}
	res, err := build(opts, out)
	if err != nil {
		return nil, err
	}
	res.TookMS = time.Since(start).Milliseconds()
	return res, nil
}

func build(opts Options, out string) (*Result, error) {
	src := filepath.Join(out, SourceDir)
	if _, err := safecopy.Copy(opts.Submission, src, safecopy.Caps{SkipDirs: []string{"node_modules", ".git"}}); err != nil {
		if errors.Is(err, safecopy.ErrOverCap) || errors.Is(err, safecopy.ErrNotRegular) {
			return failed("layout", "the submission could not be copied: "+err.Error()), nil
		}
		return nil, fmt.Errorf("copy submission: %w", err)
	}
	if st, err := os.Lstat(filepath.Join(src, "src", "index.ts")); err != nil || !st.Mode().IsRegular() {
		return failed("layout", "src/index.ts is missing: the brief asks for an npm package whose src/index.ts exports syncTickets"), nil
	}
	res := &Result{}
	if f, err := install(opts, src, res); f != nil || err != nil {
		if f != nil {
			return &Result{Failure: f}, nil
		}
		return nil, err
	}
	if f := checkExport(src); f != nil {
		return &Result{Failure: f}, nil
	}
	warnings, f, err := bundle(src, filepath.Join(out, BundleDir), opts.Marker)
	if f != nil || err != nil {
		if f != nil {
			return &Result{Failure: f}, nil
		}
		return nil, err
	}
	res.Warnings = warnings
	return res, nil
}

func failed(stage, summary string) *Result {
	return &Result{Failure: &Failure{Stage: stage, Summary: summary}}
}
