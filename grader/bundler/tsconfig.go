package bundler

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxTsconfigBytes caps the candidate's tsconfig.json as read.
const maxTsconfigBytes = 256 << 10

// carried are the compiler options that change what esbuild emits, taken from the candidate's
// own tsconfig.json so the bundle means what their code means. Nothing that names a file is
// carried: no extends, paths, baseUrl, rootDirs or typeRoots (those could point esbuild outside
// the submission), and no tsconfig of another folder is read.
var carried = []string{
	"target", "useDefineForClassFields", "experimentalDecorators", "verbatimModuleSyntax",
	"preserveValueImports", "importsNotUsedAsValues", "alwaysStrict", "strict",
	"jsx", "jsxFactory", "jsxFragmentFactory", "jsxImportSource",
}

// graderTsconfig is the tsconfig esbuild is given: the carried options of the submission's root
// tsconfig.json where it has one that parses (with comments and trailing commas, as tsc
// allows), else none.
func graderTsconfig(src string) string {
	opts := map[string]json.RawMessage{}
	for k, v := range candidateOptions(filepath.Join(src, "tsconfig.json")) {
		for _, c := range carried {
			if strings.EqualFold(k, c) && scalar(v) {
				opts[c] = v
			}
		}
	}
	raw, _ := json.Marshal(map[string]any{"compilerOptions": opts})
	return string(raw)
}

func candidateOptions(file string) map[string]json.RawMessage {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxTsconfigBytes))
	if err != nil {
		return nil
	}
	var cfg struct {
		CompilerOptions map[string]json.RawMessage `json:"compilerOptions"`
	}
	if json.Unmarshal(stripJSONC(raw), &cfg) != nil {
		return nil
	}
	return cfg.CompilerOptions
}

// scalar is a JSON string, number or boolean: carried options are never objects or arrays.
func scalar(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	return s != "" && s[0] != '{' && s[0] != '[' && s != "null"
}

// stripJSONC removes comments and trailing commas outside strings, turning tsconfig's JSON with
// comments into JSON.
func stripJSONC(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(in) && in[j] != '"' {
				if in[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+1, len(in))
			out = append(out, in[i:end]...)
			i = end - 1
		case c == '/' && i+1 < len(in) && in[i+1] == '/':
			for i < len(in) && in[i] != '\n' {
				i++
			}
			i--
		case c == '/' && i+1 < len(in) && in[i+1] == '*':
			i += 2
			for i+1 < len(in) && !(in[i] == '*' && in[i+1] == '/') {
				i++
			}
			i++
		case c == ',' && nextSignificant(in, i+1) == '}' || c == ',' && nextSignificant(in, i+1) == ']':
			// a trailing comma: dropped
		default:
			out = append(out, c)
		}
	}
	return out
}

// nextSignificant is the next byte that is not white space or inside a comment.
func nextSignificant(in []byte, i int) byte {
	for i < len(in) {
		switch {
		case in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r':
			i++
		case in[i] == '/' && i+1 < len(in) && in[i+1] == '/':
			for i < len(in) && in[i] != '\n' {
				i++
			}
		case in[i] == '/' && i+1 < len(in) && in[i+1] == '*':
			i += 2
			for i+1 < len(in) && !(in[i] == '*' && in[i+1] == '/') {
				i++
			}
			i += 2
		default:
			return in[i]
		}
	}
	return 0
}
