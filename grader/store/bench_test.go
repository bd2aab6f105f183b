package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/report"
)

// benchReport is a report the size of a real one (the calibration corpus's report.json files
// are 110 KB: 31 findings with their evidence, 18 runs with every attempt for the timeline).
func benchReport(rules string) *report.Report {
	r := sampleReport(rules, 30)
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Summary = strings.Repeat("the mock saw the client retry after a 503 and wait as asked; ", 3)
		f.Question = "Walk me through how the client decides that a failure is worth retrying, and for how long."
		f.Evidence = []finding.Evidence{{Scenario: "outage", Text: "attempts of INC0010001", Excerpts: []string{
			`{"t":1250,"req":"POST /api/now/table/incident","status":503,"fault":"outage"}`,
			`{"t":2480,"req":"POST /api/now/table/incident","status":201}`,
		}}}
	}
	for run := range 18 {
		rr := report.Run{Scenario: fmt.Sprintf("scenario-%02d", run), Outcome: "resolved", WallMS: 4200}
		for a := range 40 {
			rr.Attempts = append(rr.Attempts, report.Attempt{Subject: fmt.Sprintf("INC00100%02d", a), StartMS: int64(a * 90),
				EndMS: int64(a*90 + 40), Status: 201, Outcome: "created", EndedBy: "server", Created: true})
		}
		r.Runs = append(r.Runs, rr)
	}
	return r
}

func TestBenchReportIsTheSizeOfARealOne(t *testing.T) {
	t.Parallel()
	raw, err := json.Marshal(benchReport(testRules))
	require.NoError(t, err)
	require.InDelta(t, 110_000, len(raw), 25_000, "%d bytes", len(raw))
}

// BenchmarkFinish is one grading through the queue: queued, claimed and finished with a
// real-sized report and 30 findings. -benchtime=10000x stores 10,000 gradings in one cohort.
func BenchmarkFinish(b *testing.B) {
	ctx := context.Background()
	s := openStore(b)
	r := benchReport(testRules)
	i := 0
	start, cpu := time.Now(), cpuTime(b)
	for b.Loop() {
		finishOne(b, ctx, s, "bench", fmt.Sprintf("cand-%06d", i), r)
		i++
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "gradings/s")
	b.ReportMetric(float64((cpuTime(b)-cpu).Microseconds())/float64(i), "cpu-µs/op")
	b.ReportMetric(float64(fileSize(b, s.Path()))/float64(i), "db-bytes/grading")
}

// fileSize is the database's size on disk with its write-ahead log.
func fileSize(b *testing.B, path string) int64 {
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		if info, err := os.Stat(p); err == nil {
			total += info.Size()
		}
	}
	return total
}

func finishOne(b *testing.B, ctx context.Context, s *Store, cohort, candidate string, r *report.Report) {
	if _, _, err := s.Enqueue(ctx, entry(cohort, candidate)); err != nil {
		b.Fatal(err)
	}
	job, ok, err := s.Claim(ctx, cohort, "bench", time.Hour)
	if err != nil || !ok {
		b.Fatal(ok, err)
	}
	if err := s.Finish(ctx, job.Ticket, resultFor(job, r)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLatestGradings10k reads back a cohort of 10,000 finished gradings with their
// 300,000 findings, as `compare` does.
func BenchmarkLatestGradings10k(b *testing.B) {
	const cohort = 10_000
	ctx := context.Background()
	s := openStore(b)
	r := benchReport(testRules)
	setup := time.Now()
	for i := range cohort {
		finishOne(b, ctx, s, "bench", fmt.Sprintf("cand-%06d", i), r)
	}
	b.Logf("stored %d gradings in %s", cohort, time.Since(setup).Round(time.Millisecond))
	cpu, reads := cpuTime(b), 0
	for b.Loop() {
		reads++
		graded, err := s.LatestGradings(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if len(graded) != cohort || len(graded[cohort-1].Findings) != 30 {
			b.Fatalf("read %d gradings", len(graded))
		}
	}
	b.ReportMetric(float64((cpuTime(b)-cpu).Milliseconds())/float64(reads), "cpu-ms/op")
}

// cpuTime is the CPU time the process has used (user and system, every thread): on a machine
// shared with other work, the wall clock says more about the neighbours than about the store.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
