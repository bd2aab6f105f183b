package grading_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/grader/cohort"
	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/grading"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/store"
	"github.com/itsm-grader/grader/sandbox/sandboxtest"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// BenchmarkGrade grades the ideal submission and compares the grading's wall time with the
// floor no grader can beat: the candidate's own run time in its longest scenario (for the ideal
// client, the outage: it waits out its retry budget). The README quotes the ratio.
func BenchmarkGrade(b *testing.B) {
	sb := sandboxtest.New(b)
	sub := filepath.Join(submissions.Dir(), "ideal")
	var took, floor time.Duration
	for range b.N {
		start := time.Now()
		rep, err := grading.Grade(context.Background(), grading.Options{Source: sub, Sandbox: sb, Toolchain: testenv.TypeScript(b)})
		if err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
		longest := int64(0)
		for _, r := range rep.Runs {
			longest = max(longest, r.WallMS)
		}
		floor += time.Duration(longest) * time.Millisecond
	}
	n := time.Duration(b.N)
	b.ReportMetric((took / n).Seconds(), "s-grading")
	b.ReportMetric((floor / n).Seconds(), "s-floor")
	b.ReportMetric(float64(took)/float64(floor), "ratio")
	b.ReportMetric((1.3*float64(floor/n)+float64(2*time.Second))/1e9, "s-aim")
}

// BenchmarkBatch is a hiring round's throughput: grader batch's path (roster entries fetched,
// hashed, queued in a store, claimed and graded by two workers sharing the sandbox's three run
// slots) over six calibration submissions, in gradings per hour on this machine.
func BenchmarkBatch(b *testing.B) {
	sb := sandboxtest.New(b)
	names := []string{"ideal", "no-retry", "no-jitter", "logs-token", "monolith", "ai-reviewed"}
	var entries []cohort.Entry
	for _, n := range names {
		entries = append(entries, cohort.Entry{Candidate: n, Source: filepath.Join(submissions.Dir(), n)})
	}
	toolchain := testenv.TypeScript(b)
	capture := func(ctx context.Context, source, ref string) (*evidence.Evidence, error) {
		return grading.Capture(ctx, grading.Options{Source: source, Ref: ref, Sandbox: sb, Toolchain: toolchain})
	}
	var took time.Duration
	for range b.N {
		st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "round.db"))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		status, err := cohort.Run(context.Background(), st, entries, cohort.Options{Cohort: "bench", Workers: 2, Capture: capture,
			Write: func(*report.Report, string) error { return nil }})
		took += time.Since(start)
		st.Close()
		if err != nil || status.Done != len(entries) {
			b.Fatalf("%+v: %v", status, err)
		}
	}
	b.ReportMetric(float64(b.N*len(entries))/took.Hours(), "gradings/h")
	b.ReportMetric(took.Seconds()/float64(b.N*len(entries)), "s/grading")
}
