package prepare

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/sandbox"
	"github.com/itsm-grader/grader/sandbox/sandboxtest"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// submission writes a submission from a map of relative paths to contents.
func submission(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// hostSecret is a file on the host, outside every submission, holding a random word that must
// never appear in anything a build produces.
func hostSecret(t *testing.T) (path, word string) {
	t.Helper()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	word = "HOSTSECRET" + hex.EncodeToString(b)
	dir := t.TempDir()
	path = filepath.Join(dir, "secret.txt")
	require.NoError(t, os.WriteFile(path, []byte(word), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tsconfig.json"), []byte(`{"compilerOptions": {"baseUrl": ".", "paths": {"secret": ["./secret.txt"]}}}`), 0o644))
	return path, word
}

// requireNowhere fails when word appears in any file under dir.
func requireNowhere(t *testing.T, dir, word string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NotContains(t, string(raw), word, "host text in %s", p)
		return nil
	}))
}

const pkg = `{"name": "s", "version": "1.0.0", "type": "module"}`

func TestBuildFailuresAreFindingsNotErrors(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	secretPath, word := hostSecret(t)
	cases := []struct {
		name    string
		files   map[string]string
		stage   string
		summary string
		located string // file:line in a message
	}{
		{"no src/index.ts", map[string]string{"package.json": pkg, "index.ts": "export {}"}, "layout", "src/index.ts is missing", ""},
		{"no package.json", map[string]string{"src/index.ts": "export async function syncTickets() {}"}, "layout", "package.json is missing", ""},
		{"a syntax error", map[string]string{"package.json": pkg, "src/index.ts": "export async function syncTickets( {\n"}, "bundle", "does not compile", "src/index.ts:2:1: Expected identifier"},
		{"a missing module", map[string]string{"package.json": pkg, "src/index.ts": "import x from './nope.ts';\nexport async function syncTickets() { return x; }\n"}, "bundle", "does not compile", "src/index.ts:1:"},
		{"no syncTickets export", map[string]string{"package.json": pkg, "src/index.ts": "export async function sync() {}\n"}, "contract", "does not export syncTickets (it exports: sync)", ""},
		{"dependencies without a lockfile", map[string]string{"package.json": `{"name":"s","dependencies":{"p-retry":"^9"}}`, "src/index.ts": "export async function syncTickets() {}"}, "install", "lock", ""},
		{"a dependency from git", map[string]string{
			"package.json":      `{"name":"s","dependencies":{"evil":"github:x/evil"}}`,
			"package-lock.json": `{"lockfileVersion":3,"packages":{"":{},"node_modules/evil":{"version":"1.0.0","resolved":"git+ssh://git@github.com/x/evil.git#abc"}}}`,
			"src/index.ts":      "export async function syncTickets() {}"}, "install", "dependencies.evil", ""},
		{"a dependency linked from a folder", map[string]string{
			"package.json":      `{"name":"s","dependencies":{"local":"file:../local"}}`,
			"package-lock.json": `{"lockfileVersion":3,"packages":{"":{},"node_modules/local":{"resolved":"../local","link":true}}}`,
			"src/index.ts":      "export async function syncTickets() {}"}, "install", "dependencies.local", ""},
		// Hostile: each tries to bring a host file into the bundle. The container holds nothing
		// of the host's, and the bundler's plugin and tsconfig refuse what lies outside the
		// submission anyway (grader/bundler's tests show that wall on its own).
		{"an import of a host file as text", map[string]string{"package.json": pkg,
			"src/index.ts": `import k from "` + secretPath + `" with { type: "text" };
export async function syncTickets() { throw new Error(k); }`}, "bundle", "does not compile", "src/index.ts:1:"},
		{"an import of the grader's environment", map[string]string{"package.json": pkg,
			"src/index.ts": `import k from "/proc/self/environ" with { type: "text" };
export async function syncTickets() { throw new Error(k); }`}, "bundle", "does not compile", "outside the submission"},
		{"tsconfig paths pointing out", map[string]string{"package.json": pkg,
			"tsconfig.json": `{"compilerOptions": {"baseUrl": ".", "paths": {"secret": ["` + secretPath + `"]}}}`,
			"src/index.ts": `import k from "secret" with { type: "text" };
export async function syncTickets() { throw new Error(k); }`}, "bundle", "does not compile", "Could not resolve"},
		{"tsconfig extends pointing out", map[string]string{"package.json": pkg,
			"tsconfig.json": `{"extends": "` + filepath.Join(filepath.Dir(secretPath), "tsconfig.json") + `"}`,
			"src/index.ts": `import k from "secret" with { type: "text" };
export async function syncTickets() { throw new Error(k); }`}, "bundle", "does not compile", "Could not resolve"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			b, f, err := Prepare(context.Background(), sb, submission(t, tc.files), Options{Workdir: work, Registry: "http://127.0.0.1:1/"})
			require.NoError(t, err)
			require.Nil(t, b)
			require.NotNil(t, f)
			require.Equal(t, tc.stage, f.Stage, f.Summary)
			require.Contains(t, f.Summary, tc.summary)
			if tc.located != "" {
				require.NotEmpty(t, f.Messages)
				require.Contains(t, f.Messages[0].String(), tc.located)
			}
			require.NotContains(t, fmt.Sprint(f), word)
			requireNowhere(t, work, word)
		})
	}
}

// TestBundleRunsCommonJSAndTheDriver bundles a submission that pulls in a CommonJS module which
// requires a Node built-in (the case that breaks ESM bundles without the createRequire banner),
// runs the bundle with Node 24, and reads the driver's record.
func TestBundleRunsCommonJSAndTheDriver(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	src := submission(t, map[string]string{
		"package.json":   pkg,
		"src/legacy.cjs": `const util = require("util"); module.exports = (n) => util.format("%d created", n);`,
		"src/index.ts": `import say from "./legacy.cjs";
type SyncResult = { created: number; failed: { externalId: string; reason: string }[] };
export async function syncTickets(): Promise<SyncResult> { console.log(say(2)); return { created: 2, failed: [] }; }
`,
	})
	work := t.TempDir()
	b, f, err := Prepare(context.Background(), sb, src, Options{Workdir: work})
	require.NoError(t, err)
	require.Nil(t, f)
	entries, err := os.ReadDir(b.Dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the bundle directory holds one file")
	require.FileExists(t, filepath.Join(SourceDir(work), "src", "legacy.cjs"), "the static review reads the build's copy")
	last := runBundle(t, b)
	require.True(t, strings.HasPrefix(last, b.Marker+" "), last)
	require.Contains(t, last, `"kind":"resolved","result":{"created":2,"failed":[]}`)
}

// runBundle runs a bundle with Node 24 and returns its last line of output.
func runBundle(t *testing.T, b *Bundle) string {
	t.Helper()
	cmd := exec.Command(testenv.Node24(t), filepath.Join(b.Dir, Entry))
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// tarball is a package tarball as a registry serves it: gzipped tar, everything under package/.
type tarEntry struct {
	name, body string
	flag       byte
	link       string
}

func tarball(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.flag, Linkname: e.link}
		if e.flag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		require.NoError(t, tw.WriteHeader(h))
		if h.Size > 0 {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func integrity(b []byte) string {
	sum := sha512.Sum512(b)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// registry serves tarballs by path on loopback and counts requests.
func registry(t *testing.T, files map[string][]byte) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		body, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// forbidden is a listener a candidate names: any request to it fails the test.
func forbidden(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a candidate-chosen URL was contacted: %s %s", r.Method, r.URL)
		http.Error(w, "no", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func lockfile(name, version, integrity, resolved string) string {
	res := ""
	if resolved != "" {
		res = fmt.Sprintf(`, "resolved": %q`, resolved)
	}
	return fmt.Sprintf(`{"name": "s", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
  "": {"name": "s", "version": "1.0.0", "dependencies": {%q: "^%s"}},
  "node_modules/%s": {"version": %q, "integrity": %q%s}
}}`, name, version, name, version, integrity, res)
}

func dependent(name, version string) string {
	return fmt.Sprintf(`{"name": "s", "version": "1.0.0", "type": "module", "dependencies": {%q: "^%s"}}`, name, version)
}

// TestDependenciesComeFromTheConfiguredRegistryOnly: a locked dependency is fetched from the
// configured registry by name and version, verified, unpacked in the sandbox and bundled; the
// lockfile's resolved host is never contacted, and a package's links and escaping names never
// reach the tree.
func TestDependenciesComeFromTheConfiguredRegistryOnly(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	good := tarball(t,
		tarEntry{name: "package/package.json", body: `{"name": "greet", "version": "1.2.3", "type": "module", "main": "index.js"}`},
		tarEntry{name: "package/index.js", body: `export default (n) => "greeted " + n;`},
		tarEntry{name: "package/leak", flag: tar.TypeSymlink, link: "/etc/passwd"},
	)
	escaping := tarball(t,
		tarEntry{name: "package/package.json", body: `{"name": "greet", "version": "1.2.3", "main": "index.js"}`},
		tarEntry{name: "package/../../../escaped.js", body: `x`},
	)
	files := []tarEntry{{name: "package/package.json", body: `{"name": "greet", "version": "1.2.3", "main": "index.js"}`}}
	for i := range 100_000 {
		files = append(files, tarEntry{name: fmt.Sprintf("package/f/%d.js", i)})
	}
	huge := tarball(t, files...)
	srv, requests := registry(t, map[string][]byte{
		"greet/-/greet-1.2.3.tgz":   good,
		"escape/-/escape-1.2.3.tgz": escaping,
		"huge/-/huge-1.2.3.tgz":     huge,
	})
	elsewhere := forbidden(t)
	index := `import greet from "NAME"; export async function syncTickets() { console.log(greet(3)); return { created: 3, failed: [] }; }`
	cases := []struct {
		name, pkg, lock string
		stage, summary  string // "" when it builds
	}{
		{"a registry package whose resolved names another host", "greet",
			lockfile("greet", "1.2.3", integrity(good), elsewhere+"/greet/-/greet-1.2.3.tgz"), "", ""},
		{"a tarball whose integrity does not match", "greet",
			lockfile("greet", "1.2.3", integrity([]byte("something else")), ""), "install", "integrity"},
		{"a package tarball with names that climb out", "escape",
			lockfile("escape", "1.2.3", integrity(escaping), ""), "install", "node_modules/escape"},
		{"a package with 100,000 files", "huge",
			lockfile("huge", "1.2.3", integrity(huge), ""), "install", "caps"},
		{"a git dependency with an empty resolved", "evil",
			`{"lockfileVersion": 3, "packages": {"": {"dependencies": {"evil": "git+` + elsewhere + `/evil.git"}}, "node_modules/evil": {"version": "1.0.0"}}}`, "install", "evil"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pj := dependent(tc.pkg, "1.2.3")
			if tc.pkg == "evil" {
				pj = `{"name": "s", "version": "1.0.0", "dependencies": {"evil": "git+` + elsewhere + `/evil.git"}}`
			}
			src := submission(t, map[string]string{"package.json": pj, "package-lock.json": tc.lock,
				"src/index.ts": strings.ReplaceAll(index, "NAME", tc.pkg)})
			work := t.TempDir()
			b, f, err := Prepare(context.Background(), sb, src, Options{Workdir: work, Registry: srv.URL + "/", Cache: t.TempDir()})
			require.NoError(t, err)
			if tc.stage != "" {
				require.NotNil(t, f)
				require.Equal(t, tc.stage, f.Stage, f.Summary)
				require.Contains(t, f.Summary, tc.summary)
				require.NoFileExists(t, filepath.Join(work, "escaped.js"))
				return
			}
			require.Nil(t, f)
			require.Equal(t, []string{"greet@1.2.3"}, b.Dependencies)
			require.Contains(t, runBundle(t, b), `"created":3`)
			require.NoFileExists(t, filepath.Join(SourceDir(work), "node_modules", "greet", "leak"), "links in a tarball are dropped, as npm does")
			require.FileExists(t, filepath.Join(SourceDir(work), "node_modules", "greet", "index.js"))
		})
	}
	t.Cleanup(func() { require.Positive(t, requests.Load(), "the tarballs came from the configured registry") })
}

// fakeTool answers the bundler's run with a fixed result, for the outcomes a real container
// gives only at great cost (a time-out, an OOM kill, an output flood).
type fakeTool struct {
	res  *sandbox.ToolResult
	err  error
	spec sandbox.ToolSpec
}

func (f *fakeTool) Tool(_ context.Context, spec sandbox.ToolSpec) (*sandbox.ToolResult, error) {
	f.spec = spec
	return f.res, f.err
}

// TestTheBundlersEndsAreJudged: a bundler stopped at a limit is the submission's failure; a
// bundler that crashes or a sandbox that fails is the grader's error.
func TestTheBundlersEndsAreJudged(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		res     *sandbox.ToolResult
		err     error
		summary string // the failure's; "" for an error
		errText string
	}{
		{"stopped at the time limit", &sandbox.ToolResult{TimedOut: true, ExitCode: 137}, nil, "did not finish within 2m0s", ""},
		{"killed at the memory limit", &sandbox.ToolResult{OOMKilled: true, ExitCode: 137}, nil, "ran out of memory (1536 MiB)", ""},
		{"output over the cap", &sandbox.ToolResult{Stdout: sandbox.Output{Truncated: true}}, nil, "exceeds 256 MiB", ""},
		{"the bundler crashed", &sandbox.ToolResult{ExitCode: 2, Stderr: sandbox.Output{Data: []byte("panic: boom")}}, nil, "", "panic: boom"},
		{"output that is not a gzipped tar", &sandbox.ToolResult{Stdout: sandbox.Output{Data: []byte("not gzip")}}, nil, "", "read the bundler's output"},
		{"the sandbox failed", nil, errors.New("engine down"), "", "engine down"},
		// The container's output is data: a bundler turned hostile still writes nothing but
		// regular files and folders inside the work directory.
		{"output holding a link", &sandbox.ToolResult{Stdout: sandbox.Output{Data: tarball(t,
			tarEntry{name: "result.json", body: "{}"}, tarEntry{name: "bundle/main.mjs", flag: tar.TypeSymlink, link: "/etc/passwd"})}}, nil, "", "symbolic link"},
		{"output climbing out", &sandbox.ToolResult{Stdout: sandbox.Output{Data: tarball(t,
			tarEntry{name: "../../escaped", body: "x"})}}, nil, "", "read the bundler's output"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tool := &fakeTool{res: tc.res, err: tc.err}
			src := submission(t, map[string]string{"package.json": pkg, "src/index.ts": "export async function syncTickets() {}"})
			b, f, err := Prepare(context.Background(), tool, src, Options{Workdir: t.TempDir()})
			require.Nil(t, b)
			require.Equal(t, sandbox.GraderProgram, tool.spec.Program)
			require.Equal(t, []sandbox.Mount{{Host: src, Container: inSubmission}}, tool.spec.Mounts, "the submission, read-only, and nothing else")
			if tc.summary != "" {
				require.NoError(t, err)
				require.NotNil(t, f)
				require.Contains(t, f.Summary, tc.summary)
				return
			}
			require.Nil(t, f)
			require.ErrorContains(t, err, tc.errText)
		})
	}
}
