package static

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/similarity"
	"github.com/itsm-grader/grader/sandbox"
	"github.com/itsm-grader/grader/sandbox/sandboxtest"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestTokenizerTypeChecksItself: the tokenizer compiles under --strict with the pinned
// toolchain (run on the host's Node 24: it is our code).
func TestTokenizerTypeChecksItself(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tsc")
	}
	node, tc := testenv.Node24(t), testenv.TypeScript(t)
	dir := t.TempDir()
	require.NoError(t, os.Symlink(tc, filepath.Join(dir, "node_modules")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokens.ts"), []byte(tokenizerSource), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type":"module"}`), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(tc, "typescript", "bin", "tsc"), "--strict", "--noEmit", "--target", "es2024", "--lib", "es2024",
		"--module", "nodenext", "--moduleResolution", "nodenext", "--types", "node", "--skipLibCheck", "--noUnusedLocals", "tokens.ts")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

func TestTokenizerScriptIsJavaScript(t *testing.T) {
	t.Parallel()
	js, err := TokenizerScript()
	require.NoError(t, err)
	require.Contains(t, string(js), "function main()")
	require.NotContains(t, string(js), "import type", "types are stripped")
	require.Positive(t, tokenizerBatch)
	require.LessOrEqual(t, tokenizerBatch*MaxDocumentTokens*maxTokenJSON, tokenizerOutput, "a full batch fits the output limit")
}

// cannedTool answers every run with the same result.
type cannedTool struct{ res *sandbox.ToolResult }

func (c cannedTool) Tool(context.Context, sandbox.ToolSpec) (*sandbox.ToolResult, error) {
	return c.res, nil
}

// echoTool answers every run with one canned document per project on its command line, and
// records the runs.
type echoTool struct {
	mu    sync.Mutex
	runs  []sandbox.ToolSpec
	reply func(projects int) string
}

func (e *echoTool) Tool(_ context.Context, spec sandbox.ToolSpec) (*sandbox.ToolResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.runs = append(e.runs, spec)
	projects := 0
	for _, a := range spec.Command {
		if strings.HasPrefix(a, submissionDir+"/") {
			projects++
		}
	}
	out := e.reply(projects)
	return &sandbox.ToolResult{Stdout: sandbox.Output{Data: []byte(out), Total: int64(len(out))}}, nil
}

func cannedDocs(projects int, doc string) string {
	docs := make([]string, projects)
	for i := range docs {
		docs[i] = doc
	}
	return `{"tokenizer":1,"typescript":"6.0.3","documents":[` + strings.Join(docs, ",") + `]}`
}

func fakeToolchain(t *testing.T) string {
	t.Helper()
	toolchain := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(toolchain, "typescript"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(toolchain, "typescript", "package.json"), []byte(`{}`), 0o644))
	return toolchain
}

func TestTokenizerFailuresAreErrTokenizer(t *testing.T) {
	t.Parallel()
	toolchain := fakeToolchain(t)
	out := func(s string) sandbox.Output { return sandbox.Output{Data: []byte(s), Total: int64(len(s))} }
	file := func(path, tokens string) string {
		return `{"tokenizer":1,"typescript":"6","documents":[{"files":[{"path":` + path + `,"tokens":[` + tokens + `]}]}]}`
	}
	tooMany := strings.TrimSuffix(strings.Repeat(`{"k":"ID","l":1,"c":1},`, MaxDocumentTokens+1), ",")
	for name, res := range map[string]*sandbox.ToolResult{
		"crash":                    {ExitCode: 1, Stderr: out("TypeError: boom\n    at main")},
		"timeout":                  {TimedOut: true, ExitCode: 137},
		"out of memory":            {OOMKilled: true, ExitCode: 137},
		"not JSON":                 {Stdout: out("hello")},
		"unknown field":            {Stdout: out(`{"tokenizer":1,"typescript":"6","documents":[{"files":[],"evil":1}]}`)},
		"wrong version":            {Stdout: out(`{"tokenizer":2,"typescript":"6","documents":[{"files":[]}]}`)},
		"no document":              {Stdout: out(`{"tokenizer":1,"typescript":"6","documents":[]}`)},
		"a document named":         {Stdout: out(`{"tokenizer":1,"typescript":"6","documents":[{"name":"x","files":[]}]}`)},
		"truncated output":         {Stdout: sandbox.Output{Data: []byte(`{"tokenizer":1`), Total: 1 << 30, Truncated: true}},
		"an absolute path":         {Stdout: out(file(`"/etc/passwd"`, ""))},
		"a path out of the root":   {Stdout: out(file(`"../x.ts"`, ""))},
		"an empty path":            {Stdout: out(file(`""`, ""))},
		"a token without a kind":   {Stdout: out(file(`"a.ts"`, `{"k":"","l":1,"c":1}`))},
		"a token at line 0":        {Stdout: out(file(`"a.ts"`, `{"k":"ID","l":0,"c":1}`))},
		"a kind of control bytes":  {Stdout: out(file(`"a.ts"`, `{"k":"\u001b[2J","l":1,"c":1}`))},
		"a kind far too long":      {Stdout: out(file(`"a.ts"`, `{"k":"`+strings.Repeat("x", 100)+`","l":1,"c":1}`))},
		"more tokens than the cap": {Stdout: out(file(`"a.ts"`, tooMany))},
		"the same file twice": {Stdout: out(`{"tokenizer":1,"typescript":"6","documents":[{"files":[` +
			`{"path":"a.ts","tokens":[]},{"path":"a.ts","tokens":[]}]}]}`)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Tokens(context.Background(), cannedTool{res}, []string{t.TempDir()}, Options{Toolchain: toolchain})
			require.ErrorIs(t, err, ErrTokenizer)
		})
	}
	_, err := Tokens(context.Background(), cannedTool{&sandbox.ToolResult{}}, []string{t.TempDir()}, Options{Toolchain: t.TempDir()})
	require.ErrorIs(t, err, ErrNoToolchain)
	require.NotErrorIs(t, err, ErrTokenizer)
}

// TestTokensBatchesInOrder: a cohort larger than a container's batch is tokenized in several
// runs, and each document comes back under its own folder's name, in order.
func TestTokensBatchesInOrder(t *testing.T) {
	t.Parallel()
	tool := &echoTool{reply: func(n int) string {
		return cannedDocs(n, `{"files":[{"path":"src/index.ts","tokens":[{"k":"ID","l":1,"c":1}]}]}`)
	}}
	root := t.TempDir()
	var dirs []string
	for i := range 2*tokenizerBatch + 3 {
		dirs = append(dirs, filepath.Join(root, fmt.Sprintf("candidate-%03d", i)))
	}
	docs, err := Tokens(context.Background(), tool, dirs, Options{Toolchain: fakeToolchain(t)})
	require.NoError(t, err)
	require.Len(t, tool.runs, 3)
	require.Len(t, docs, len(dirs))
	for i, d := range docs {
		require.Equal(t, dirs[i], d.Name)
	}
	for _, run := range tool.runs {
		require.Equal(t, tokenizerOutput, run.Limits.OutputBytes)
		require.Contains(t, strings.Join(run.Command, " "), fmt.Sprintf("--max-tokens %d", MaxDocumentTokens))
	}
	empty, err := Tokens(context.Background(), tool, nil, Options{Toolchain: fakeToolchain(t)})
	require.NoError(t, err)
	require.Empty(t, empty)
}

// TestControlCharactersInNamesAreEscaped: a file name is the candidate's; it reaches a terminal
// or a report only escaped, and noted.
func TestControlCharactersInNamesAreEscaped(t *testing.T) {
	t.Parallel()
	tool := &echoTool{reply: func(n int) string {
		return cannedDocs(n, `{"files":[{"path":"src/\u001b[31mred\u0007.ts","tokens":[]}],"notes":["binary file (a NUL byte) left out: \u001b]0;x"]}`)
	}}
	docs, err := Tokens(context.Background(), tool, []string{t.TempDir()}, Options{Toolchain: fakeToolchain(t)})
	require.NoError(t, err)
	require.Equal(t, `src/\x1b[31mred\a.ts`, docs[0].Files[0].Path)
	require.Equal(t, []string{`binary file (a NUL byte) left out: \x1b]0;x`, `file name with control characters: src/\x1b[31mred\a.ts`}, docs[0].Notes)
}

// tricky is TypeScript that the scanner alone reads wrongly: template substitutions holding
// braces and templates, regular expressions beside divisions, comments everywhere.
const tricky = "// a comment\n" +
	"const re = /a\\/b[/]c/gi; const half = total / 2 / scale; // divisions\n" +
	"const t = `a${ { k: `in${z}ner` }.k }b${w}c`; /* block */\n" +
	"if (!/^x/.test(s)) { q /= 3; }\n" +
	"class A { #secret = 10n; get value(): number { return this.#secret > 1_000 ? 1 : 0; } }\n" +
	"export type R = { created: number; failed: { externalId: string }[] };\n" +
	"x.type = 'single' + \"double\";\n"

// TestTokensOnRealTypeScript runs the tokenizer in the sandbox over tricky code (pinned as a
// golden file) and over hostile submissions (empty, huge, binary, badly named, deeply nested,
// unterminated): each gives tokens or a note, never a failure, and comparing them stays fast.
func TestTokensOnRealTypeScript(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the TypeScript scanner in Docker")
	}
	sb := sandboxtest.New(t)
	root := t.TempDir()
	require.NoError(t, os.Chmod(root, 0o755))
	dirs := hostileSubmissions(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	docs, err := Tokens(ctx, sb, dirs, Options{Toolchain: testenv.TypeScript(t)})
	require.NoError(t, err)
	require.Len(t, docs, len(dirs))
	byName := map[string]similarity.Document{}
	for i, d := range docs {
		require.Equal(t, dirs[i], d.Name)
		byName[filepath.Base(d.Name)] = d
	}

	tokensGolden(t, "tokens.golden", renderTokens(byName["tricky"]))

	for _, c := range []struct {
		name  string
		files []string
		notes []string
	}{
		{"empty-folder", nil, []string{"no TypeScript source"}},
		{"empty-file", []string{"src/index.ts"}, nil},
		{"huge-file", []string{"src/index.ts"}, []string{"file over 2097152 bytes left out: src/huge.ts"}},
		{"one-token-file", []string{"src/index.ts"}, []string{"over 30000 tokens: cut in src/index.ts", "over 30000 tokens: left out src/later.ts"}},
		{"binary", []string{"src/index.ts"}, []string{"binary file (a NUL byte) left out: src/image.ts"}},
		{"control-name", []string{`src/\x1b[31mred\n.ts`}, []string{`file name with control characters: src/\x1b[31mred\n.ts`}},
		{"not-utf8-name", []string{"src/index.ts"}, []string{"unreadable file src/\ufffd.ts: "}},
		{"skipped", []string{"src/index.ts"}, nil},
		{"deep", []string{"src/index.ts"}, []string{"folders nested over 40 deep left out: src/" + strings.Repeat("d/", 39) + "d"}},
		{"garbage", []string{"src/index.ts"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := byName[c.name]
			var paths []string
			for _, f := range d.Files {
				paths = append(paths, f.Path)
			}
			require.Equal(t, c.files, paths)
			require.Len(t, d.Notes, len(c.notes), "%q", d.Notes)
			for i, n := range c.notes {
				require.True(t, strings.HasPrefix(d.Notes[i], n), "note %q, want %q…", d.Notes[i], n)
			}
		})
	}
	require.Len(t, byName["many-files"].Files, 2000)
	require.Equal(t, []string{"over 2000 source files: the rest left out"}, byName["many-files"].Notes)
	require.Len(t, byName["one-token-file"].Files[0].Tokens, MaxDocumentTokens)
	require.Empty(t, byName["empty-file"].Files[0].Tokens)
	require.NotEmpty(t, byName["garbage"].Files[0].Tokens)

	// Every document beside a copy of itself: the 30,000 identical tokens make 30,000
	// fingerprints of one hash, which must not be paired each with each.
	started := time.Now()
	pairs := similarity.Cohort(append(slices.Clone(docs), docs...), similarity.Index{}, 0)
	require.Less(t, time.Since(started), 20*time.Second, "comparing the hostile documents")
	t.Logf("%d pairs among %d hostile documents and their copies compared in %v", len(pairs), 2*len(docs), time.Since(started).Round(time.Millisecond))
	require.NotEmpty(t, pairs)
	for _, p := range pairs {
		require.Equal(t, p.Left.Name, p.Right.Name, "only copies match")
		require.Equal(t, 1.0, p.Similarity)
	}
}

// hostileSubmissions writes the submissions TestTokensOnRealTypeScript tokenizes, one folder
// each, and returns the folders.
func hostileSubmissions(t *testing.T, root string) []string {
	t.Helper()
	deep := "src/" + strings.Repeat("d/", 45) + "deep.ts"
	subs := map[string]map[string]string{
		"tricky":         {"src/index.ts": tricky, "src/view.tsx": "const v = <div className=\"x\">hi {name}</div>;\n", "src/lib.mts": "export default 1;\n"},
		"empty-folder":   {},
		"empty-file":     {"src/index.ts": ""},
		"huge-file":      {"src/index.ts": "export {};\n", "src/huge.ts": strings.Repeat("x ", 5<<19)},
		"one-token-file": {"src/index.ts": strings.Repeat("x ", 1_900_000/2), "src/later.ts": "const late = 1;\n"},
		"binary":         {"src/index.ts": "export {};\n", "src/image.ts": "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"},
		"control-name":   {"src/\x1b[31mred\n.ts": "const a = 1;\n"},
		"not-utf8-name":  {"src/index.ts": "export {};\n", "src/\xff.ts": "const b = 2;\n"},
		"skipped": {"src/index.ts": "export {};\n", "src/types.d.ts": "declare const x: number;\n", "src/plain.js": "var y = 1;\n",
			"node_modules/dep/index.ts": "export const dep = 1;\n", "src/notes.txt": "const z = 3;"},
		"deep":    {"src/index.ts": "export {};\n", deep: "const deep = 1;\n"},
		"garbage": {"src/index.ts": "`unterminated ${ {{{ /re\n}}}} ` \\u{110000} @#¤ \u2028 let 𝓍 = '\n"},
	}
	var dirs []string
	for name, files := range subs {
		dir := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for f, s := range files {
			p := filepath.Join(dir, f)
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		}
		dirs = append(dirs, dir)
	}
	many := filepath.Join(root, "many-files")
	for i := range 2005 {
		p := filepath.Join(many, "src", fmt.Sprintf("d%d", i%3), fmt.Sprintf("f%04d.ts", i))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("let a = 1;\n"), 0o644))
	}
	dirs = append(dirs, many)
	// A link out of the submission is not followed.
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(root, "skipped", "src", "passwd.ts")))
	return dirs
}

// renderTokens prints a document's tokens a source line to a line: "3: const@1 ID@7 =@10".
func renderTokens(d similarity.Document) []byte {
	var b bytes.Buffer
	for _, f := range d.Files {
		fmt.Fprintf(&b, "%s\n", f.Path)
		line := 0
		for _, tk := range f.Tokens {
			if tk.Line != line {
				if line != 0 {
					b.WriteString("\n")
				}
				line = tk.Line
				fmt.Fprintf(&b, "%3d:", line)
			}
			fmt.Fprintf(&b, " %s@%d", tk.Kind, tk.Col)
		}
		b.WriteString("\n")
	}
	notes, _ := json.Marshal(d.Notes)
	fmt.Fprintf(&b, "notes: %s\n", notes)
	return b.Bytes()
}

func tokensGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(p, got, 0o644))
	}
	want, err := os.ReadFile(p)
	require.NoError(t, err, "go test -update writes it")
	require.Equal(t, string(want), string(got), "testdata/%s (go test -update rewrites it)", name)
}
