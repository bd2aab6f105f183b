package static

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/itsm-grader/grader/grader/similarity"
	"github.com/itsm-grader/grader/sandbox"
)

//go:embed tokens/tokens.ts
var tokenizerSource string

// Paths inside the tokenizer's container.
const tokenizerDir = "/opt/itsm-tokenizer"

// Bounds of a tokenizer run. A token prints as at most 45 bytes of JSON (the longest keyword,
// line and column of a 2 MiB file); a document is cut at MaxDocumentTokens (a client of 4,000
// lines; the corpus's largest has 6,000 tokens), so tokenizerBatch documents always fit the
// tool's output limit and one container serves a cohort of that many.
const (
	// MaxDocumentTokens is where a submission's token stream is cut (with a note).
	MaxDocumentTokens = 30_000
	maxTokenJSON      = 45
	tokenizerOutput   = 64 << 20
	tokenizerBatch    = tokenizerOutput / (MaxDocumentTokens * maxTokenJSON)
)

// ErrTokenizer marks the tokenizer's own failures (a crash, a timeout, unreadable output):
// similarity could not be computed, but grading can go on.
var ErrTokenizer = errors.New("similarity tokenizer failed")

// TokenizerScript is the tokenizer as JavaScript for Node 24: its types stripped by esbuild.
func TokenizerScript() ([]byte, error) {
	res := api.Transform(tokenizerSource, api.TransformOptions{
		Loader: api.LoaderTS, Format: api.FormatESModule, Target: api.ES2024, Platform: api.PlatformNode, Sourcefile: "tokens.ts",
	})
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("transform tokenizer: %s:%d: %s", res.Errors[0].Location.File, res.Errors[0].Location.Line, res.Errors[0].Text)
	}
	return res.Code, nil
}

// Tokens reads the TypeScript of each submission in dirs with the pinned compiler's scanner, in
// the sandbox (one container for up to tokenizerBatch submissions), and returns a document per
// dir, in order, named by the dir as given. Identifiers come back as ID, literals as LIT,
// keywords and punctuation as their text; comments are gone. What the tokenizer skipped (a file
// too large, binary, a name with control characters) is in the document's Notes. The error is
// about tokenizing failing to run (no toolchain, the engine; ErrTokenizer: the tokenizer itself).
// Only opts.Toolchain is read.
func Tokens(ctx context.Context, tool Tool, dirs []string, opts Options) ([]similarity.Document, error) {
	if _, err := os.Stat(filepath.Join(opts.Toolchain, "typescript", "package.json")); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoToolchain, opts.Toolchain)
	}
	script, err := TokenizerScript()
	if err != nil {
		return nil, err
	}
	stage, err := stageScript(script, "tokens.mjs")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	var docs []similarity.Document
	for start := 0; start < len(dirs); start += tokenizerBatch {
		batch := dirs[start:min(start+tokenizerBatch, len(dirs))]
		got, err := tokenize(ctx, tool, stage, batch, opts.Toolchain)
		if err != nil {
			return nil, err
		}
		docs = append(docs, got...)
	}
	return docs, nil
}

// stageScript writes a script into a fresh folder the container's user can read.
func stageScript(script []byte, name string) (string, error) {
	stage, err := os.MkdirTemp("", "itsm-tokenizer-")
	if err != nil {
		return "", fmt.Errorf("stage tokenizer: %w", err)
	}
	if err := os.Chmod(stage, 0o755); err != nil {
		return "", errors.Join(fmt.Errorf("stage tokenizer: %w", err), os.RemoveAll(stage))
	}
	if err := os.WriteFile(filepath.Join(stage, name), script, 0o644); err != nil {
		return "", errors.Join(fmt.Errorf("stage tokenizer: %w", err), os.RemoveAll(stage))
	}
	return stage, nil
}

func tokenize(ctx context.Context, tool Tool, stage string, dirs []string, toolchain string) ([]similarity.Document, error) {
	toolchain, err := filepath.Abs(toolchain)
	if err != nil {
		return nil, err
	}
	mounts := []sandbox.Mount{{Host: stage, Container: tokenizerDir}, {Host: toolchain, Container: toolchainDir}}
	cmd := []string{tokenizerDir + "/tokens.mjs", "--typescript", toolchainDir, "--max-tokens", strconv.Itoa(MaxDocumentTokens)}
	for i, d := range dirs {
		src, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		at := fmt.Sprintf("%s/%d", submissionDir, i)
		mounts = append(mounts, sandbox.Mount{Host: src, Container: at})
		cmd = append(cmd, at)
	}
	limits := sandbox.ToolLimits()
	limits.OutputBytes = tokenizerOutput
	res, err := tool.Tool(ctx, sandbox.ToolSpec{Mounts: mounts, Command: cmd, Limits: limits})
	if err != nil {
		return nil, fmt.Errorf("run tokenizer: %w", err)
	}
	docs, err := decodeTokens(res, len(dirs))
	if err != nil {
		return nil, err
	}
	for i := range docs {
		docs[i].Name = dirs[i]
	}
	return docs, nil
}

// tokensOutput is what tokens.ts prints.
type tokensOutput struct {
	Tokenizer  int                   `json:"tokenizer"`
	TypeScript string                `json:"typescript"`
	Documents  []similarity.Document `json:"documents"`
}

func decodeTokens(res *sandbox.ToolResult, projects int) ([]similarity.Document, error) {
	if err := toolFailure(res, ErrTokenizer); err != nil {
		return nil, err
	}
	var out tokensOutput
	dec := json.NewDecoder(bytes.NewReader(res.Stdout.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("%w: unreadable tokens: %w", ErrTokenizer, err)
	}
	if out.Tokenizer != 1 || len(out.Documents) != projects {
		return nil, fmt.Errorf("%w: tokens version %d with %d documents, want version 1 with %d", ErrTokenizer, out.Tokenizer, len(out.Documents), projects)
	}
	for i := range out.Documents {
		if err := checkDocument(&out.Documents[i]); err != nil {
			return nil, fmt.Errorf("%w: document %d: %w", ErrTokenizer, i, err)
		}
	}
	return out.Documents, nil
}

// checkDocument holds the tokenizer to its contract (relative paths, each once; kinds short and
// printable; positions from 1; at most MaxDocumentTokens) and makes names and notes safe to
// print: a control character in a file's name is escaped, and noted.
func checkDocument(doc *similarity.Document) error {
	if doc.Name != "" {
		return errors.New("the tokenizer does not name documents")
	}
	seen := map[string]bool{}
	tokens := 0
	for i := range doc.Files {
		f := &doc.Files[i]
		if f.Path == "" || path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || strings.HasPrefix(f.Path, "../") || seen[f.Path] {
			return fmt.Errorf("file path %q", f.Path)
		}
		seen[f.Path] = true
		if printable(f.Path) != f.Path {
			f.Path = printable(f.Path)
			doc.Notes = append(doc.Notes, "file name with control characters: "+f.Path)
		}
		for _, t := range f.Tokens {
			if t.Kind == "" || len(t.Kind) > 16 || printable(t.Kind) != t.Kind || t.Line < 1 || t.Col < 1 {
				return fmt.Errorf("token %q at %d:%d of %s", t.Kind, t.Line, t.Col, f.Path)
			}
		}
		tokens += len(f.Tokens)
	}
	if tokens > MaxDocumentTokens {
		return fmt.Errorf("%d tokens, over the cap of %d", tokens, MaxDocumentTokens)
	}
	for i, n := range doc.Notes {
		doc.Notes[i] = printable(n)
	}
	return nil
}

// printable escapes control characters as Go quotes them (\x1b, \n, \u0085).
func printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
