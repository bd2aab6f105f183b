// Package prepare turns a submission into one JavaScript file the sandbox runs, reading none of
// the candidate's code on the host. The host only copies bytes and fetches: it reads the
// lockfile's registry entries (grader/deps), downloads their tarballs from the configured
// registry and verifies their integrity; then one sandbox container (grader/bundler, run as
// `grader bundle`: network none, read-only root, the submission and the tarballs mounted
// read-only, time, memory, process, file and byte caps) lays out node_modules, checks the
// contract and bundles src/index.ts with the grader's driver. Its output comes back through
// the Engine API as a tar stream, extracted under caps (regular files and folders only).
// Whatever goes wrong because of the submission is a Failure (a finding), never an error;
// errors are the grader's own failures (no engine, no registry, disk full).
package prepare

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/itsm-grader/grader/grader/bundler"
	"github.com/itsm-grader/grader/grader/deps"
	"github.com/itsm-grader/grader/sandbox"
	"github.com/itsm-grader/grader/sandbox/safecopy"
)

// Entry is the bundle's file name, which the sandbox runs.
const Entry = bundler.Entry

// ResultFile is where the driver writes the SyncResult inside the candidate's /tmp.
const ResultFile = bundler.ResultFile

// Failure is a submission that cannot be built, with the compiler's or installer's words.
type Failure = bundler.Failure

// Message is one diagnostic, located where possible.
type Message = bundler.Message

// Tool runs one sandboxed tool container (satisfied by *sandbox.Sandbox).
type Tool interface {
	Tool(ctx context.Context, spec sandbox.ToolSpec) (*sandbox.ToolResult, error)
}

// Options configure a build.
type Options struct {
	// Workdir is a scratch directory the caller owns and removes.
	Workdir string
	// Registry is the only npm registry asked (default: the host npm's configured registry, or
	// npm's public one where npm is not installed).
	Registry string
	// Cache keeps verified tarballs between builds, named by their integrity hash (default: the
	// user's cache directory).
	Cache string
	// Client reaches the registry (default: the environment's proxy, npm's CA file if set).
	Client *http.Client
	// Limits bound the bundler's container (zero: Limits()).
	Limits sandbox.Limits
	Logger *slog.Logger
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

// Limits bound the bundler's container: copying a submission (at most 100 MiB), unpacking its
// dependencies (at most 256 MiB and 30,000 files, bundler.DefaultInstallCaps) and bundling take
// a second or two and under 200 MiB for the corpus's heaviest submission; these leave room for
// the caps' worst case (the tmpfs counts against the memory limit) and still stop a
// pathological input.
func Limits() sandbox.Limits {
	l := sandbox.ToolLimits()
	l.Wall = 2 * time.Minute
	l.MemoryBytes = 1536 << 20
	l.TmpBytes = 448 << 20
	l.TmpInodes = 40_000      // the copy (at most 5,000 entries) and node_modules (at most 30,000)
	l.OutputBytes = 256 << 20 // gzipped tar of the source, node_modules and bundle
	return l
}

// outputCaps bound what is extracted from the bundler's stream on the host: above the caps the
// container enforced, so only a broken bundler meets them.
var outputCaps = safecopy.Caps{MaxFiles: 40_000, MaxBytes: 512 << 20, MaxDepth: 48}

// Paths in the bundler's container.
const (
	inSubmission = "/in/submission"
	inPackages   = "/in/packages"
	work         = "/tmp/work"
)

// SourceDir is where a build leaves the submission with its installed node_modules (when the
// build got that far): the static review reads it there.
func SourceDir(workdir string) string { return filepath.Join(workdir, "built", bundler.SourceDir) }

// Build installs the submission's locked dependencies and bundles it with the driver, in the
// sandbox. submission is the host's own copy (regular files and folders only).
func Prepare(ctx context.Context, sb Tool, submission string, opts Options) (*Bundle, *Failure, error) {
	start := time.Now()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if st, err := os.Lstat(filepath.Join(submission, "package.json")); err != nil || !st.Mode().IsRegular() {
		return nil, &Failure{Stage: "layout", Summary: "package.json is missing: the submission must be an npm package"}, nil
	}
	pkgs, files, f, err := fetchDependencies(ctx, submission, opts)
	if f != nil || err != nil {
		return nil, f, err
	}
	packages, err := stagePackages(opts.Workdir, pkgs, files)
	if err != nil {
		return nil, nil, err
	}
	marker := newMarker()
	res, f, err := runBundler(ctx, sb, submission, packages, marker, opts)
	if f != nil || err != nil {
		return nil, f, err
	}
	if res.Failure != nil {
		return nil, res.Failure, nil
	}
	dir := filepath.Join(opts.Workdir, "built", bundler.BundleDir)
	if st, err := os.Lstat(filepath.Join(dir, Entry)); err != nil || !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("the bundler reported success but wrote no %s", Entry)
	}
	opts.Logger.Debug("built", "packages", res.InstalledPackages, "files", res.InstalledFiles, "bundler_ms", res.TookMS)
	return &Bundle{Dir: dir, Marker: marker, Dependencies: names(pkgs), Warnings: res.Warnings, Took: time.Since(start)}, nil, nil
}

// fetchDependencies plans the install from the lockfile and downloads every tarball from the
// configured registry, verified.
func fetchDependencies(ctx context.Context, submission string, opts Options) ([]deps.Package, []string, *Failure, error) {
	pkgs, err := deps.Read(submission)
	if f := refused(err); f != nil || err != nil {
		return nil, nil, f, errIfNot(f, err)
	}
	if len(pkgs) == 0 {
		return nil, nil, nil, nil
	}
	registry, err := deps.ConfiguredRegistry(ctx, opts.Registry)
	if err != nil {
		return nil, nil, nil, err
	}
	cache, err := tarballCache(opts)
	if err != nil {
		return nil, nil, nil, err
	}
	client := opts.Client
	if client == nil {
		client = deps.RegistryClient(ctx)
	}
	fetcher := &deps.Fetcher{Registry: registry, Client: client, Cache: cache}
	files, err := fetcher.Fetch(ctx, pkgs)
	if f := refused(err); f != nil || err != nil {
		return nil, nil, f, errIfNot(f, err)
	}
	return pkgs, files, nil, nil
}

// refused turns a dependency the grader will not install into the install stage's failure.
func refused(err error) *Failure {
	var r *deps.Refusal
	if errors.As(err, &r) {
		return &Failure{Stage: "install", Summary: r.Error()}
	}
	return nil
}

func errIfNot(f *Failure, err error) error {
	if f != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dependencies: %w", err)
	}
	return nil
}

// stagePackages puts the verified tarballs and the plan in a folder of the grader's own, to be
// mounted read-only into the bundler's container. "" when there is nothing to install.
func stagePackages(workdir string, pkgs []deps.Package, files []string) (string, error) {
	if len(pkgs) == 0 {
		return "", nil
	}
	dir := filepath.Join(workdir, "packages")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("stage tarballs: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", fmt.Errorf("stage tarballs: %w", err)
	}
	plan := make([]bundler.PlannedPackage, len(pkgs))
	for i, p := range pkgs {
		name := fmt.Sprintf("%04d.tgz", i)
		if err := copyFile(files[i], filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("stage %s: %w", p.Path, err)
		}
		plan[i] = bundler.PlannedPackage{Path: p.Path, File: name}
	}
	raw, err := json.Marshal(plan)
	if err != nil {
		return "", fmt.Errorf("stage install plan: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, bundler.PlanName), raw, 0o644); err != nil {
		return "", fmt.Errorf("stage install plan: %w", err)
	}
	return dir, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close(), os.Chmod(to, 0o644))
}

// runBundler runs `grader bundle` in the sandbox and extracts its stream into workdir/built.
func runBundler(ctx context.Context, sb Tool, submission, packages, marker string, opts Options) (*bundler.Result, *Failure, error) {
	lim := opts.Limits
	if lim == (sandbox.Limits{}) {
		lim = Limits()
	}
	spec := sandbox.ToolSpec{
		Program: sandbox.GraderProgram,
		Mounts:  []sandbox.Mount{{Host: submission, Container: inSubmission}},
		Command: []string{"bundle", "--submission", inSubmission, "--work", work, "--marker", marker},
		Limits:  lim,
	}
	if packages != "" {
		spec.Mounts = append(spec.Mounts, sandbox.Mount{Host: packages, Container: inPackages})
		spec.Command = append(spec.Command, "--packages", inPackages)
	}
	out, err := sb.Tool(ctx, spec)
	if err != nil {
		return nil, nil, fmt.Errorf("run the bundler: %w", err)
	}
	switch {
	case out.TimedOut:
		return nil, &Failure{Stage: "bundle", Summary: fmt.Sprintf("installing and bundling did not finish within %v", lim.Wall)}, nil
	case out.OOMKilled:
		return nil, &Failure{Stage: "bundle", Summary: fmt.Sprintf("installing and bundling ran out of memory (%d MiB)", lim.MemoryBytes>>20)}, nil
	case out.Stdout.Truncated:
		return nil, &Failure{Stage: "bundle", Summary: fmt.Sprintf("the built submission exceeds %d MiB", lim.OutputBytes>>20)}, nil
	case out.ExitCode != 0:
		return nil, nil, fmt.Errorf("the bundler exited with %d: %s", out.ExitCode, tail(string(out.Stderr.Data), 2000))
	}
	res, err := extract(out.Stdout.Data, filepath.Join(opts.Workdir, "built"))
	if err != nil {
		return nil, nil, fmt.Errorf("read the bundler's output: %w", err)
	}
	return res, nil, nil
}

// extract unpacks the bundler's stream (regular files and folders only, under caps) and reads
// its result.json strictly.
func extract(stream []byte, dst string) (*bundler.Result, error) {
	zr, err := gzip.NewReader(bytes.NewReader(stream))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	if _, err := safecopy.Untar(zr, dst, safecopy.TarOptions{Caps: outputCaps}); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dst, bundler.ResultName))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var res bundler.Result
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("%s: %w", bundler.ResultName, err)
	}
	return &res, nil
}

func names(pkgs []deps.Package) []string {
	out := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, strings.TrimPrefix(p.Path, "node_modules/")+"@"+p.Version)
	}
	return out
}

func newMarker() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "@@itsm-grader-result-" + hex.EncodeToString(b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// tarballCache is the folder verified tarballs are kept in between builds.
func tarballCache(opts Options) (string, error) {
	dir := opts.Cache
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = opts.Workdir
		}
		dir = filepath.Join(base, "itsm-grader", "tarballs")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("tarball cache: %w", err)
	}
	return dir, nil
}
