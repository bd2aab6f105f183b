package grading_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/grader/checks"
	"github.com/itsm-grader/grader/grader/cohort"
	"github.com/itsm-grader/grader/grader/compare"
	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/grading"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/review"
	"github.com/itsm-grader/grader/grader/store"
	"github.com/itsm-grader/grader/sandbox/sandboxtest"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// corpusRoster is the roster of the calibration corpus as a cohort: every submission (or those
// GRADER_CORPUS=a,b names), on the track its SUBMISSION.md declares, except that every third
// manual one is put on the AI track by the roster, so that both tracks have enough submissions
// for a comparison that is not exploratory.
func corpusRoster(t *testing.T) (string, map[string]submissions.Expectation) {
	names, err := submissions.Names()
	require.NoError(t, err)
	only := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("GRADER_CORPUS"), ",") {
		if n != "" {
			only[n] = true
		}
	}
	var roster strings.Builder
	roster.WriteString("candidate,source,ref,track\n")
	want := map[string]submissions.Expectation{}
	manual := 0
	for _, name := range names {
		if len(only) > 0 && !only[name] {
			continue
		}
		exp, err := submissions.Load(name)
		require.NoError(t, err)
		require.Len(t, exp.Expect, len(checks.All())+len(review.Rules())+1, "%s: expected.yaml lists every measured and static finding and ai.rationale", name)
		want[name] = exp
		track := ""
		if exp.Expect["ai.rationale"] == "n/a" { // declared manual
			if manual%3 == 0 {
				track = "ai"
			}
			manual++
		}
		fmt.Fprintf(&roster, "%s,%s,,%s\n", name, filepath.Join(submissions.Dir(), name), track)
	}
	require.NotEmpty(t, want, "no calibration submission found")
	path := filepath.Join(t.TempDir(), "corpus.csv")
	require.NoError(t, os.WriteFile(path, []byte(roster.String()), 0o644))
	return path, want
}

// TestCalibrationCorpus grades the calibration corpus as a cohort, through the batch a hiring
// team uses (roster, store, queue), in real Docker, one grading at a time; it fails on any
// verdict the store holds that differs from the submission's expected.yaml, and compares the
// cohort's two tracks. GRADER_CORPUS=a,b limits it to some submissions; GRADER_CORPUS_OUT keeps
// the reports and the comparison for a human to read.
func TestCalibrationCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("grades the whole corpus in Docker: minutes")
	}
	ctx := context.Background()
	sb := sandboxtest.New(t)
	rosterPath, want := corpusRoster(t)
	fh, err := os.Open(rosterPath)
	require.NoError(t, err)
	entries, err := cohort.ReadRoster(fh, filepath.Dir(rosterPath), nil)
	fh.Close()
	require.NoError(t, err)
	out := os.Getenv("GRADER_CORPUS_OUT")
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "corpus.db"))
	require.NoError(t, err)
	defer st.Close()
	toolchain := testenv.TypeScript(t)
	status, err := cohort.Run(ctx, st, entries, cohort.Options{
		Cohort: "corpus", Workers: 1,
		Capture: func(ctx context.Context, source, ref string) (*evidence.Evidence, error) {
			return grading.Capture(ctx, grading.Options{Source: source, Ref: ref, Sandbox: sb, Toolchain: toolchain})
		},
		Write: func(rep *report.Report, dir string) error {
			if err := saveReport(dir, rep); err != nil {
				return err
			}
			if out == "" {
				return nil
			}
			return saveReport(filepath.Join(out, filepath.Base(rep.Submission.Source)), rep)
		},
		Progress: func(s cohort.Status) {
			t.Logf("corpus: %d/%d graded, %d running, %d failed", s.Done, len(entries), s.Running, s.Failed)
		},
	})
	require.NoError(t, err)
	require.Equal(t, len(entries), status.Done, "every submission graded")

	graded, err := st.LatestGradings(ctx, "corpus")
	require.NoError(t, err)
	require.Len(t, graded, len(want))
	for _, g := range graded {
		t.Run(g.Candidate, func(t *testing.T) {
			exp := want[g.Candidate]
			require.Empty(t, g.CandidateFailure)
			got := map[string]string{}
			for _, f := range g.Findings {
				got[f.ID] = f.Verdict
			}
			var diffs []string
			for id, v := range exp.Expect {
				switch have, ok := got[id]; {
				case !ok:
					diffs = append(diffs, id+": no such finding")
				case have != v:
					diffs = append(diffs, id+": want "+v+", got "+have)
				}
			}
			sort.Strings(diffs)
			if len(diffs) > 0 {
				// Say why, from the report the store holds: a flip must be diagnosable from the
				// log alone (the store goes with the test's temporary folder).
				raw, err := st.ReportJSON(ctx, g.GradingID)
				require.NoError(t, err)
				var rep report.Report
				require.NoError(t, json.Unmarshal(raw, &rep))
				for i, d := range diffs {
					id, _, _ := strings.Cut(d, ":")
					if f := rep.Finding(id); f != nil {
						diffs[i] += " (" + f.Summary + ")"
						for _, e := range f.Evidence {
							diffs[i] += " [" + e.Scenario + ": " + e.Text + "]"
						}
					}
				}
			}
			require.Empty(t, diffs, "verdicts differ from expected.yaml (%s); reports in %s", exp.Description, g.ReportDir)
		})
	}

	subs, failures, err := cohort.Submissions(ctx, st, "corpus")
	require.NoError(t, err)
	require.Zero(t, failures)
	c, err := compare.Compare(subs, compare.Options{Seed: 1, Cohort: "corpus"})
	require.NoError(t, err)
	var page, js bytes.Buffer
	require.NoError(t, c.WriteHTML(&page))
	require.NoError(t, c.WriteJSON(&js))
	if out != "" {
		require.NoError(t, os.WriteFile(filepath.Join(out, "comparison.html"), page.Bytes(), 0o644))
	}
	var parsed map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &parsed))
	if len(want) >= 30 {
		require.NotContains(t, page.String(), "xploratory", "the whole corpus has 10 or more submissions on each track")
	}
}

// saveReport writes a report's four files into dir.
func saveReport(dir string, rep *report.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for file, write := range map[string]func(w *os.File) error{
		"report.json":  func(w *os.File) error { return rep.WriteJSON(w) },
		"report.md":    func(w *os.File) error { return rep.WriteMarkdown(w) },
		"report.html":  func(w *os.File) error { return rep.WriteHTML(w) },
		"report.sarif": func(w *os.File) error { return rep.WriteSARIF(w) },
	} {
		f, err := os.Create(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		err = write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
