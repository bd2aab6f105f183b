package cohort

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/itsm-grader/grader/grader/compare"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/store"
)

// Submissions reads a cohort's latest gradings from the store as the comparison takes them:
// findings from their rows, the AI track's rationale from its report. Gradings whose result is
// the candidate's own failure (nothing graded) are left out and counted.
func Submissions(ctx context.Context, st *store.Store, cohort string) (subs []compare.Submission, failures int, err error) {
	graded, err := st.LatestGradings(ctx, cohort)
	if err != nil {
		return nil, 0, err
	}
	for _, g := range graded {
		if g.CandidateFailure != "" {
			failures++
			continue
		}
		s := compare.Submission{Candidate: g.Candidate, Track: g.Track, Score: g.Score}
		for _, f := range g.Findings {
			v := finding.Verdict(f.Verdict)
			s.Findings = append(s.Findings, compare.Verdict{
				ID: f.ID, Verdict: v, Critical: f.Critical && v == finding.Fail, Severity: finding.Severity(f.Severity),
				Indicator: finding.Indicator{Kind: f.IndicatorKind, Text: f.Indicator},
			})
		}
		if g.Track == store.TrackAI {
			if s.Rationale, err = rationale(ctx, st, g); err != nil {
				return nil, 0, err
			}
		}
		subs = append(subs, s)
	}
	return subs, failures, nil
}

// rationale is what the grading's report says of the candidate's RATIONALE.md.
func rationale(ctx context.Context, st *store.Store, g store.Graded) ([]compare.RationaleItem, error) {
	raw, err := st.ReportJSON(ctx, g.GradingID)
	if err != nil {
		return nil, err
	}
	var rep report.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("report of %s: %w", g.Candidate, err)
	}
	return compare.FromReport(g.Candidate, rep).Rationale, nil
}
