package deps

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	sumA = sri([]byte("a"))
	sumB = sri([]byte("b"))
)

// locked is a lock entry of a registry package with an integrity and no resolved URL.
func locked(version string, extra ...any) map[string]any {
	e := map[string]any{"version": version, "integrity": sumA}
	for i := 0; i+1 < len(extra); i += 2 {
		e[extra[i].(string)] = extra[i+1]
	}
	return e
}

// deps is a package.json with these dependencies.
func deps(specs map[string]any) map[string]any {
	return map[string]any{"name": "submission", "version": "1.0.0", "dependencies": specs}
}

// TestPlanAccepts walks every rule's accepted side: what is installed, from which tarball.
func TestPlanAccepts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		manifest map[string]any
		lock     map[string]any
		want     []Package
	}{
		{
			name:     "a registry package without resolved gets npm's tarball path",
			manifest: deps(map[string]any{"p-retry": "^9.0.0"}),
			lock:     map[string]any{"node_modules/p-retry": locked("9.0.0")},
			want:     []Package{{Path: "node_modules/p-retry", Name: "p-retry", Version: "9.0.0", Integrity: sumA, Tarball: "p-retry/-/p-retry-9.0.0.tgz"}},
		},
		{
			name:     "a scoped package without resolved drops the scope from the file name",
			manifest: deps(map[string]any{"@s/b": "1.x"}),
			lock:     map[string]any{"node_modules/@s/b": locked("1.0.0")},
			want:     []Package{{Path: "node_modules/@s/b", Name: "@s/b", Version: "1.0.0", Integrity: sumA, Tarball: "@s/b/-/b-1.0.0.tgz"}},
		},
		{
			name:     "resolved on the public registry keeps only the path below its root",
			manifest: deps(map[string]any{"x": "^1"}),
			lock:     map[string]any{"node_modules/x": locked("1.2.3", "resolved", "https://registry.npmjs.org/x/-/x-1.2.3.tgz")},
			want:     []Package{{Path: "node_modules/x", Name: "x", Version: "1.2.3", Integrity: sumA, Tarball: "x/-/x-1.2.3.tgz"}},
		},
		{
			name:     "resolved on another host under a path prefix keeps only the tarball path",
			manifest: deps(map[string]any{"@s/b": "^1"}),
			lock:     map[string]any{"node_modules/@s/b": locked("1.0.0", "resolved", "http://mirror.example/npm/registry/@s/b/-/b-1.0.0.tgz")},
			want:     []Package{{Path: "node_modules/@s/b", Name: "@s/b", Version: "1.0.0", Integrity: sumA, Tarball: "@s/b/-/b-1.0.0.tgz"}},
		},
		{
			name:     "a scope written with an escaped slash in resolved is the same package",
			manifest: deps(map[string]any{"@s/b": "^1"}),
			lock:     map[string]any{"node_modules/@s/b": locked("1.0.0", "resolved", "https://r.example/@s%2fb/-/b-1.0.0.tgz")},
			want:     []Package{{Path: "node_modules/@s/b", Name: "@s/b", Version: "1.0.0", Integrity: sumA, Tarball: "@s/b/-/b-1.0.0.tgz"}},
		},
		{
			name:     "an npm: alias is fetched by the entry's name and installed at its path",
			manifest: deps(map[string]any{"retry": "npm:p-retry@^9"}),
			lock:     map[string]any{"node_modules/retry": locked("9.0.0", "name", "p-retry", "resolved", "https://registry.npmjs.org/p-retry/-/p-retry-9.0.0.tgz")},
			want:     []Package{{Path: "node_modules/retry", Name: "p-retry", Version: "9.0.0", Integrity: sumA, Tarball: "p-retry/-/p-retry-9.0.0.tgz"}},
		},
		{
			name:     "nested paths are kept and sorted after their parent",
			manifest: deps(map[string]any{"a": "^1"}),
			lock: map[string]any{
				"node_modules/a/node_modules/@s/b": locked("2.0.0"),
				"node_modules/a":                   locked("1.0.0"),
			},
			want: []Package{
				{Path: "node_modules/a", Name: "a", Version: "1.0.0", Integrity: sumA, Tarball: "a/-/a-1.0.0.tgz"},
				{Path: "node_modules/a/node_modules/@s/b", Name: "@s/b", Version: "2.0.0", Integrity: sumA, Tarball: "@s/b/-/b-2.0.0.tgz"},
			},
		},
		{
			name:     "dev and inBundle entries are skipped, devOptional is kept",
			manifest: deps(map[string]any{"a": "^1"}),
			lock: map[string]any{
				"node_modules/a":                locked("1.0.0"),
				"node_modules/typescript":       locked("6.0.3", "dev", true),
				"node_modules/a/node_modules/b": map[string]any{"version": "1.0.0", "inBundle": true},
				"node_modules/fsevents":         locked("2.3.3", "devOptional", true),
			},
			want: []Package{
				{Path: "node_modules/a", Name: "a", Version: "1.0.0", Integrity: sumA, Tarball: "a/-/a-1.0.0.tgz"},
				{Path: "node_modules/fsevents", Name: "fsevents", Version: "2.3.3", Integrity: sumA, Tarball: "fsevents/-/fsevents-2.3.3.tgz"},
			},
		},
		{
			name:     "optional packages for other platforms are skipped, those for linux x64 glibc kept",
			manifest: map[string]any{"optionalDependencies": map[string]any{"n-darwin": "1", "n-win": "1", "n-musl": "1", "n-arm": "1", "n-linux": "1", "n-any": "1", "n-notwin": "1"}},
			lock: map[string]any{
				"node_modules/n-darwin": locked("1.0.0", "optional", true, "os", []string{"darwin"}),
				"node_modules/n-win":    locked("1.0.0", "optional", true, "os", "win32"),
				"node_modules/n-musl":   locked("1.0.0", "optional", true, "os", []string{"linux"}, "libc", []string{"musl"}),
				"node_modules/n-arm":    locked("1.0.0", "optional", true, "cpu", []string{"arm64"}),
				"node_modules/n-linux":  locked("1.0.0", "optional", true, "os", []string{"linux"}, "cpu", []string{"x64"}, "libc", []string{"glibc"}),
				"node_modules/n-any":    locked("1.0.0", "optional", true, "os", []string{"any"}),
				"node_modules/n-notwin": locked("1.0.0", "optional", true, "os", []string{"!win32", "!darwin"}),
			},
			want: []Package{
				{Path: "node_modules/n-any", Name: "n-any", Version: "1.0.0", Integrity: sumA, Tarball: "n-any/-/n-any-1.0.0.tgz"},
				{Path: "node_modules/n-linux", Name: "n-linux", Version: "1.0.0", Integrity: sumA, Tarball: "n-linux/-/n-linux-1.0.0.tgz"},
				{Path: "node_modules/n-notwin", Name: "n-notwin", Version: "1.0.0", Integrity: sumA, Tarball: "n-notwin/-/n-notwin-1.0.0.tgz"},
			},
		},
		{
			name:     "a negated os that excludes linux skips an optional package",
			manifest: deps(map[string]any{}),
			lock:     map[string]any{"node_modules/x": locked("1.0.0", "optional", true, "os", []string{"!linux"})},
			want:     nil,
		},
		{
			name:     "the strongest hash is kept: sha512 over sha1",
			manifest: deps(map[string]any{"x": "1"}),
			lock:     map[string]any{"node_modules/x": locked("1.0.0", "integrity", sriOf("sha1", []byte("a"))+" "+sumA)},
			want:     []Package{{Path: "node_modules/x", Name: "x", Version: "1.0.0", Integrity: sumA, Tarball: "x/-/x-1.0.0.tgz"}},
		},
		{
			name:     "the strongest hash is kept: sha384 over sha256, unknown algorithms ignored",
			manifest: deps(map[string]any{"x": "1"}),
			lock:     map[string]any{"node_modules/x": locked("1.0.0", "integrity", "md5-AAAA "+sriOf("sha256", []byte("a"))+" "+sriOf("sha384", []byte("a"))+"?opt")},
			want:     []Package{{Path: "node_modules/x", Name: "x", Version: "1.0.0", Integrity: sriOf("sha384", []byte("a")), Tarball: "x/-/x-1.0.0.tgz"}},
		},
		{
			name:     "sha1 alone is accepted, as npm does for old packages",
			manifest: deps(map[string]any{"x": "1"}),
			lock:     map[string]any{"node_modules/x": locked("1.0.0", "integrity", sriOf("sha1", []byte("a")))},
			want:     []Package{{Path: "node_modules/x", Name: "x", Version: "1.0.0", Integrity: sriOf("sha1", []byte("a")), Tarball: "x/-/x-1.0.0.tgz"}},
		},
		{
			name:     "prerelease and build versions are exact versions",
			manifest: deps(map[string]any{"x": "next", "y": "1.0.0-rc.1+b.2"}),
			lock:     map[string]any{"node_modules/x": locked("2.0.0-beta.1"), "node_modules/y": locked("1.0.0-rc.1+b.2")},
			want: []Package{
				{Path: "node_modules/x", Name: "x", Version: "2.0.0-beta.1", Integrity: sumA, Tarball: "x/-/x-2.0.0-beta.1.tgz"},
				{Path: "node_modules/y", Name: "y", Version: "1.0.0-rc.1+b.2", Integrity: sumA, Tarball: "y/-/y-1.0.0-rc.1+b.2.tgz"},
			},
		},
		{
			name: "registry specs of every form are accepted in every checked section",
			manifest: map[string]any{
				"dependencies":         map[string]any{"a": "^1.2.3", "b": ">=1 <2 || 3.x", "c": "latest", "d": "*", "e": "", "f": "npm:@s/real@~1.2", "g": "npm:real", "h": "1.0.0 - 2.0.0", "JSONStream": "X"},
				"optionalDependencies": map[string]any{"i": "=1.0.0"},
				"peerDependencies":     map[string]any{"react": "^18 || ^19"},
				"devDependencies":      map[string]any{"tool": "git+https://example.invalid/tool.git", "local": "file:../tool"},
				"overrides":            map[string]any{"a": "1.2.4", "b": map[string]any{".": "1.5.0", "c": "$c", "@s/z": map[string]any{"q": "npm:q2@2"}}},
			},
			lock: map[string]any{
				"node_modules/a": locked("1.2.4"), "node_modules/b": locked("1.5.0"), "node_modules/c": locked("3.0.0"),
				"node_modules/d": locked("1.0.0"), "node_modules/e": locked("1.0.0"), "node_modules/g": locked("1.0.0", "name", "real"),
				"node_modules/f": locked("1.2.0", "name", "@s/real"), "node_modules/h": locked("1.5.0"), "node_modules/JSONStream": locked("1.3.5"),
				"node_modules/i":    locked("1.0.0", "optional", true),
				"node_modules/tool": locked("1.0.0", "dev", true, "resolved", "git+https://example.invalid/tool.git#abc"),
			},
			want: []Package{
				{Path: "node_modules/JSONStream", Name: "JSONStream", Version: "1.3.5", Integrity: sumA, Tarball: "JSONStream/-/JSONStream-1.3.5.tgz"},
				{Path: "node_modules/a", Name: "a", Version: "1.2.4", Integrity: sumA, Tarball: "a/-/a-1.2.4.tgz"},
				{Path: "node_modules/b", Name: "b", Version: "1.5.0", Integrity: sumA, Tarball: "b/-/b-1.5.0.tgz"},
				{Path: "node_modules/c", Name: "c", Version: "3.0.0", Integrity: sumA, Tarball: "c/-/c-3.0.0.tgz"},
				{Path: "node_modules/d", Name: "d", Version: "1.0.0", Integrity: sumA, Tarball: "d/-/d-1.0.0.tgz"},
				{Path: "node_modules/e", Name: "e", Version: "1.0.0", Integrity: sumA, Tarball: "e/-/e-1.0.0.tgz"},
				{Path: "node_modules/f", Name: "@s/real", Version: "1.2.0", Integrity: sumA, Tarball: "@s/real/-/real-1.2.0.tgz"},
				{Path: "node_modules/g", Name: "real", Version: "1.0.0", Integrity: sumA, Tarball: "real/-/real-1.0.0.tgz"},
				{Path: "node_modules/h", Name: "h", Version: "1.5.0", Integrity: sumA, Tarball: "h/-/h-1.5.0.tgz"},
				{Path: "node_modules/i", Name: "i", Version: "1.0.0", Integrity: sumA, Tarball: "i/-/i-1.0.0.tgz"},
			},
		},
		{
			name:     "a lockfile of development tools only installs nothing",
			manifest: map[string]any{"devDependencies": map[string]any{"typescript": "^6"}},
			lock:     map[string]any{"node_modules/typescript": locked("6.0.3", "dev", true)},
			want:     nil,
		},
		{
			name:     "no lockfile and no runtime dependencies is nothing to install",
			manifest: map[string]any{"name": "x", "devDependencies": map[string]any{"typescript": "^6"}},
			want:     nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lock []byte
			if tc.lock != nil {
				lock = lockBytes(t, tc.lock)
			}
			got, err := Plan(jsonBytes(t, tc.manifest), "package-lock.json", lock)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestPlanRefuses walks every rule's refused side; each refusal names the entry.
func TestPlanRefuses(t *testing.T) {
	t.Parallel()
	one := deps(map[string]any{"x": "^1"})
	lockOf := func(entry map[string]any) map[string]any { return map[string]any{"node_modules/x": entry} }
	cases := []struct {
		name     string
		manifest any    // marshalled, unless a string (raw bytes)
		lock     any    // packages map, or a string (raw bytes); nil: no lockfile
		entry    string // the refusal's Entry
		reason   []string
	}{
		{"package.json that is not JSON", "{", nil, "package.json", []string{"not valid JSON"}},
		{"workspaces", map[string]any{"workspaces": []string{"packages/*"}}, nil, "package.json workspaces", []string{"workspaces"}},
		{"a git+https dependency", deps(map[string]any{"x": "git+https://example.invalid/x.git"}), nil, "package.json dependencies.x", []string{"git dependency"}},
		{"a git:// dependency", deps(map[string]any{"x": "git://example.invalid/x.git"}), nil, "package.json dependencies.x", []string{"git dependency"}},
		{"a git ssh dependency", deps(map[string]any{"x": "git@github.com:u/x.git"}), nil, "package.json dependencies.x", []string{"git dependency"}},
		{"a github: dependency", deps(map[string]any{"x": "github:u/x"}), nil, "package.json dependencies.x", []string{"GitHub"}},
		{"GitHub shorthand", deps(map[string]any{"x": "u/x#main"}), nil, "package.json dependencies.x", []string{"user/repo"}},
		{"a file: dependency", deps(map[string]any{"x": "file:../x"}), nil, "package.json dependencies.x", []string{"local file"}},
		{"a relative path", deps(map[string]any{"x": "./x"}), nil, "package.json dependencies.x", []string{"path"}},
		{"a parent path", deps(map[string]any{"x": "../x"}), nil, "package.json dependencies.x", []string{"path"}},
		{"an absolute path", deps(map[string]any{"x": "/x"}), nil, "package.json dependencies.x", []string{"path"}},
		{"a home path", deps(map[string]any{"x": "~/x"}), nil, "package.json dependencies.x", []string{"path"}},
		{"the parent folder", deps(map[string]any{"x": " .."}), nil, "package.json dependencies.x", []string{"path"}},
		{"a tarball file name", deps(map[string]any{"x": "x-1.0.0.TGZ"}), nil, "package.json dependencies.x", []string{"local tarball"}},
		{"an https URL", deps(map[string]any{"x": "https://example.invalid/x.tgz"}), nil, "package.json dependencies.x", []string{"a URL"}},
		{"an http URL", deps(map[string]any{"x": "HTTP://example.invalid/x.tgz"}), nil, "package.json dependencies.x", []string{"a URL"}},
		{"a link:", deps(map[string]any{"x": "link:../x"}), nil, "package.json dependencies.x", []string{"link"}},
		{"a workspace: reference", deps(map[string]any{"x": "workspace:*"}), nil, "package.json dependencies.x", []string{"workspace"}},
		{"characters outside the allow-list", deps(map[string]any{"x": "1.0.0;rm"}), nil, "package.json dependencies.x", []string{"not a semver range"}},
		{"an npm: alias to a path", deps(map[string]any{"x": "npm:../x"}), nil, "package.json dependencies.x", []string{"invalid package name"}},
		{"an npm: alias to a git URL", deps(map[string]any{"x": "npm:x@git+https://example.invalid/x.git"}), nil, "package.json dependencies.x", []string{"npm: alias"}},
		{"an invalid dependency name", deps(map[string]any{"../evil": "1.0.0"}), nil, "package.json dependencies.../evil", []string{"not a valid npm package name"}},
		{"dependencies that are not an object", map[string]any{"dependencies": []string{"x"}}, nil, "package.json dependencies", []string{"not an object"}},
		{"a spec that is not a string", deps(map[string]any{"x": 1}), nil, "package.json dependencies", []string{"not an object"}},
		{"a URL optional dependency", map[string]any{"optionalDependencies": map[string]any{"x": "https://example.invalid/x.tgz"}}, nil, "package.json optionalDependencies.x", []string{"URL"}},
		{"a git peer dependency", map[string]any{"peerDependencies": map[string]any{"x": "git+ssh://git@example.invalid/x.git"}}, nil, "package.json peerDependencies.x", []string{"git"}},
		{"an override to a git URL, nested", map[string]any{"overrides": map[string]any{"a": map[string]any{"b": "git+https://example.invalid/b.git"}}}, nil, "package.json overrides.a.b", []string{"git"}},
		{"an override that is a number", map[string]any{"overrides": map[string]any{"a": 1}}, nil, "package.json overrides.a", []string{"version spec or an object"}},
		{"an override reference to an invalid name", map[string]any{"overrides": map[string]any{"a": "$../a"}}, nil, "package.json overrides.a", []string{"path"}},
		{"dependencies and no lockfile", one, nil, "package.json dependencies.x", []string{"no package-lock.json"}},
		{"a dependency missing from the lockfile", deps(map[string]any{"x": "1", "y": "1"}), map[string]any{"node_modules/x": locked("1.0.0")}, "package.json dependencies.y", []string{"not locked", "node_modules/y"}},
		{"an optional dependency missing from the lockfile", map[string]any{"optionalDependencies": map[string]any{"y": "1"}}, map[string]any{}, "package.json optionalDependencies.y", []string{"not locked"}},
		{"a dependency locked as dev", one, lockOf(locked("1.0.0", "dev", true)), "package.json dependencies.x", []string{"development dependency"}},
		{"a lockfile that is not JSON", one, "{", "package-lock.json", []string{"not valid JSON"}},
		{"lockfileVersion 1", one, `{"lockfileVersion": 1, "dependencies": {}}`, "package-lock.json lockfileVersion", []string{"is 1", "npm 7 or later writes 2 or 3"}},
		{"no lockfileVersion", one, `{"packages": {}}`, "package-lock.json lockfileVersion", []string{"missing", "npm 7 or later"}},
		{"lockfileVersion 4", one, `{"lockfileVersion": 4, "packages": {}}`, "package-lock.json lockfileVersion", []string{"is 4"}},
		{"lockfileVersion as a string", one, `{"lockfileVersion": "3", "packages": {}}`, "package-lock.json lockfileVersion", []string{`is "3"`}},
		{"packages that are not an object", one, `{"lockfileVersion": 3, "packages": []}`, "package-lock.json packages", []string{"not an object"}},
		{"a workspace folder key", one, map[string]any{"node_modules/x": locked("1.0.0"), "packages/a": locked("1.0.0")}, "package-lock.json packages/a", []string{"not a node_modules/<name> path"}},
		{"a key climbing out", one, map[string]any{"node_modules/x": locked("1.0.0"), "node_modules/../etc": locked("1.0.0")}, "package-lock.json node_modules/../etc", []string{"not a node_modules"}},
		{"a key with a backslash", one, map[string]any{"node_modules/x": locked("1.0.0"), `node_modules/a\b`: locked("1.0.0")}, `package-lock.json node_modules/a\b`, []string{"not a node_modules"}},
		{"a key with an empty segment", one, map[string]any{"node_modules/x": locked("1.0.0"), "node_modules//a": locked("1.0.0")}, "package-lock.json node_modules//a", []string{"not a node_modules"}},
		{"a key of a scope without a name", one, map[string]any{"node_modules/x": locked("1.0.0"), "node_modules/@s": locked("1.0.0")}, "package-lock.json node_modules/@s", []string{"not a node_modules"}},
		{"a key of a folder inside a package", one, map[string]any{"node_modules/x": locked("1.0.0"), "node_modules/x/lib": locked("1.0.0")}, "package-lock.json node_modules/x/lib", []string{"not a node_modules"}},
		{"a key naming .bin", one, map[string]any{"node_modules/x": locked("1.0.0"), "node_modules/.bin": locked("1.0.0")}, "package-lock.json node_modules/.bin", []string{"not a node_modules"}},
		{"an entry that is not an object", one, map[string]any{"node_modules/x": "1.0.0"}, "package-lock.json node_modules/x", []string{"not a valid lockfile entry"}},
		{"an entry with a field of the wrong type", one, lockOf(locked("1.0.0", "dev", "yes")), "package-lock.json node_modules/x", []string{`"dev"`}},
		{"a link to a local folder", one, lockOf(map[string]any{"resolved": "packages/x", "link": true}), "package-lock.json node_modules/x", []string{"link to a local folder"}},
		{"a non-optional package for another platform", one, lockOf(locked("1.0.0", "os", []string{"darwin"})), "package-lock.json node_modules/x", []string{"os [darwin]", "linux x64 glibc"}},
		{"a non-optional package for musl", one, lockOf(locked("1.0.0", "libc", []string{"musl"})), "package-lock.json node_modules/x", []string{"libc [musl]"}},
		{"no integrity", one, lockOf(map[string]any{"version": "1.0.0"}), "package-lock.json node_modules/x", []string{"no integrity hash"}},
		{"an integrity of unknown algorithms only", one, lockOf(locked("1.0.0", "integrity", "md5-1B2M2Y8AsgTpgAmY7PhCfg==")), "package-lock.json node_modules/x", []string{"no integrity hash"}},
		{"a malformed sha512", one, lockOf(locked("1.0.0", "integrity", "sha512-!!!")), "package-lock.json node_modules/x", []string{"malformed sha512"}},
		{"a sha512 of the wrong length", one, lockOf(locked("1.0.0", "integrity", "sha512-"+sriOf("sha256", []byte("a"))[len("sha256-"):])), "package-lock.json node_modules/x", []string{"malformed sha512"}},
		{"two different sha512 hashes", one, lockOf(locked("1.0.0", "integrity", sumA+" "+sumB)), "package-lock.json node_modules/x", []string{"two different sha512"}},
		{"a version range", one, lockOf(locked("^1.0.0")), "package-lock.json node_modules/x", []string{"not an exact semver version"}},
		{"a partial version", one, lockOf(locked("1.0")), "package-lock.json node_modules/x", []string{"not an exact semver version"}},
		{"no version", one, lockOf(map[string]any{"integrity": sumA}), "package-lock.json node_modules/x", []string{"not an exact semver version"}},
		{"an invalid alias name", one, lockOf(locked("1.0.0", "name", "../x")), "package-lock.json node_modules/x", []string{"not a valid npm package name"}},
		{"resolved to git", one, lockOf(locked("1.0.0", "resolved", "git+ssh://git@github.com/u/x.git#0123abc")), "package-lock.json node_modules/x", []string{"not a registry tarball URL"}},
		{"resolved to a file", one, lockOf(locked("1.0.0", "resolved", "file:../x-1.0.0.tgz")), "package-lock.json node_modules/x", []string{"not a registry tarball URL"}},
		{"resolved to an ftp URL", one, lockOf(locked("1.0.0", "resolved", "ftp://example.invalid/x/-/x-1.0.0.tgz")), "package-lock.json node_modules/x", []string{"not a registry tarball URL"}},
		{"resolved with a query", one, lockOf(locked("1.0.0", "resolved", "https://example.invalid/x/-/x-1.0.0.tgz?t=1")), "package-lock.json node_modules/x", []string{"not a registry tarball URL"}},
		{"resolved with credentials", one, lockOf(locked("1.0.0", "resolved", "https://u:p@example.invalid/x/-/x-1.0.0.tgz")), "package-lock.json node_modules/x", []string{"not a registry tarball URL"}},
		{"resolved to a URL that is no registry tarball", one, lockOf(locked("1.0.0", "resolved", "https://example.invalid/x.tgz")), "package-lock.json node_modules/x", []string{"not a registry tarball of x"}},
		{"resolved to another package's tarball", one, lockOf(locked("1.0.0", "resolved", "https://registry.npmjs.org/evil/-/evil-1.0.0.tgz")), "package-lock.json node_modules/x", []string{"not a registry tarball of x"}},
		{"resolved to a tarball in a subfolder", one, lockOf(locked("1.0.0", "resolved", "https://example.invalid/x/-/sub/x-1.0.0.tgz")), "package-lock.json node_modules/x", []string{"not a registry tarball of x"}},
		{"resolved to a dot file", one, lockOf(locked("1.0.0", "resolved", "https://example.invalid/x/-/..tgz")), "package-lock.json node_modules/x", []string{"not a registry tarball of x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			manifest := rawOr(t, tc.manifest, func(v any) []byte { return jsonBytes(t, v) })
			var lock []byte
			if tc.lock != nil {
				lock = rawOr(t, tc.lock, func(v any) []byte { return lockBytes(t, v.(map[string]any)) })
			}
			pkgs, err := Plan(manifest, "package-lock.json", lock)
			requireRefusal(t, err, tc.entry, tc.reason...)
			require.Nil(t, pkgs)
		})
	}
}

// rawOr is v's bytes when v is a string, else build(v).
func rawOr(t *testing.T, v any, build func(any) []byte) []byte {
	t.Helper()
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	return build(v)
}

// TestPlanReadsLockfileVersion2: a v2 lockfile is read from its packages map; its legacy
// dependencies section (here naming a git source) is not read.
func TestPlanReadsLockfileVersion2(t *testing.T) {
	t.Parallel()
	lock := `{"lockfileVersion": 2, "packages": {"": {}, "node_modules/x": {"version": "1.0.0", "integrity": "` + sumA + `"}},
		"dependencies": {"x": {"version": "git+https://example.invalid/x.git#abc"}}}`
	pkgs, err := Plan(jsonBytes(t, deps(map[string]any{"x": "1"})), "package-lock.json", []byte(lock))
	require.NoError(t, err)
	require.Equal(t, []Package{{Path: "node_modules/x", Name: "x", Version: "1.0.0", Integrity: sumA, Tarball: "x/-/x-1.0.0.tgz"}}, pkgs)
}

// TestPlanNamesTheLockfileItRead: refusals name npm-shrinkwrap.json when that was read.
func TestPlanNamesTheLockfileItRead(t *testing.T) {
	t.Parallel()
	_, err := Plan(jsonBytes(t, deps(map[string]any{"x": "1"})), "npm-shrinkwrap.json",
		lockBytes(t, map[string]any{"node_modules/x": locked("1.0.0", "link", true)}))
	requireRefusal(t, err, "npm-shrinkwrap.json node_modules/x", "link")
}

// TestPlanIgnoresCaseFoldedKeys: only the exact keys npm reads count; Go's case-insensitive
// struct decoding would have let "Resolved" or "Dependencies" stand in.
func TestPlanIgnoresCaseFoldedKeys(t *testing.T) {
	t.Parallel()
	manifest := map[string]any{"Dependencies": map[string]any{"x": "git+https://example.invalid/x.git"}}
	lock := lockBytes(t, map[string]any{
		"node_modules/y": locked("1.0.0", "Resolved", "https://registry.npmjs.org/y/-/y-1.0.0.tgz", "resolved", "git+https://example.invalid/y.git"),
	})
	_, err := Plan(jsonBytes(t, manifest), "package-lock.json", lock)
	requireRefusal(t, err, "package-lock.json node_modules/y", "not a registry tarball URL")
}

// TestPlanCorpusLockfiles: the corpus' real lockfiles are accepted as they are.
func TestPlanCorpusLockfiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		dir       string
		wantCount int
		wantFirst Package
	}{
		{"retry-library", "retry-library", 2, Package{
			Path: "node_modules/is-network-error", Name: "is-network-error", Version: "1.3.2",
			Integrity: "sha512-PhBY86zaxNZUuWP6h13Vu5oFe0XY6/UlKzQnYFELzGVHygP3MxmvTfYSG7GN3aIab/iWudSMgjSnG9Dq+nHrgA==",
			Tarball:   "is-network-error/-/is-network-error-1.3.2.tgz",
		}},
		{"heavy-deps: 82 packages, 12 of them dev", "heavy-deps", 82 - 12, Package{
			Path: "node_modules/accepts", Name: "accepts", Version: "2.0.0",
			Integrity: lockIntegrity(t, "heavy-deps", "node_modules/accepts"),
			Tarball:   "accepts/-/accepts-2.0.0.tgz",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("..", "..", "fixtures", "submissions", tc.dir)
			manifest, err := os.ReadFile(filepath.Join(dir, "package.json"))
			require.NoError(t, err)
			lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
			require.NoError(t, err)
			pkgs, err := Plan(manifest, "package-lock.json", lock)
			require.NoError(t, err)
			require.Len(t, pkgs, tc.wantCount)
			require.Equal(t, tc.wantFirst, pkgs[0])
			for _, p := range pkgs {
				require.False(t, strings.HasPrefix(p.Path, "node_modules/@types/"), "dev package %s planned", p.Path)
				require.True(t, strings.HasPrefix(p.Integrity, "sha512-"), p.Path)
			}
		})
	}
}

// lockIntegrity reads one entry's integrity from a corpus lockfile.
func lockIntegrity(t *testing.T, dir, key string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "submissions", dir, "package-lock.json"))
	require.NoError(t, err)
	var lock struct {
		Packages map[string]struct {
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	require.NoError(t, json.Unmarshal(raw, &lock))
	return lock.Packages[key].Integrity
}
