package review

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"regexp"
	"strings"

	"github.com/itsm-grader/grader/grader/finding"
)

var credentialRule = Rule{
	ID: "static.hardcoded_credential", Title: "No credential is written into the code", Severity: finding.Critical, Critical: true,
	Indicator: finding.HardcodedOrLogged, Related: []string{"secrets.output"},
	Question: "Where should the tokens come from in production, and what would you do now that one has been committed?",
	Judge:    judgeCredentials,
}

// tokenShapes are credential formats recognisable on their own, whatever they are named.
var tokenShapes = []struct {
	what string
	re   *regexp.Regexp
}{
	{"a bearer token", regexp.MustCompile(`^(?i:bearer|token)\s+[A-Za-z0-9._~+/=-]{20,}$`)},
	{"a GitHub token", regexp.MustCompile(`^((ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})$`)},
	{"a live or test API key", regexp.MustCompile(`^(sk|pk|rk)_(live|test)_[A-Za-z0-9]{16,}$`)},
	{"a Slack token", regexp.MustCompile(`^xox[abposr]-[A-Za-z0-9-]{10,}$`)},
	{"an AWS access key id", regexp.MustCompile(`^AKIA[0-9A-Z]{16}$`)},
	{"a JSON Web Token", regexp.MustCompile(`^eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$`)},
	{"a live or production key", regexp.MustCompile(`^[A-Za-z0-9]{2,16}_(live|prod)_[A-Za-z0-9]{16,}$`)},
}

var (
	placeholder = regexp.MustCompile(`(?i)changeme|change-me|your[-_ ]|<[^>]*>|xxxx|placeholder|example|dummy|fake|redacted|\$\{|\{\{|process\.env`)
	envName     = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
)

// Thresholds of the high-entropy test: a 16-character random token of letters and digits has
// about 3.7 bits per character; English words and identifiers stay under 3.5.
const (
	minSecretLen     = 16
	minSecretEntropy = 3.5
)

func entropy(s string) float64 {
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	h := 0.0
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}

// credential says what a literal given to name looks like, or "".
func credential(name, value string) string {
	v := strings.TrimSpace(value)
	if v == "" || placeholder.MatchString(v) || strings.Contains(v, "://") || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") {
		return ""
	}
	for _, s := range tokenShapes {
		if s.re.MatchString(v) {
			return s.what
		}
	}
	if envName.MatchString(v) {
		return "" // ITSM_SOURCE_TOKEN: a variable's name, not its value
	}
	if !authLike(name) || len(v) < minSecretLen || strings.ContainsAny(v, " \t") {
		return ""
	}
	letters, digits := false, false
	for _, r := range v {
		letters = letters || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		digits = digits || (r >= '0' && r <= '9')
	}
	if letters && digits && entropy(v) >= minSecretEntropy {
		return fmt.Sprintf("a high-entropy string (%.1f bits a character) given to %s", entropy(v), name)
	}
	return ""
}

type credentialHit struct {
	file, what, value, source string
	line, col                 int
	test                      bool
}

// credentialsIn finds every credential in the code and the configuration files.
func credentialsIn(in *Input) []credentialHit {
	var hits []credentialHit
	for _, s := range in.Facts.Strings {
		if what := credential(s.Name, s.Value); what != "" {
			hits = append(hits, credentialHit{file: s.File, line: s.Line, col: s.Col, what: what, value: s.Value, source: s.Text, test: s.Test})
		}
	}
	return append(hits, scanConfigFiles(in.Sources)...)
}

// credentialValues are the credentials' values, masked wherever any finding quotes them.
func credentialValues(in *Input) []string {
	var out []string
	for _, h := range credentialsIn(in) {
		out = append(out, h.value)
	}
	return out
}

func judgeCredentials(in *Input) finding.Judgement {
	hits := credentialsIn(in)
	if len(hits) == 0 {
		return finding.Judged(finding.Pass, "no token-shaped literal and no high-entropy string given to a credential's name in %s or in the package's configuration files",
			plural(len(in.Facts.Files), "source file", "source files"))
	}
	j := finding.Judged(finding.Fail, "%s in the submission: %s at %s", plural(len(hits), "credential is written", "credentials are written"), hits[0].what, where(hits[0].file, hits[0].line))
	tests := 0
	for _, h := range hits {
		text := h.what
		if h.test {
			tests++
			text += " (test code: still committed, still a leaked credential)"
		}
		j = j.With(located(h.file, h.line, h.col, text, h.source))
	}
	return j.Measure("credentials", float64(len(hits))).Measure("in_test_code", float64(tests))
}

// Files the code's scan does not cover but candidates put credentials in.
const (
	maxConfigFiles     = 200
	maxConfigFileBytes = 256 << 10
)

var skipDirs = map[string]bool{"node_modules": true, ".git": true, "dist": true, "build": true, "coverage": true, "out": true, ".cache": true}

func configFile(name string) bool {
	switch {
	case name == "package-lock.json" || name == "npm-shrinkwrap.json" || name == "expected.yaml":
		return false
	case strings.HasPrefix(name, ".env"), name == ".npmrc":
		return true
	}
	ext := path.Ext(name)
	return ext == ".json" || ext == ".yaml" || ext == ".yml"
}

var assignment = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z0-9_./:@-]+)\s*[=:]\s*["']?([^"'#\s]+)["']?\s*(?:#.*)?$`)

// scanConfigFiles reads the gathered .env, .npmrc, JSON and YAML files for credentials.
func scanConfigFiles(src *Sources) []credentialHit {
	if src == nil {
		return nil
	}
	var hits []credentialHit
	for _, f := range src.ConfigFiles {
		if f.Skipped != "" {
			continue
		}
		data := []byte(f.Data)
		test := testPath(f.Path)
		if path.Ext(f.Path) == ".json" {
			hits = append(hits, scanJSON(f.Path, data, test)...)
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), maxConfigFileBytes)
		for line := 1; sc.Scan(); line++ {
			m := assignment.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			if what := credential(m[1], m[2]); what != "" {
				hits = append(hits, credentialHit{file: f.Path, line: line, col: 1, what: what, value: m[2], source: sc.Text(), test: test})
			}
		}
	}
	return hits
}

func scanJSON(rel string, data []byte, test bool) []credentialHit {
	var doc any
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	var hits []credentialHit
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(k, e)
			}
		case []any:
			for _, e := range x {
				walk(key, e)
			}
		case string:
			if what := credential(key, x); what != "" {
				line, src := lineOf(data, x)
				hits = append(hits, credentialHit{file: rel, line: line, col: 1, what: what, value: x, source: src, test: test})
			}
		}
	}
	walk("", doc)
	return hits
}

// lineOf finds the line a JSON string value sits on.
func lineOf(data []byte, value string) (int, string) {
	i := bytes.Index(data, []byte(value))
	if i < 0 {
		return 0, ""
	}
	start := bytes.LastIndexByte(data[:i], '\n') + 1
	end := bytes.IndexByte(data[i:], '\n')
	if end < 0 {
		end = len(data) - i
	}
	return bytes.Count(data[:i], []byte("\n")) + 1, strings.TrimSpace(string(data[start : i+end]))
}

var testPathRE = regexp.MustCompile(`(^|/)(test|tests|__tests__|spec|specs|fixtures|__fixtures__|__mocks__)/|\.(test|spec)\.[cm]?[jt]sx?$`)

// testPath is the analyzer's test-code rule (analyzer.ts: TEST_PATH).
func testPath(rel string) bool { return testPathRE.MatchString(rel) }
