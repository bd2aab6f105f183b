package kit_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/grading"
	"github.com/itsm-grader/grader/grader/review"
	"github.com/itsm-grader/grader/grader/static"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/sandbox/sandboxtest"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// gradedScenarios are the few scenarios the kit's grading runs: happy (build.contract and the
// mapping), a target failing transiently, and backoff's three trials.
var gradedScenarios = []string{"happy", "transient-5xx", "backoff"}

// TestKitAndGraderAgreeOnTheBuild is the test: a kit is generated, the reference client
// is laid into it as a candidate would (its src/ in place of the stub, track: manual in
// SUBMISSION.md, the kit's own package.json and tsconfig.json kept), and the real grader grades
// it in Docker: it builds, build.contract and mapping.accuracy pass, and the static review's
// verdicts are the reference client's own (fixtures/submissions/ideal/expected.yaml), so
// nothing the kit adds (the brief, openapi.yaml, the schema, the README, the outline) is taken
// for code or for a credential. The stub itself type-checks clean in the grader's analyzer.
func TestKitAndGraderAgreeOnTheBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("grades in Docker")
	}
	sb := sandboxtest.New(t)
	toolchain := testenv.TypeScript(t)
	ctx := context.Background()

	t.Run("the stub type-checks in the grader's analyzer", func(t *testing.T) {
		fields, err := exercise.TargetFields()
		require.NoError(t, err)
		start := time.Now()
		facts, err := static.Analyze(ctx, sb, writeKit(t), static.Options{Toolchain: toolchain, Fields: fields})
		require.NoError(t, err)
		t.Logf("analyzer took %v", time.Since(start).Round(time.Millisecond))
		require.True(t, facts.EntryFound)
		require.Zero(t, facts.DiagnosticsTotal, "%+v", facts.Diagnostics)
		require.NotEmpty(t, facts.Files)
	})

	t.Run("the reference client in the kit grades as the reference client", func(t *testing.T) {
		dir := writeKit(t)
		withReference(t, dir)
		setTrack(t, dir, review.TrackManual)
		exp, err := submissions.Load("ideal")
		require.NoError(t, err)
		scenarios := suite.Only(suite.Default(), gradedScenarios)
		require.Len(t, scenarios, len(gradedScenarios))

		start := time.Now()
		rep, err := grading.Grade(ctx, grading.Options{Source: dir, Sandbox: sb, Toolchain: toolchain, Scenarios: scenarios,
			Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
		require.NoError(t, err)
		t.Logf("grading (%s) took %v", strings.Join(gradedScenarios, ", "), time.Since(start).Round(time.Millisecond))
		require.True(t, rep.Build.OK, "%s: %s", rep.Build.Stage, rep.Build.Summary)
		require.Equal(t, review.TrackManual, rep.Submission.Track)

		want := map[string]string{"build.contract": "pass", "mapping.accuracy": "pass"}
		for id, v := range exp.Expect {
			if strings.HasPrefix(id, "static.") || id == "ai.rationale" {
				want[id] = v
			}
		}
		require.Greater(t, len(want), 10, "the reference client's static verdicts are known")
		got := map[string]string{}
		for id := range want {
			f := rep.Finding(id)
			require.NotNil(t, f, "no finding %s", id)
			got[id] = string(f.Verdict)
			if string(f.Verdict) != want[id] {
				t.Logf("%s: %s (%s)", id, f.Verdict, f.Summary)
			}
		}
		require.Equal(t, want, got)
		require.Equal(t, finding.Pass, rep.Finding("static.typecheck").Verdict)
	})
}

// testWriter sends the grading's log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
