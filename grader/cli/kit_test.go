package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

func runKitArgs(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := runKit(context.Background(), Env{Args: append([]string{"kit"}, args...), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(string) string { return "" }}, slog.New(slog.NewTextHandler(io.Discard, nil)), args)
	return code, stdout.String(), stderr.String()
}

// TestKitCommandLine: grader kit --out DIR writes the kit into a new or empty folder, refuses
// one that holds anything with a clear error (exit 1), and a wrong command line exits 2.
func TestKitCommandLine(t *testing.T) {
	t.Parallel()
	full := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(full, "notes.txt"), []byte("mine"), 0o644))
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"a new folder", []string{"--out", filepath.Join(t.TempDir(), "kit")}, ExitOK, "wrote the starter kit to", ""},
		{"an empty folder", []string{"--out", t.TempDir()}, ExitOK, "src/index.ts", ""},
		{"a folder that holds a file", []string{"--out", full}, ExitFailure, "", "grader kit: the folder is not empty: " + full + " holds notes.txt; give a new or empty folder"},
		{"no --out", nil, ExitUsage, "", "usage: grader kit --out DIR"},
		{"an empty --out", []string{"--out", ""}, ExitUsage, "", "usage: grader kit --out DIR"},
		{"a folder as an argument instead of --out", []string{filepath.Join(t.TempDir(), "kit")}, ExitUsage, "", "unexpected arguments"},
		{"an unknown flag", []string{"--out", t.TempDir(), "--force"}, ExitUsage, "", "flag provided but not defined: -force"},
		{"help", []string{"-h"}, ExitOK, "", "usage: grader kit --out DIR"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runKitArgs(tc.args...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stdout, tc.stdout)
			require.Contains(t, stderr, tc.stderr)
			if tc.code != ExitOK {
				require.Empty(t, stdout)
			}
		})
	}
	entries, err := os.ReadDir(full)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the refused folder is left as it was")
}

// TestPractiseAsTheKitReadmeSays follows the kit's README with the real commands: grader kit, then
// grader mock --scenario happy (whose printed lines are the README's, values aside), the export
// lines taken as a shell would, and the kit's `npm run sync` script run with real Node.js 24 (as
// npm runs it: sh -c in the kit): the reference client laid into the kit creates every ticket,
// over http and over https with NODE_EXTRA_CA_CERTS; the stub rejects with "not implemented".
func TestPractiseAsTheKitReadmeSays(t *testing.T) {
	node := testenv.Node24(t)
	unique := uniqueIncidents(t)
	cases := []struct {
		name      string
		reference bool
		tls       bool
		want      string // in the script's output
		fails     bool
	}{
		{"the stub", false, false, "Error: not implemented", true},
		{"the reference client over http", true, false, `"created": ` + unique, false},
		{"the reference client over https", true, true, `"created": ` + unique, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "kit")
			code, _, stderr := runKitArgs("--out", dir)
			require.Equal(t, ExitOK, code, stderr)
			if tc.reference {
				require.NoError(t, os.Remove(filepath.Join(dir, "src", "index.ts")))
				require.NoError(t, os.CopyFS(filepath.Join(dir, "src"), os.DirFS(filepath.Join(submissions.Dir(), "ideal", "src"))))
			}
			printed, mockDir := startMock(t, tc.tls)
			if !tc.tls {
				requireReadmeShowsMockOutput(t, dir, strings.ReplaceAll(printed, mockDir, "/tmp/itsm-mock-1"))
			}
			env := []string{"PATH=" + filepath.Dir(node) + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
			for k, v := range exports(printed) {
				env = append(env, k+"="+v)
			}
			out, err := runSync(t, dir, env)
			require.Contains(t, out, tc.want)
			if tc.fails {
				require.Error(t, err, out)
				return
			}
			require.NoError(t, err, out)
			require.Contains(t, out, `"failed": []`)
		})
	}
}

// uniqueIncidents is how many distinct incidents the source serves, as text.
func uniqueIncidents(t *testing.T) string {
	t.Helper()
	rows, err := exercise.IncidentRows()
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, r := range rows {
		var rec struct {
			Number string `json:"number"`
		}
		require.NoError(t, json.Unmarshal(r, &rec))
		seen[rec.Number] = true
	}
	require.NotEmpty(t, seen)
	return strconv.Itoa(len(seen))
}

// startMock runs grader mock --scenario happy in process until the test ends and returns what it
// printed once it is ready, and its --dir.
func startMock(t *testing.T, tls bool) (string, string) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"mock", "--scenario", "happy", "--dir", dir}
	if tls {
		args = append(args, "--tls")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() { code <- Run(ctx, Env{Args: args, Stdout: &stdout, Stderr: &stderr}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case got := <-code:
			require.Equal(t, ExitOK, got, stderr.String())
		case <-time.After(15 * time.Second):
			t.Error("the mock did not stop on cancellation")
		}
	})
	require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "Ctrl-C") }, 10*time.Second, 5*time.Millisecond, stderr.String())
	return stdout.String(), dir
}

// mockValues are the parts of the mock's output that change from run to run.
var mockValues = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`https?://127\.0\.0\.1:\d+`), "URL"},
	{regexp.MustCompile(`\b(src|tgt)_[A-Za-z0-9_-]+`), "${1}_TOKEN"},
	{regexp.MustCompile(`/tmp/itsm-mock-\d+`), "DIR"},
}

// requireReadmeShowsMockOutput: the README's example of grader mock's output is, line for line,
// what the mock prints, its URLs, tokens and folder aside.
func requireReadmeShowsMockOutput(t *testing.T, kitDir, printed string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(kitDir, "README.md"))
	require.NoError(t, err)
	_, block, ok := strings.Cut(string(readme), "```sh\ngrader mock --scenario happy\n")
	require.True(t, ok, "the README shows grader mock --scenario happy")
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	normal := func(s string) string {
		for _, v := range mockValues {
			s = v.re.ReplaceAllString(s, v.with)
		}
		return strings.TrimSpace(s)
	}
	require.Equal(t, normal(printed), normal(block))
}

// runSync runs the kit's sync script as npm does (sh -c in the kit) with only env.
func runSync(t *testing.T, dir string, env []string) (string, error) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	require.NoError(t, err)
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	require.NoError(t, json.Unmarshal(raw, &pkg))
	require.NotEmpty(t, pkg.Scripts["sync"])
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", pkg.Scripts["sync"])
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	require.NoError(t, ctx.Err(), "npm run sync did not finish:\n%s", out)
	return string(out), err
}
