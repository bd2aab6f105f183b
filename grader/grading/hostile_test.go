package grading_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/grading"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/sandbox/sandboxtest"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// TestHostileSubmissionsGetAReportAndLeaveTheHostUnchanged grades submissions that attack the
// grader before anything runs: each gets a report whose build.contract fails (never a grader
// error), no host text reaches any of the four reports, and no host file is written.
func TestHostileSubmissionsGetAReportAndLeaveTheHostUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("grades in Docker")
	}
	sb := sandboxtest.New(t)
	host := t.TempDir()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	word := "HOSTSECRET" + hex.EncodeToString(b)
	secret := filepath.Join(host, "secret.txt")
	require.NoError(t, os.WriteFile(secret, []byte(word), 0o644))
	victim := filepath.Join(host, "victim")
	require.NoError(t, os.WriteFile(victim, []byte("unchanged"), 0o644))
	const pkg = `{"name": "s", "version": "1.0.0", "type": "module"}`
	cases := []struct {
		name  string
		files map[string]string
		links map[string]string // link -> target, made after the files
		stage string
	}{
		{name: "an import of a host file as text", stage: "bundle", files: map[string]string{"package.json": pkg,
			"src/index.ts": `import k from "` + secret + `" with { type: "text" };
export async function syncTickets() { throw new Error(k); }`}},
		{name: "tsconfig paths pointing at a host file", stage: "bundle", files: map[string]string{"package.json": pkg,
			"tsconfig.json": `{"compilerOptions": {"baseUrl": ".", "paths": {"s": ["` + secret + `"]}}}`,
			"src/index.ts": `import k from "s" with { type: "text" };
export async function syncTickets() { throw new Error(k); }`}},
		// The chain: a link that stays in the tree lexically, and a second one through it
		// that resolves to a host file. The old build wrote its driver through such a chain.
		{name: "a chain of symbolic links to a host file", stage: "intake", files: map[string]string{"package.json": pkg,
			"src/index.ts": "export async function syncTickets() { return { created: 0, failed: [] }; }"},
			links: map[string]string{"a/b/r": "../..", "__itsm_grader_driver__.mjs": "a/b/r/" + rel(t, victim)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sub := t.TempDir()
			for name, content := range tc.files {
				p := filepath.Join(sub, name)
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
			}
			for link, target := range tc.links {
				p := filepath.Join(sub, link)
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.Symlink(target, p))
			}
			rep, err := grading.Grade(context.Background(), grading.Options{Source: sub, Sandbox: sb, Toolchain: testenv.TypeScript(t)})
			require.NoError(t, err, "a hostile submission is a finding, not a grader error")
			contract := rep.Finding("build.contract")
			require.NotNil(t, contract)
			require.Equal(t, finding.Fail, contract.Verdict)
			require.Equal(t, tc.stage, rep.Build.Stage, rep.Build.Summary)
			for name, text := range reports(t, rep) {
				require.NotContains(t, text, word, "host text in %s", name)
			}
			got, err := os.ReadFile(victim)
			require.NoError(t, err)
			require.Equal(t, "unchanged", string(got))
		})
	}
}

// rel climbs from inside the chain's "../.." link to the file system's root and down to target.
func rel(t *testing.T, target string) string {
	t.Helper()
	return strings.Repeat("../", 40) + strings.TrimPrefix(target, "/")
}

// reports renders the four reports.
func reports(t *testing.T, rep *report.Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"report.json":  func(b *bytes.Buffer) error { return rep.WriteJSON(b) },
		"report.md":    func(b *bytes.Buffer) error { return rep.WriteMarkdown(b) },
		"report.html":  func(b *bytes.Buffer) error { return rep.WriteHTML(b) },
		"report.sarif": func(b *bytes.Buffer) error { return rep.WriteSARIF(b) },
	} {
		var b bytes.Buffer
		require.NoError(t, write(&b))
		out[name] = b.String()
	}
	return out
}
