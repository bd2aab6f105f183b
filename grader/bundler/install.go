package bundler

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/itsm-grader/grader/sandbox/safecopy"
)

// maxPlanBytes caps the install plan read from the packages folder.
const maxPlanBytes = 4 << 20

// lockPath is a lockfile key: node_modules/<name> segments, scoped or not, nested or not.
var lockPath = regexp.MustCompile(`^node_modules/(@[A-Za-z0-9._~-]+/)?[A-Za-z0-9._~-]+(/node_modules/(@[A-Za-z0-9._~-]+/)?[A-Za-z0-9._~-]+)*$`)

// tarballName is a file the host put in the packages folder.
var tarballName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}\.tgz$`)

// install lays out node_modules from the plan: each verified tarball unpacked at its lockfile
// path, its first path component stripped (npm's "package/"), links dropped (npm drops them
// too), under one budget of files and bytes for all packages together.
func install(opts Options, src string, res *Result) (*Failure, error) {
	if opts.Packages == "" {
		return nil, nil
	}
	plan, err := readPlan(filepath.Join(opts.Packages, PlanName))
	if err != nil || len(plan) == 0 {
		return nil, err
	}
	if err := os.RemoveAll(filepath.Join(src, "node_modules")); err != nil {
		return nil, fmt.Errorf("clear node_modules: %w", err)
	}
	budget := opts.Caps
	for _, p := range plan {
		rep, err := unpack(filepath.Join(opts.Packages, p.File), filepath.Join(src, filepath.FromSlash(p.Path)), budget)
		res.InstalledFiles += rep.Entries
		res.InstalledBytes += rep.Bytes
		if err != nil {
			return installFailure(p.Path, err, opts.Caps)
		}
		res.InstalledPackages++
		budget.MaxFiles -= rep.Entries
		budget.MaxBytes -= rep.Bytes
	}
	return nil, nil
}

func installFailure(pkgPath string, err error, caps safecopy.Caps) (*Failure, error) {
	switch {
	case errors.Is(err, safecopy.ErrOverCap):
		return &Failure{Stage: "install", Summary: fmt.Sprintf("%s: the installed dependencies exceed the grader's caps (%d files, %d MiB in all): %v",
			pkgPath, caps.MaxFiles, caps.MaxBytes>>20, err)}, nil
	case errors.Is(err, safecopy.ErrNotRegular), errors.Is(err, safecopy.ErrBadEntry), errors.Is(err, errBadTarball):
		return &Failure{Stage: "install", Summary: fmt.Sprintf("%s could not be unpacked: %v", pkgPath, err)}, nil
	}
	return nil, fmt.Errorf("unpack %s: %w", pkgPath, err)
}

// readPlan reads the host's install plan and checks every entry again: paths that are lockfile
// keys, files that are plain names, parents before children.
func readPlan(file string) ([]PlannedPackage, error) {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read install plan: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxPlanBytes+1))
	if err != nil || len(raw) > maxPlanBytes {
		return nil, fmt.Errorf("read install plan: %d bytes: %w", len(raw), err)
	}
	var plan []PlannedPackage
	if err := json.Unmarshal(raw, &plan); err != nil {
		return nil, fmt.Errorf("read install plan: %w", err)
	}
	for _, p := range plan {
		if !lockPath.MatchString(p.Path) || !tarballName.MatchString(p.File) || path.Clean(p.Path) != p.Path {
			return nil, fmt.Errorf("install plan: entry %q -> %q is not a lockfile path and a tarball name", p.Path, p.File)
		}
	}
	sort.Slice(plan, func(i, j int) bool { return plan[i].Path < plan[j].Path })
	return plan, nil
}

var errBadTarball = errors.New("not a gzipped tar archive")

// unpack extracts one package tarball into dst, whose parent folders are made first.
func unpack(tarball, dst string, budget safecopy.Caps) (safecopy.Report, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return safecopy.Report{}, fmt.Errorf("open tarball: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return safecopy.Report{}, fmt.Errorf("%w: %v", errBadTarball, err)
	}
	defer zr.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return safecopy.Report{}, fmt.Errorf("make %s: %w", filepath.Dir(dst), err)
	}
	if budget.MaxFiles <= 0 || budget.MaxBytes <= 0 {
		return safecopy.Report{}, fmt.Errorf("%w: nothing left of the budget", safecopy.ErrOverCap)
	}
	rep, err := safecopy.Untar(zr, dst, safecopy.TarOptions{Caps: budget, StripComponents: 1, SkipLinks: true})
	if err != nil && !errors.Is(err, safecopy.ErrOverCap) && !errors.Is(err, safecopy.ErrNotRegular) && !errors.Is(err, safecopy.ErrBadEntry) && isFormatError(err) {
		return rep, fmt.Errorf("%w: %v", errBadTarball, err)
	}
	return rep, err
}

// isFormatError tells a corrupt archive (the package's fault) from an I/O failure (ours).
func isFormatError(err error) bool {
	var pe *os.PathError
	return !errors.As(err, &pe)
}
