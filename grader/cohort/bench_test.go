package cohort

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/itsm-grader/grader/grader/compare"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/store"
)

// storedRound fills a store with n finished gradings of 30 findings each, half on each track,
// verdicts drawn at random.
func storedRound(b *testing.B, n int) *store.Store {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "round.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	rng := rand.New(rand.NewPCG(1, 2))
	verdicts := []finding.Verdict{finding.Pass, finding.Pass, finding.Warn, finding.Fail, finding.NA}
	for i := range n {
		track := []string{"ai", "manual"}[i%2]
		e := store.Entry{Cohort: "round", Candidate: fmt.Sprintf("cand-%05d", i), Source: "/subs/x", ContentHash: fmt.Sprintf("sha256:%d", i), Track: track, RulesVersion: judge.RulesVersion}
		if _, _, err := st.Enqueue(ctx, e); err != nil {
			b.Fatal(err)
		}
		job, ok, err := st.Claim(ctx, "round", "bench", time.Hour)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
		rep := &report.Report{SchemaVersion: report.SchemaVersion, Versions: report.Versions{Rules: judge.RulesVersion}, Submission: report.Submission{Track: track}}
		for f := range 30 {
			v := verdicts[rng.IntN(len(verdicts))]
			rep.Findings = append(rep.Findings, finding.Finding{ID: fmt.Sprintf("finding.%02d", f), Kind: finding.Measured, Verdict: v,
				Severity: finding.Medium, Critical: f < 3, Indicator: finding.ProperBackoff})
			if v == finding.Pass {
				rep.Score.Total += 100.0 / 30
			}
		}
		if err := st.Finish(ctx, job.Ticket, store.Result{Report: rep, EvidencePath: filepath.Join(job.Dir, "evidence.json.gz"), ReportDir: job.Dir}); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// BenchmarkCompareStoredRound is `grader compare` on a round of 10,000 stored gradings (30
// findings each): read from the store, compared (B = 10,000 bootstrap resamples) and written in
// the four formats.
func BenchmarkCompareStoredRound(b *testing.B) {
	ctx := context.Background()
	st := storedRound(b, 10_000)
	for b.Loop() {
		subs, _, err := Submissions(ctx, st, "round")
		if err != nil {
			b.Fatal(err)
		}
		c, err := compare.Compare(subs, compare.Options{Seed: 1, Cohort: "round"})
		if err != nil {
			b.Fatal(err)
		}
		for _, write := range []func(io.Writer) error{c.WriteHTML, c.WriteMarkdown, c.WriteCSV, c.WriteJSON} {
			if err := write(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	}
}
