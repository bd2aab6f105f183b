package grading_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/grader/grading"
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
