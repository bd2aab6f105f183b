package grading_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/grader/bundler"
	"github.com/itsm-grader/grader/grader/facts"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/grading"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/sandbox"
)

// fakeSandbox stands in for Docker: tool runs of the grader binary run the bundler in-process
// on the mounted folders (they are the host's own), the analyzer's run answers with facts of
// one file, and each scenario's run answers with a journal of the scenario that saw nothing.
// It lets the whole orchestration be tested in a second: capture, evidence, judging.
type fakeSandbox struct {
	t    *testing.T
	mu   sync.Mutex
	runs []string
}

func (f *fakeSandbox) Tool(_ context.Context, spec sandbox.ToolSpec) (*sandbox.ToolResult, error) {
	if spec.Program == sandbox.GraderProgram {
		return f.bundle(spec)
	}
	out, err := json.Marshal(facts.Output{Analyzer: 1, TypeScript: "fake", Projects: []facts.Facts{{Entry: "src/index.ts", EntryFound: true,
		Files: []facts.File{{Path: "src/index.ts", Lines: 3}}}}})
	require.NoError(f.t, err)
	return &sandbox.ToolResult{Stdout: sandbox.Output{Data: out}, Wall: time.Millisecond}, nil
}

func (f *fakeSandbox) bundle(spec sandbox.ToolSpec) (*sandbox.ToolResult, error) {
	opts := bundler.Options{Work: f.t.TempDir()}
	for _, m := range spec.Mounts {
		switch m.Container {
		case "/in/submission":
			opts.Submission = m.Host
		case "/in/packages":
			opts.Packages = m.Host
		}
	}
	for i, a := range spec.Command {
		if a == "--marker" {
			opts.Marker = spec.Command[i+1]
		}
	}
	res, err := bundler.Run(opts)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := bundler.Stream(&out, opts.Work, res); err != nil {
		return nil, err
	}
	return &sandbox.ToolResult{Stdout: sandbox.Output{Data: out.Bytes()}}, nil
}

func (f *fakeSandbox) Run(_ context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	scenario := spec.MockArgs[2]
	f.mu.Lock()
	f.runs = append(f.runs, scenario)
	f.mu.Unlock()
	var b bytes.Buffer
	j := journal.New(journal.NewClock(), journal.Start{Scenario: scenario}, &b)
	require.NoError(f.t, j.Finish())
	return &sandbox.Result{Journal: sandbox.Output{Data: b.Bytes()}, Wall: 100 * time.Millisecond,
		Stdout: sandbox.Output{Data: []byte("nothing to do\n")}}, nil
}

// TestCaptureThenJudgeWithoutDocker: the orchestration on a fake sandbox: the reference client
// is fetched, bundled, reviewed and run through two scenarios; the evidence names its versions,
// holds no tokens and judges into a report whose findings say what the runs (which did nothing)
// showed.
func TestCaptureThenJudgeWithoutDocker(t *testing.T) {
	t.Parallel()
	sb := &fakeSandbox{t: t}
	scenarios := []suite.Scenario{{Name: "happy", Trials: 1, Budget: time.Minute}, {Name: "backoff", Trials: 2, Budget: time.Minute}}
	ev, err := grading.Capture(context.Background(), grading.Options{Source: filepath.Join(submissions.Dir(), "ideal"), Sandbox: sb,
		Toolchain: fakeToolchain(t), Scenarios: scenarios})
	require.NoError(t, err)
	require.True(t, ev.Build.OK, ev.Build.Summary)
	require.Len(t, ev.Runs, 3)
	require.ElementsMatch(t, []string{"happy", "backoff", "backoff"}, sb.runs)
	require.Equal(t, judge.RulesVersion, ev.Versions.Rules)
	require.Regexp(t, `^suite-[0-9a-f]{12}$`, ev.Versions.Suite)
	require.NotEmpty(t, ev.Static.Facts)
	require.NotEmpty(t, ev.Static.Sources)
	require.Contains(t, string(ev.Static.Sources), "packageJson", "the files the rules read are kept")

	rep, err := judge.Judge(ev, time.Now())
	require.NoError(t, err)
	require.Equal(t, ev.Versions.Suite, rep.Versions.Suite)
	require.Empty(t, rep.Rejudged)
	contract := rep.Finding("build.contract")
	require.NotNil(t, contract)
	require.Equal(t, finding.Fail, contract.Verdict, "the fake run never settled syncTickets")
	require.True(t, strings.Contains(contract.Summary, "ended before syncTickets() settled"), contract.Summary)
}

// fakeToolchain is a folder shaped like the pinned toolchain (the fake analyzer does not read it).
func fakeToolchain(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "typescript"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "typescript", "package.json"), []byte(`{"version":"fake"}`), 0o644))
	return dir
}
