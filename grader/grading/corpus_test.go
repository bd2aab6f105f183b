package grading_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/grader/checks"
	"github.com/itsm-grader/grader/grader/grading"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/review"
	"github.com/itsm-grader/grader/grader/runner"
	"github.com/itsm-grader/grader/sandbox/sandboxtest"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// TestCalibrationCorpus grades every submission in fixtures/submissions in real Docker and
// fails on any verdict that differs from its expected.yaml. GRADER_CORPUS=a,b limits it to
// some submissions.
func TestCalibrationCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("grades the whole corpus in Docker: minutes")
	}
	sb := sandboxtest.New(t)
	names, err := submissions.Names()
	require.NoError(t, err)
	only := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("GRADER_CORPUS"), ",") {
		if n != "" {
			only[n] = true
		}
	}
	graded := 0
	for _, name := range names {
		if len(only) > 0 && !only[name] {
			continue
		}
		graded++
		t.Run(name, func(t *testing.T) {
			sub := filepath.Join(submissions.Dir(), name)
			want, err := submissions.Load(name)
			require.NoError(t, err)
			require.Len(t, want.Expect, len(checks.All())+len(review.Rules())+1, "expected.yaml lists every measured and static finding and ai.rationale")
			rep, err := grading.Grade(context.Background(), grading.Options{Source: sub, Sandbox: sb, Toolchain: testenv.TypeScript(t),
				Progress: func(ev runner.Event) {
					if ev.Done {
						t.Logf("%s trial %d in %.1fs", ev.Scenario, ev.Trial, ev.Took.Seconds())
					}
				}})
			require.NoError(t, err)
			saveReport(t, name, rep)
			var diffs []string
			for id, v := range want.Expect {
				f := rep.Finding(id)
				if f == nil {
					diffs = append(diffs, id+": no such finding")
					continue
				}
				if string(f.Verdict) != v {
					diffs = append(diffs, id+": want "+v+", got "+string(f.Verdict)+" ("+f.Summary+")")
				}
			}
			sort.Strings(diffs)
			require.Empty(t, diffs, "verdicts differ from expected.yaml (%s); report in %s", want.Description, os.Getenv("GRADER_CORPUS_OUT"))
		})
	}
	require.Positive(t, graded, "no calibration submission found")
}

// saveReport keeps the reports where GRADER_CORPUS_OUT points (for a human to read).
func saveReport(t *testing.T, name string, rep *report.Report) {
	out := os.Getenv("GRADER_CORPUS_OUT")
	if out == "" {
		return
	}
	dir := filepath.Join(out, name)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for file, write := range map[string]func(w *os.File) error{
		"report.json":  func(w *os.File) error { return rep.WriteJSON(w) },
		"report.md":    func(w *os.File) error { return rep.WriteMarkdown(w) },
		"report.html":  func(w *os.File) error { return rep.WriteHTML(w) },
		"report.sarif": func(w *os.File) error { return rep.WriteSARIF(w) },
	} {
		f, err := os.Create(filepath.Join(dir, file))
		require.NoError(t, err)
		require.NoError(t, write(f))
		require.NoError(t, f.Close())
	}
}
