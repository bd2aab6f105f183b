package judge

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "record the rules' hash for the current RulesVersion")

// rulesFiles hold what decides a verdict: the checks and their thresholds, the review's rules
// and join, the finding type, the scoring (report.go: the writers only render) and the judging
// itself.
var rulesFiles = []string{"../checks/*.go", "../review/*.go", "../finding/*.go", "../report/report.go", "*.go"}

// TestRulesVersionNamesTheRules: RulesVersion must change whenever the code that decides
// verdicts changes (comments and layout aside), so that reports and stored evidence name the
// rules that judged them. testdata/rules.golden records the version and the hash of that code;
// after changing the rules, give RulesVersion a new value and run go test ./grader/judge -update.
func TestRulesVersionNamesTheRules(t *testing.T) {
	hash := rulesHash(t)
	golden := filepath.Join("testdata", "rules.golden")
	want := fmt.Sprintf("%s %s\n", RulesVersion, hash)
	if *update {
		recorded, _ := os.ReadFile(golden)
		if v, h, ok := strings.Cut(strings.TrimSpace(string(recorded)), " "); ok && v == RulesVersion && h != hash {
			t.Fatalf("the rules changed but RulesVersion is still %s: give it a new value first", RulesVersion)
		}
		require.NoError(t, os.WriteFile(golden, []byte(want), 0o644))
	}
	recorded, err := os.ReadFile(golden)
	require.NoError(t, err)
	v, h, _ := strings.Cut(strings.TrimSpace(string(recorded)), " ")
	switch {
	case v == RulesVersion && h != hash:
		t.Fatalf("the rules changed but RulesVersion is still %s: give it a new value, then run go test ./grader/judge -update", RulesVersion)
	case v != RulesVersion:
		t.Fatalf("RulesVersion is %s but testdata/rules.golden records %s: run go test ./grader/judge -update", RulesVersion, v)
	}
}

// rulesHash hashes the tokens of the rules packages' Go files (tests excepted): comments and
// layout do not change it, code does.
func rulesHash(t *testing.T) string {
	t.Helper()
	var files []string
	for _, pattern := range rulesFiles {
		matches, err := filepath.Glob(pattern)
		require.NoError(t, err)
		for _, m := range matches {
			if !strings.HasSuffix(m, "_test.go") {
				files = append(files, m)
			}
		}
	}
	sort.Strings(files)
	h := sha256.New()
	fset := token.NewFileSet()
	for _, name := range files {
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		var s scanner.Scanner
		s.Init(fset.AddFile(name, fset.Base(), len(src)), src, nil, 0)
		fmt.Fprintf(h, "%s\x00", filepath.Base(name))
		for {
			_, tok, lit := s.Scan()
			if tok == token.EOF {
				break
			}
			if tok == token.SEMICOLON && lit == "\n" {
				continue // an inserted semicolon: layout
			}
			fmt.Fprintf(h, "%d %s\x00", tok, lit)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
