package deps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

const (
	// attempts of one tarball when the registry fails (5xx, 408, 429, network), as npm retries.
	attempts = 3
	// retryBackoff is the wait before the second attempt, doubled before each next one.
	retryBackoff = 250 * time.Millisecond
	// maxRedirects a tarball may follow: a registry sends tarballs to a CDN in one hop.
	maxRedirects = 5
	// userAgent names the grader to the registry.
	userAgent = "itsm-grader (npm-compatible tarball fetch)"
)

// errRedirect is a redirect the fetcher will not follow; it is not retried.
var errRedirect = errors.New("redirect refused")

// downloader puts tarballs in the cache; it is shared by the workers of one Fetch.
type downloader struct {
	client  *http.Client
	cache   string
	caps    Caps
	budget  *byteBudget
	timeout time.Duration // one attempt
	backoff time.Duration
}

// id is "name@version", for messages.
func (p Package) id() string {
	return p.Name + "@" + p.Version
}

// ensure makes sure j's tarball is in the cache, verified, and counts it against the total cap.
func (d *downloader) ensure(ctx context.Context, j job) error {
	if size, ok := d.verifiedCached(j); ok {
		if !d.budget.add(size) {
			return d.overTotal(j.pkg)
		}
		return nil
	}
	return d.download(ctx, j)
}

// verifiedCached reports whether the cache holds j's tarball, re-hashing it: hashing even
// 256 MiB takes well under a second, and a file truncated by a crash or changed on disk is
// then downloaded again instead of being installed. A file that does not verify is removed.
func (d *downloader) verifiedCached(j job) (int64, bool) {
	info, err := os.Lstat(j.target)
	if err != nil {
		return 0, false
	}
	if !info.Mode().IsRegular() || info.Size() > d.caps.MaxTarballBytes || !fileHashes(j.target, j.sum) {
		_ = os.Remove(j.target)
		return 0, false
	}
	return info.Size(), true
}

// fileHashes reports whether the file's hash is sum.
func fileHashes(path string, sum digest) bool {
	file, err := os.Open(path)
	if err != nil {
		return false
	}
	defer file.Close()
	h := sum.algo.newHash()
	if _, err := io.Copy(h, file); err != nil {
		return false
	}
	return bytes.Equal(h.Sum(nil), sum.sum)
}

// download fetches j's tarball, retrying with backoff when the registry fails.
func (d *downloader) download(ctx context.Context, j job) error {
	var err error
	for attempt := range attempts {
		if attempt > 0 {
			if waitErr := wait(ctx, d.backoff<<(attempt-1)); waitErr != nil {
				return fmt.Errorf("fetch %s: %w (after: %w)", j.pkg.id(), waitErr, err)
			}
		}
		var retry bool
		if retry, err = d.attempt(ctx, j); err == nil || !retry {
			return err
		}
	}
	return fmt.Errorf("fetch %s: gave up after %d attempts: %w", j.pkg.id(), attempts, err)
}

// wait waits d, or less when ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// attempt makes one request for j's tarball and saves it; retry says whether another
// attempt may succeed.
func (d *downloader) attempt(ctx context.Context, j job) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return false, fmt.Errorf("fetch %s: %w", j.pkg.id(), err)
	}
	req.Header.Set("Accept", "*/*") // what npm sends for a tarball (minipass-fetch's default)
	req.Header.Set("User-Agent", userAgent)
	resp, err := d.client.Do(req)
	if err != nil {
		return !errors.Is(err, errRedirect), fmt.Errorf("fetch %s: %w", j.pkg.id(), err)
	}
	defer resp.Body.Close()
	if retry, err := statusProblem(j.pkg, resp.StatusCode); err != nil {
		return retry, err
	}
	if resp.ContentLength > d.caps.MaxTarballBytes { // trusted to refuse early, never to accept
		return false, d.overTarball(j.pkg)
	}
	return d.save(j, resp.Body)
}

// statusProblem judges a response's status: 200 goes on, 404 and other 4xx are refusals
// (408 and 429 excepted), 5xx may be retried.
func statusProblem(pkg Package, code int) (retry bool, err error) {
	status := fmt.Sprintf("%d %s", code, http.StatusText(code))
	switch {
	case code == http.StatusOK:
		return false, nil
	case code == http.StatusNotFound || code == http.StatusGone:
		return false, refuse(pkg.Path, "%s is not in the registry (%s)", pkg.id(), status)
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return true, fmt.Errorf("fetch %s: the registry answered %s", pkg.id(), status)
	case code >= 400:
		return false, refuse(pkg.Path, "the registry refused %s (%s)", pkg.id(), status)
	default:
		return false, fmt.Errorf("fetch %s: the registry answered %s, not 200 OK", pkg.id(), status)
	}
}

// save streams body into a temporary file of the cache while hashing it, under the caps,
// and renames it to its final name once the hash matches.
func (d *downloader) save(j job, body io.Reader) (retry bool, err error) {
	tmp, err := os.CreateTemp(d.cache, ".partial-*.tgz")
	if err != nil {
		return false, fmt.Errorf("fetch %s: %w", j.pkg.id(), err)
	}
	defer func() {
		_ = tmp.Close()
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	metered := &meteredReader{body: body, limit: d.caps.MaxTarballBytes, budget: d.budget, downloader: d, pkg: j.pkg}
	h := j.sum.algo.newHash()
	if _, err := io.Copy(io.MultiWriter(diskWriter{tmp}, h), metered); err != nil {
		d.budget.add(-metered.read) // this attempt's bytes are not kept
		var refusal *Refusal
		var disk diskError
		return !errors.As(err, &refusal) && !errors.As(err, &disk), wrapUnlessRefusal(j.pkg, err)
	}
	if !bytes.Equal(h.Sum(nil), j.sum.sum) {
		return false, refuse(j.pkg.Path, "the registry's tarball of %s does not match the lockfile's integrity %s", j.pkg.id(), j.sum)
	}
	if err := errors.Join(tmp.Chmod(0o644), tmp.Close(), os.Rename(tmp.Name(), j.target)); err != nil {
		return false, fmt.Errorf("fetch %s: store in cache: %w", j.pkg.id(), err)
	}
	return false, nil
}

// wrapUnlessRefusal returns a Refusal as it is and wraps any other error.
func wrapUnlessRefusal(pkg Package, err error) error {
	var refusal *Refusal
	if errors.As(err, &refusal) {
		return refusal
	}
	return fmt.Errorf("fetch %s: %w", pkg.id(), err)
}

// overTarball is the refusal of a tarball over the per-tarball cap.
func (d *downloader) overTarball(pkg Package) *Refusal {
	return refuse(pkg.Path, "the tarball of %s is larger than the cap of %s per tarball", pkg.id(), byteCount(d.caps.MaxTarballBytes))
}

// overTotal is the refusal of the tarball that took the plan over the total cap.
func (d *downloader) overTotal(pkg Package) *Refusal {
	return refuse(pkg.Path, "with %s the tarballs add up to more than the cap of %s in total", pkg.id(), byteCount(d.caps.MaxTotalBytes))
}

// byteCount prints a cap: "32 MiB", or bytes when it is not whole MiB.
func byteCount(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// meteredReader counts a body as it is read and stops it at the caps.
type meteredReader struct {
	body       io.Reader
	read       int64
	limit      int64 // per tarball
	budget     *byteBudget
	downloader *downloader
	pkg        Package
}

// Read reads at most one byte past the per-tarball cap, and fails with a Refusal past a cap.
func (m *meteredReader) Read(p []byte) (int, error) {
	if room := m.limit - m.read + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := m.body.Read(p)
	m.read += int64(n)
	if m.read > m.limit {
		return n, m.downloader.overTarball(m.pkg)
	}
	if !m.budget.add(int64(n)) {
		return n, m.downloader.overTotal(m.pkg)
	}
	return n, err
}

// byteBudget is the total cap shared by the downloads of one Fetch.
type byteBudget struct {
	mu    sync.Mutex
	used  int64
	limit int64
}

// add counts n bytes (negative to give some back) and reports whether the total is within
// the cap.
func (b *byteBudget) add(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used += n
	return b.used <= b.limit
}

// diskError is a failure to write the cache: not the registry's, not retried.
type diskError struct{ error }

// Unwrap returns the write error.
func (e diskError) Unwrap() error { return e.error }

// diskWriter marks its write errors as diskErrors.
type diskWriter struct{ file *os.File }

// Write writes to the file.
func (w diskWriter) Write(p []byte) (int, error) {
	n, err := w.file.Write(p)
	if err != nil {
		return n, diskError{err}
	}
	return n, nil
}

// client is f.Client with the redirect policy, or a new client reading the environment's
// proxy, with timeouts; release closes what a new client left open.
func (f *Fetcher) client() (client *http.Client, release func()) {
	if f.Client != nil {
		c := *f.Client
		c.CheckRedirect = checkRedirect
		return &c, func() {}
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   DefaultParallel,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: transport, CheckRedirect: checkRedirect}, transport.CloseIdleConnections
}

// checkRedirect follows a few redirects to other hosts (registries send tarballs to CDNs)
// but never to another scheme: an https registry is not downgraded, nor http upgraded.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", errRedirect, maxRedirects)
	}
	if from := via[0].URL.Scheme; req.URL.Scheme != from {
		return fmt.Errorf("%w: from %s to %s", errRedirect, from, req.URL.Scheme)
	}
	return nil
}
