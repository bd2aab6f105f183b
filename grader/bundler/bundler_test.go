package bundler

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// write lays out files (relative path -> content) under dir.
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func secret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "HOSTSECRET" + hex.EncodeToString(b)
}

// bundleOf runs the bundler in-process on a submission and returns its result and everything it
// streamed back, as one string.
func bundleOf(t *testing.T, files map[string]string) (*Result, string) {
	t.Helper()
	sub := filepath.Join(t.TempDir(), "submission")
	write(t, sub, files)
	work := t.TempDir()
	res, err := Run(Options{Submission: sub, Work: work, Marker: "@@m"})
	require.NoError(t, err)
	var stream bytes.Buffer
	require.NoError(t, Stream(&stream, work, res))
	return res, streamText(t, stream.Bytes())
}

func streamText(t *testing.T, gz []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	var all strings.Builder
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		require.Contains(t, []byte{tar.TypeReg, tar.TypeDir}, h.Typeflag, h.Name)
		all.WriteString(h.Name + "\n")
		_, err = io.Copy(&all, tr)
		require.NoError(t, err)
	}
	return all.String()
}

const pkg = `{"name": "s", "version": "1.0.0", "type": "module"}`

// TestConfinedToTheSubmission: whatever the candidate imports or configures, no file outside the
// submission's root reaches the bundle. These run the bundler in-process, where the host's files
// exist, so the plugin and the grader's tsconfig are what stops them (the container is the
// other wall, tested in grader/prepare).
func TestConfinedToTheSubmission(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	word := secret(t)
	write(t, outside, map[string]string{
		"secret.txt":                     word,
		"tsconfig.json":                  `{"compilerOptions": {"baseUrl": ".", "paths": {"secret": ["./secret.txt"]}}}`,
		"node_modules/evil/index.js":     `export default "` + word + `";`,
		"node_modules/evil/package.json": `{"name": "evil", "version": "1.0.0", "main": "index.js"}`,
	})
	secretPath := filepath.Join(outside, "secret.txt")
	climb := strings.Repeat("../", 40) + strings.TrimPrefix(secretPath, "/")
	cases := []struct {
		name  string
		files map[string]string
		want  string // in the failure's messages
	}{
		{"an absolute import of a host file as text", map[string]string{
			"src/index.ts": `import k from "` + secretPath + `" with { type: "text" };
export async function syncTickets() { throw new Error(k); }`}, "outside the submission"},
		{"the process's own environment", map[string]string{
			"src/index.ts": `import k from "/proc/self/environ" with { type: "text" };
export async function syncTickets() { throw new Error(k); }`}, "outside the submission"},
		{"a relative import climbing out", map[string]string{
			"src/index.ts": `import k from "` + climb + `" with { type: "text" };
export async function syncTickets() { throw new Error(k); }`}, "outside the submission"},
		{"tsconfig paths pointing out", map[string]string{
			"tsconfig.json": `{"compilerOptions": {"baseUrl": ".", "paths": {"secret": ["` + secretPath + `"]}}}`,
			"src/index.ts": `import k from "secret" with { type: "text" };
export async function syncTickets() { throw new Error(k); }`}, "Could not resolve"},
		{"tsconfig extends pointing out", map[string]string{
			"tsconfig.json": `{"extends": "` + filepath.Join(outside, "tsconfig.json") + `"}`,
			"src/index.ts": `import k from "secret" with { type: "text" };
export async function syncTickets() { throw new Error(k); }`}, "Could not resolve"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"package.json": pkg}
			for k, v := range tc.files {
				files[k] = v
			}
			res, streamed := bundleOf(t, files)
			require.NotNil(t, res.Failure, "the build must fail")
			require.NotContains(t, streamed, word, "no host text in anything streamed back")
			raw, _ := json.Marshal(res)
			require.NotContains(t, string(raw), word)
			if tc.want != "" {
				require.Contains(t, string(raw), tc.want)
			}
		})
	}
}

// TestBareImportsAreNotFoundAboveTheRoot: a node_modules above the submission (as the host's
// checkout had) is not a place dependencies come from.
func TestBareImportsAreNotFoundAboveTheRoot(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	word := secret(t)
	write(t, parent, map[string]string{
		"node_modules/evil/index.js":     `export default "` + word + `";`,
		"node_modules/evil/package.json": `{"name": "evil", "version": "1.0.0", "main": "index.js"}`,
		"submission/package.json":        pkg,
		"submission/src/index.ts":        `import k from "evil"; export async function syncTickets() { throw new Error(k); }`,
	})
	work := t.TempDir()
	res, err := Run(Options{Submission: filepath.Join(parent, "submission"), Work: work, Marker: "@@m"})
	require.NoError(t, err)
	var stream bytes.Buffer
	require.NoError(t, Stream(&stream, work, res))
	require.NotNil(t, res.Failure)
	require.NotContains(t, streamText(t, stream.Bytes()), word)
}

func TestCarriedTsconfigOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, map[string]string{"tsconfig.json": `// a comment
{
  "extends": "../../x.json", /* ignored */
  "compilerOptions": {
    "target": "es2020", // carried
    "experimentalDecorators": true,
    "paths": {"a": ["/etc/passwd"]},
    "baseUrl": "/",
    "strict": true,
  },
}`})
	var got struct {
		CompilerOptions map[string]any `json:"compilerOptions"`
	}
	require.NoError(t, json.Unmarshal([]byte(graderTsconfig(dir)), &got))
	require.Equal(t, map[string]any{"target": "es2020", "experimentalDecorators": true, "strict": true}, got.CompilerOptions)
}

func TestAGoodSubmissionStreamsItsBundleAndSource(t *testing.T) {
	t.Parallel()
	res, streamed := bundleOf(t, map[string]string{
		"package.json":  pkg,
		"tsconfig.json": `{"compilerOptions": {"target": "es2024"}}`,
		"src/map.ts":    `export const label = (n: number): string => "n=" + n;`,
		"src/index.ts":  `import { label } from "./map.ts"; export async function syncTickets() { console.log(label(1)); return { created: 0, failed: [] }; }`,
	})
	require.Nil(t, res.Failure)
	for _, name := range []string{ResultName, BundleDir + "/" + Entry, SourceDir + "/src/index.ts", SourceDir + "/package.json"} {
		require.Contains(t, streamed, name+"\n")
	}
	require.Contains(t, streamed, `"@@m"`, "the driver carries the marker")
	require.NotContains(t, streamed, SourceDir+"/"+driverName+"\n", "the driver never lands in the tree")
}
