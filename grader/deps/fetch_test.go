package deps

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFetchDownloadsVerifiesAndCaches: tarballs land in the cache under their hash, a tarball
// shared by two paths is fetched once, and a second Fetch makes no request.
func TestFetchDownloadsVerifiesAndCaches(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, "/")
	plain := reg.add(t, "p-retry", "9.0.0", 1000)
	scoped := reg.add(t, "@s/b", "1.0.0", 1000)
	nested := scoped
	nested.Path = "node_modules/p-retry/node_modules/@s/b"
	pkgs := []Package{plain, scoped, nested}
	cache := filepath.Join(t.TempDir(), "cache")

	files, err := (&Fetcher{Registry: reg.URL(), Cache: cache}).Fetch(t.Context(), pkgs)
	require.NoError(t, err)
	require.Len(t, files, 3)
	require.Equal(t, 2, reg.requests(), "the shared tarball is fetched once")
	require.Equal(t, []string{"*/*", "*/*"}, reg.accepts)
	require.Equal(t, files[1], files[2])
	for i, file := range files {
		require.Equal(t, cache, filepath.Dir(file))
		body, err := os.ReadFile(file)
		require.NoError(t, err)
		require.Equal(t, pkgs[i].Integrity, sri(body))
		require.Regexp(t, `^sha512-[0-9a-f]{128}\.tgz$`, filepath.Base(file))
	}
	require.Equal(t, 2, countFiles(t, cache), "no partial file is left")

	again, err := (&Fetcher{Registry: reg.URL(), Cache: cache}).Fetch(t.Context(), pkgs)
	require.NoError(t, err)
	require.Equal(t, files, again)
	require.Equal(t, 2, reg.requests(), "a verified cached tarball is not fetched again")
}

// TestFetchVerifiesEachAlgorithm: the tarball is verified with the hash the plan kept, and
// cached under that algorithm's name.
func TestFetchVerifiesEachAlgorithm(t *testing.T) {
	t.Parallel()
	for _, algo := range []string{"sha512", "sha384", "sha256", "sha1"} {
		t.Run(algo, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, "/")
			pkg := reg.add(t, "x", "1.0.0", 100)
			reg.mu.Lock()
			body := reg.tarballs[pkg.Tarball]
			reg.mu.Unlock()
			pkg.Integrity = sriOf(algo, body)
			files, err := (&Fetcher{Registry: reg.URL(), Cache: t.TempDir()}).Fetch(t.Context(), []Package{pkg})
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(filepath.Base(files[0]), algo+"-"), files[0])

			pkg.Integrity = sriOf(algo, []byte("not the tarball"))
			_, err = (&Fetcher{Registry: reg.URL(), Cache: t.TempDir()}).Fetch(t.Context(), []Package{pkg})
			requireRefusal(t, err, "node_modules/x", "does not match")
		})
	}
}

// TestFetchReplacesAChangedCachedFile: a cached file is trusted only once its hash verifies.
func TestFetchReplacesAChangedCachedFile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		corrupt func(t *testing.T, file string)
	}{
		{"truncated", func(t *testing.T, file string) { require.NoError(t, os.Truncate(file, 10)) }},
		{"overwritten", func(t *testing.T, file string) { require.NoError(t, os.WriteFile(file, []byte("evil"), 0o644)) }},
		{"replaced by a link", func(t *testing.T, file string) {
			require.NoError(t, os.Remove(file))
			require.NoError(t, os.Symlink("/etc/hostname", file))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, "/")
			pkg := reg.add(t, "x", "1.0.0", 100)
			fetcher := &Fetcher{Registry: reg.URL(), Cache: t.TempDir()}
			files, err := fetcher.Fetch(t.Context(), []Package{pkg})
			require.NoError(t, err)
			tc.corrupt(t, files[0])

			files, err = fetcher.Fetch(t.Context(), []Package{pkg})
			require.NoError(t, err)
			require.Equal(t, 2, reg.requests())
			info, err := os.Lstat(files[0])
			require.NoError(t, err)
			require.True(t, info.Mode().IsRegular())
			body, err := os.ReadFile(files[0])
			require.NoError(t, err)
			require.Equal(t, pkg.Integrity, sri(body))
		})
	}
}

// TestFetchRefusals: what the candidate's lockfile asks for and the registry does not serve
// as locked is a Refusal naming the package, and nothing unverified enters the cache.
func TestFetchRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		setup        func(t *testing.T, reg *fakeRegistry) []Package
		caps         Caps
		parallel     int
		entry        string
		reason       []string
		wantRequests int
	}{
		{
			name: "a tarball whose integrity does not match",
			setup: func(t *testing.T, reg *fakeRegistry) []Package {
				pkg := reg.add(t, "x", "1.0.0", 100)
				pkg.Integrity = sri([]byte("something else"))
				return []Package{pkg}
			},
			entry: "node_modules/x", reason: []string{"x@1.0.0", "does not match the lockfile's integrity"}, wantRequests: 1,
		},
		{
			name: "a package the registry does not have",
			setup: func(t *testing.T, reg *fakeRegistry) []Package {
				pkg, _ := tarballPackage(t, "ghost", "1.2.3", 10)
				return []Package{pkg}
			},
			entry: "node_modules/ghost", reason: []string{"ghost@1.2.3 is not in the registry", "404"}, wantRequests: 1,
		},
		{
			name: "a registry that forbids the tarball",
			setup: func(t *testing.T, reg *fakeRegistry) []Package {
				reg.setFault(func(w http.ResponseWriter, _ *http.Request, _ int) bool {
					http.Error(w, "no", http.StatusForbidden)
					return true
				})
				return []Package{reg.add(t, "x", "1.0.0", 10)}
			},
			entry: "node_modules/x", reason: []string{"the registry refused x@1.0.0", "403 Forbidden"}, wantRequests: 1,
		},
		{
			name: "a tarball over the cap served with a Content-Length that lies",
			setup: func(t *testing.T, reg *fakeRegistry) []Package {
				reg.setFault(func(w http.ResponseWriter, _ *http.Request, _ int) bool {
					if sent := streamChunked(w, 100, 512<<20); sent >= 64<<20 {
						t.Errorf("the fetcher read on past the cap: the registry sent %d bytes", sent)
					}
					return true
				})
				return []Package{reg.add(t, "big", "1.0.0", 10)}
			},
			caps:  Caps{MaxTarballBytes: 64 << 10},
			entry: "node_modules/big", reason: []string{"big@1.0.0", "larger than the cap of 65536 bytes per tarball"}, wantRequests: 1,
		},
		{
			name: "a tarball whose honest Content-Length is over the cap",
			setup: func(t *testing.T, reg *fakeRegistry) []Package {
				return []Package{reg.add(t, "big", "1.0.0", 200<<10)}
			},
			caps:  Caps{MaxTarballBytes: 64 << 10},
			entry: "node_modules/big", reason: []string{"larger than the cap"}, wantRequests: 1,
		},
		{
			name: "tarballs over the total cap",
			setup: func(t *testing.T, reg *fakeRegistry) []Package {
				return []Package{reg.add(t, "a", "1.0.0", 40<<10), reg.add(t, "b", "1.0.0", 40<<10), reg.add(t, "c", "1.0.0", 40<<10)}
			},
			caps: Caps{MaxTotalBytes: 100 << 10}, parallel: 1,
			entry: "node_modules/c", reason: []string{"c@1.0.0", "cap of 102400 bytes in total"}, wantRequests: 3,
		},
		{
			name: "more packages than the cap, refused before any request",
			setup: func(t *testing.T, reg *fakeRegistry) []Package {
				return []Package{reg.add(t, "a", "1.0.0", 1), reg.add(t, "b", "1.0.0", 1), reg.add(t, "c", "1.0.0", 1)}
			},
			caps:  Caps{MaxPackages: 2},
			entry: "node_modules/c", reason: []string{"3 packages", "cap of 2"}, wantRequests: 0,
		},
		{
			name: "a package whose tarball path climbs out, refused before any request",
			setup: func(t *testing.T, reg *fakeRegistry) []Package {
				pkg := reg.add(t, "x", "1.0.0", 1)
				pkg.Tarball = "../../etc/passwd"
				return []Package{pkg}
			},
			entry: "node_modules/x", reason: []string{"not <name>/-/<file>.tgz"}, wantRequests: 0,
		},
		{
			name: "a package whose integrity is not SRI, refused before any request",
			setup: func(t *testing.T, reg *fakeRegistry) []Package {
				pkg := reg.add(t, "x", "1.0.0", 1)
				pkg.Integrity = "../../x"
				return []Package{pkg}
			},
			entry: "node_modules/x", reason: []string{"no integrity hash"}, wantRequests: 0,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, "/")
			pkgs := tc.setup(t, reg)
			cache := t.TempDir()
			fetcher := &Fetcher{Registry: reg.URL(), Cache: cache, Caps: tc.caps, Parallel: tc.parallel}
			files, err := fetcher.Fetch(t.Context(), pkgs)
			requireRefusal(t, err, tc.entry, tc.reason...)
			require.Nil(t, files)
			require.Equal(t, tc.wantRequests, reg.requests())
			for _, name := range listFiles(t, cache) {
				require.False(t, strings.HasPrefix(name, ".partial-"), "partial file %s left in the cache", name)
			}
		})
	}
}

// TestFetchRetries: a registry that fails (5xx, 429, a dropped connection, a hang) is retried
// three times with backoff; past that it is an error, not a Refusal.
func TestFetchRetries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		fault        func(w http.ResponseWriter, r *http.Request, hit int) bool
		timeout      time.Duration
		wantErr      string // "" when the fetch succeeds
		wantRequests int
	}{
		{
			name: "503 twice then 200",
			fault: func(w http.ResponseWriter, _ *http.Request, hit int) bool {
				if hit <= 2 {
					http.Error(w, "busy", http.StatusServiceUnavailable)
					return true
				}
				return false
			},
			wantRequests: 3,
		},
		{
			name: "429 once then 200",
			fault: func(w http.ResponseWriter, _ *http.Request, hit int) bool {
				if hit == 1 {
					http.Error(w, "slow down", http.StatusTooManyRequests)
					return true
				}
				return false
			},
			wantRequests: 2,
		},
		{
			name: "a connection dropped mid-body, then 200",
			fault: func(w http.ResponseWriter, _ *http.Request, hit int) bool {
				if hit == 1 {
					conn, rw, err := w.(http.Hijacker).Hijack()
					if err == nil {
						_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\nonly a little")
						_ = rw.Flush()
						_ = conn.Close()
					}
					return true
				}
				return false
			},
			wantRequests: 2,
		},
		{
			name: "503 every time",
			fault: func(w http.ResponseWriter, _ *http.Request, _ int) bool {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return true
			},
			wantErr: "gave up after 3 attempts: fetch x@1.0.0: the registry answered 503 Service Unavailable", wantRequests: 3,
		},
		{
			name: "a registry that never answers, within the per-request timeout",
			fault: func(_ http.ResponseWriter, r *http.Request, _ int) bool {
				<-r.Context().Done()
				return true
			},
			timeout: 200 * time.Millisecond,
			wantErr: "gave up after 3 attempts", wantRequests: 3,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, "/")
			pkg := reg.add(t, "x", "1.0.0", 100)
			reg.setFault(tc.fault)
			fetcher := &Fetcher{Registry: reg.URL(), Cache: t.TempDir(), RequestTimeout: tc.timeout}
			files, err := fetcher.Fetch(t.Context(), []Package{pkg})
			require.Equal(t, tc.wantRequests, reg.requests())
			if tc.wantErr == "" {
				require.NoError(t, err)
				body, err := os.ReadFile(files[0])
				require.NoError(t, err)
				require.Equal(t, pkg.Integrity, sri(body))
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
			var refusal *Refusal
			require.False(t, errors.As(err, &refusal), "a failing registry is the grader's error, not the candidate's")
		})
	}
}

// TestFetchRegistryWithPathPrefix: the tarball path is joined below the registry's own path,
// with or without its trailing slash.
func TestFetchRegistryWithPathPrefix(t *testing.T) {
	t.Parallel()
	for _, trailing := range []string{"/", ""} {
		t.Run("registry URL ending in "+strconvQuote(trailing), func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, "/npm/registry/")
			pkg := reg.add(t, "@s/b", "1.0.0", 100)
			registry := strings.TrimSuffix(reg.URL(), "/") + trailing
			files, err := (&Fetcher{Registry: registry, Cache: t.TempDir()}).Fetch(t.Context(), []Package{pkg})
			require.NoError(t, err)
			require.Len(t, files, 1)
			reg.mu.Lock()
			defer reg.mu.Unlock()
			require.Equal(t, map[string]int{"/npm/registry/@s/b/-/b-1.0.0.tgz": 1}, reg.hits)
		})
	}
}

// strconvQuote names a subtest's suffix.
func strconvQuote(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// TestFetchRedirects: a redirect to another host (a CDN) is followed; one to another scheme,
// or a chain longer than five, is an error and is not retried.
func TestFetchRedirects(t *testing.T) {
	t.Parallel()
	cdn := newRegistry(t, "/")
	tlsTarget := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a redirect to https was followed: %s", r.URL)
	}))
	t.Cleanup(tlsTarget.Close)
	cases := []struct {
		name         string
		client       *http.Client // the caller's client: the redirect policy applies to it too
		location     func(r *http.Request) string
		wantErr      string
		wantRequests int
	}{
		{"to another host", nil, func(r *http.Request) string { return cdn.URL() + strings.TrimPrefix(r.URL.Path, "/") }, "", 1},
		{"to another scheme", nil, func(r *http.Request) string { return tlsTarget.URL + r.URL.Path }, "redirect refused: from http to https", 1},
		{"to another scheme with the caller's client", tlsTarget.Client(), func(r *http.Request) string { return tlsTarget.URL + r.URL.Path }, "redirect refused: from http to https", 1},
		{"in a loop", nil, func(r *http.Request) string { return r.URL.Path }, "redirect refused: more than 5 redirects", 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, "/")
			pkg, body := tarballPackage(t, "x-"+strings.ReplaceAll(tc.name, " ", "-"), "1.0.0", 100)
			cdn.mu.Lock()
			cdn.tarballs[pkg.Tarball] = body
			cdn.mu.Unlock()
			reg.setFault(func(w http.ResponseWriter, r *http.Request, _ int) bool {
				http.Redirect(w, r, tc.location(r), http.StatusFound)
				return true
			})
			files, err := (&Fetcher{Registry: reg.URL(), Client: tc.client, Cache: t.TempDir()}).Fetch(t.Context(), []Package{pkg})
			require.Equal(t, tc.wantRequests, reg.requests())
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.Len(t, files, 1)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

// TestFetchStopsWhenCancelled: a cancelled context ends a fetch that is waiting on the
// registry, without further attempts.
func TestFetchStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, "/")
	pkg := reg.add(t, "x", "1.0.0", 10)
	var started atomic.Bool
	reg.setFault(func(_ http.ResponseWriter, r *http.Request, _ int) bool {
		started.Store(true)
		<-r.Context().Done()
		return true
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := (&Fetcher{Registry: reg.URL(), Cache: t.TempDir()}).Fetch(ctx, []Package{pkg})
		done <- err
	}()
	require.Eventually(t, started.Load, 10*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Fetch did not stop within 10s of its context being cancelled")
	}
	require.Equal(t, 1, reg.requests())
}

// TestFetchRefusesABadRegistryOrCache: the grader's own configuration errors are errors.
func TestFetchRefusesABadRegistryOrCache(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, registry, cache, wantErr string
	}{
		{"a registry that is not http(s)", "file:///srv/npm/", "cache", "not an http(s) URL"},
		{"a registry with a query", "https://registry.example/?x=1", "cache", "not an http(s) URL"},
		{"no cache folder", "https://registry.example/", "", "no cache folder"},
		{"a registry that is no URL", "https://registry.example/%zz", "cache", "registry is not a URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cache := tc.cache
			if cache != "" {
				cache = filepath.Join(t.TempDir(), cache)
			}
			_, err := (&Fetcher{Registry: tc.registry, Cache: cache}).Fetch(t.Context(), []Package{{Path: "node_modules/x", Name: "x", Version: "1.0.0", Integrity: sumA, Tarball: "x/-/x-1.0.0.tgz"}})
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

// listFiles are the names in a folder.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// countFiles is the number of names in a folder.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	return len(listFiles(t, dir))
}
