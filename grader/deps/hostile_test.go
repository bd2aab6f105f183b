package deps

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// install is the host half of a submission's install as the grader runs it: Read, then Fetch
// only what Read accepted.
func install(t *testing.T, dir, registry, cache string) ([]Package, []string, error) {
	t.Helper()
	pkgs, err := Read(dir)
	if err != nil {
		return nil, nil, err
	}
	files, err := (&Fetcher{Registry: registry, Cache: cache}).Fetch(t.Context(), pkgs)
	return pkgs, files, err
}

// submission writes a package.json and a package-lock.json into a new folder.
func submission(t *testing.T, manifest any, lockPackages map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), jsonBytes(t, manifest), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package-lock.json"), lockBytes(t, lockPackages), 0o644))
	return dir
}

// TestHostileResolvedHostIsNeverContacted: a lockfile whose resolved URL names a host of the
// candidate's choosing, with the right integrity, still gets its tarball from the configured
// registry, and that host is never contacted.
func TestHostileResolvedHostIsNeverContacted(t *testing.T) {
	t.Parallel()
	evil := forbiddenListener(t)
	reg := newRegistry(t, "/")
	pkg := reg.add(t, "x", "1.0.0", 100)
	dir := submission(t, deps(map[string]any{"x": "^1.0.0"}), map[string]any{
		"node_modules/x": map[string]any{"version": "1.0.0", "integrity": pkg.Integrity, "resolved": evil.URL + "/x/-/x-1.0.0.tgz"},
	})

	planned, files, err := install(t, dir, reg.URL(), t.TempDir())
	require.NoError(t, err)
	require.Equal(t, []Package{pkg}, planned)
	require.Len(t, files, 1)
	require.Equal(t, 1, reg.requests(), "the tarball came from the configured registry")
	// forbiddenListener fails the test if evil saw any connection.
}

// TestHostileSourcesAreRefusedWithNoRequest: the attacks of issue 9 item 3 (git and URL
// dependencies, an empty resolved, overrides pointing elsewhere) are refused while reading,
// naming the entry, and no request reaches the candidate's listener or even the registry.
func TestHostileSourcesAreRefusedWithNoRequest(t *testing.T) {
	t.Parallel()
	evil := forbiddenListener(t)
	gitURL := "git+http://" + evil.Listener.Addr().String() + "/evil.git"
	cases := []struct {
		name     string
		manifest any
		lock     map[string]any
		entry    string
		reason   string
	}{
		{
			name:     "a git dependency whose lock entry has an empty resolved (the issue's reproduction)",
			manifest: deps(map[string]any{"x": gitURL}),
			lock:     map[string]any{"node_modules/x": map[string]any{"version": "1.0.0", "resolved": ""}},
			entry:    "package.json dependencies.x", reason: "git dependency",
		},
		{
			name:     "a git+https dependency whose lock entry carries a valid-looking integrity",
			manifest: deps(map[string]any{"x": "git+https://" + evil.Listener.Addr().String() + "/x.git"}),
			lock:     map[string]any{"node_modules/x": locked("1.0.0")},
			entry:    "package.json dependencies.x", reason: "git dependency",
		},
		{
			name:     "a URL dependency locked to the same URL",
			manifest: deps(map[string]any{"x": evil.URL + "/x.tgz"}),
			lock:     map[string]any{"node_modules/x": locked("1.0.0", "resolved", evil.URL+"/x.tgz")},
			entry:    "package.json dependencies.x", reason: "a URL",
		},
		{
			name:     "an override pointing to a git URL",
			manifest: map[string]any{"dependencies": map[string]any{"x": "^1"}, "overrides": map[string]any{"x": gitURL}},
			lock:     map[string]any{"node_modules/x": locked("1.0.0")},
			entry:    "package.json overrides.x", reason: "git dependency",
		},
		{
			name:     "a registry spec whose lock entry resolves to git",
			manifest: deps(map[string]any{"x": "^1"}),
			lock:     map[string]any{"node_modules/x": locked("1.0.0", "resolved", gitURL+"#0123abc")},
			entry:    "package-lock.json node_modules/x", reason: "not a registry tarball URL",
		},
		{
			name:     "a registry spec whose lock entry resolves to a non-tarball URL of the candidate",
			manifest: deps(map[string]any{"x": "^1"}),
			lock:     map[string]any{"node_modules/x": locked("1.0.0", "resolved", evil.URL+"/payload")},
			entry:    "package-lock.json node_modules/x", reason: "not a registry tarball of x",
		},
		{
			name:     "a transitive entry resolving to git",
			manifest: deps(map[string]any{"x": "^1"}),
			lock: map[string]any{
				"node_modules/x":                locked("1.0.0"),
				"node_modules/x/node_modules/y": locked("1.0.0", "resolved", gitURL),
			},
			entry: "package-lock.json node_modules/x/node_modules/y", reason: "not a registry tarball URL",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, "/")
			dir := submission(t, tc.manifest, tc.lock)
			pkgs, files, err := install(t, dir, reg.URL(), t.TempDir())
			requireRefusal(t, err, tc.entry, tc.reason)
			require.Nil(t, pkgs)
			require.Nil(t, files)
			require.Zero(t, reg.requests(), "a refused submission makes no request")
		})
	}
}
