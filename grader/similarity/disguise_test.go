package similarity_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// keywords are TypeScript's keywords, contextual ones included: the scanner reads them as
// keywords wherever they appear, so a disguise that renamed one would change the tokens, not
// hide them.
var keywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`abstract accessor any as assert asserts async await bigint boolean break case catch class
		const constructor continue debugger declare default defer delete do else enum export extends false finally for from
		function get global if implements import in infer instanceof interface intrinsic is keyof let module namespace never
		new null number object of out override package private protected public readonly require return satisfies set static
		string super switch symbol this throw true try type typeof undefined unique unknown using var void while with yield`) {
		keywords[k] = true
	}
}

// disguise is what a copier does to hide a copy without changing what it does: every
// identifier renamed (consistently), every string and template text rewritten, every comment
// replaced, and the top-level declarations put in the opposite order (imports stay first).
func disguise(src string) string {
	chunks := topLevel(src)
	slices.Reverse(chunks[1:])
	d := &disguiser{names: map[string]string{}}
	var out strings.Builder
	for i, c := range chunks {
		fmt.Fprintf(&out, "/* part %d of the sync, in the order I wrote it */\n", len(chunks)-i)
		out.WriteString(d.rewrite(c))
		out.WriteString("\n")
	}
	return out.String()
}

// topLevel splits a prettier-formatted file into its imports and then its top-level
// declarations: a chunk starts at a line at column 0 that begins a declaration, and takes the
// comments right above it along.
func topLevel(src string) []string {
	lines := strings.Split(src, "\n")
	starts := []string{"export ", "const ", "type ", "interface ", "class ", "function ", "async function ", "let "}
	var chunks []string
	begin, pendingComment := 0, -1
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "//") || strings.HasPrefix(l, "/*"):
			if pendingComment < 0 {
				pendingComment = i
			}
		case slices.ContainsFunc(starts, func(s string) bool { return strings.HasPrefix(l, s) }):
			at := i
			if pendingComment >= 0 {
				at = pendingComment
			}
			if at > begin {
				chunks = append(chunks, strings.Join(lines[begin:at], "\n"))
				begin = at
			}
			pendingComment = -1
		case strings.TrimSpace(l) != "" && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "*"):
			pendingComment = -1
		}
	}
	return append(chunks, strings.Join(lines[begin:], "\n"))
}

type disguiser struct {
	names map[string]string
	texts int
}

func (d *disguiser) name(id string) string {
	if keywords[id] {
		return id
	}
	if n, ok := d.names[id]; ok {
		return n
	}
	d.names[id] = fmt.Sprintf("q%dx", len(d.names))
	return d.names[id]
}

func (d *disguiser) text() string {
	d.texts++
	return fmt.Sprintf("text %d", d.texts)
}

// rewrite lexes just enough TypeScript: comments, strings, templates (their substitutions
// rewritten in turn), regular expressions (a slash where an expression may start), numbers and
// identifiers.
func (d *disguiser) rewrite(src string) string {
	var out strings.Builder
	last := byte('(') // the last significant character: a slash after it starts a regex
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			out.WriteString("// reworded")
			continue
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			i += end + 4
			out.WriteString("/* reworded */")
			continue
		case c == '"' || c == '\'':
			j := i + 1
			for src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			out.WriteString(`"` + d.text() + `"`)
			i = j + 1
		case c == '`':
			n := d.template(src[i:], &out)
			i += n
		case c == '/' && !strings.ContainsRune("_$)]}", rune(last)) && !isWord(last):
			j := i + 1
			for inClass := false; src[j] != '/' || inClass; j++ {
				switch src[j] {
				case '\\':
					j++
				case '[':
					inClass = true
				case ']':
					inClass = false
				}
			}
			j++
			for j < len(src) && isWord(src[j]) {
				j++
			}
			out.WriteString(src[i:j])
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (isWord(src[j]) || src[j] == '.') {
				j++
			}
			out.WriteString(src[i:j])
			i = j
		case isWord(c) || c == '$' || c == '#':
			j := i + 1
			for j < len(src) && (isWord(src[j]) || src[j] == '$') {
				j++
			}
			if c == '#' {
				out.WriteString("#" + d.name(src[i+1:j]))
			} else {
				out.WriteString(d.name(src[i:j]))
			}
			i = j
		default:
			out.WriteByte(c)
			i++
			if c != ' ' && c != '\n' && c != '\t' {
				last = c
			}
			continue
		}
		last = 'a'
	}
	return out.String()
}

// template rewrites a template literal at the start of src and returns its length. A brace
// inside a string inside a substitution would end the substitution early: the corpus has none,
// and the test's check that the copy's tokens are the original's would catch one.
func (d *disguiser) template(src string, out *strings.Builder) int {
	out.WriteString("`" + d.text())
	i := 1
	for src[i] != '`' {
		switch {
		case src[i] == '\\':
			i += 2
		case strings.HasPrefix(src[i:], "${"):
			depth, j := 1, i+2
			for ; depth > 0; j++ {
				switch src[j] {
				case '{':
					depth++
				case '}':
					depth--
				}
			}
			out.WriteString("${" + d.rewrite(src[i+2:j-1]) + "}" + d.text())
			i = j
		default:
			i++
		}
	}
	out.WriteString("`")
	return i + 1
}

func isWord(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func TestDisguiseRenamesRewordsAndReorders(t *testing.T) {
	t.Parallel()
	src := "import { a } from \"x\";\n\n// helper\nfunction one(n: number): string {\n  return `v${n / 2}` + 'it\\'s' + /a\\/b/g.source;\n}\n\nconst two = one(4);\n"
	got := disguise(src)
	require.NotContains(t, got, "one", "identifiers renamed")
	require.NotContains(t, got, "helper", "comments replaced")
	require.NotContains(t, got, "it\\'s", "strings rewritten")
	require.Contains(t, got, "/a\\/b/g", "a regular expression is kept whole")
	require.Contains(t, got, "/ 2", "a division is not a regular expression")
	require.Less(t, strings.Index(got, "const q"), strings.Index(got, "function q"), "declarations reversed")
	require.Less(t, strings.Index(got, "import"), strings.Index(got, "const q"), "imports first")
}
