package compare

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/report"
)

func TestFromReport(t *testing.T) {
	t.Parallel()
	findings := []finding.Finding{
		{ID: "backoff.growth", Kind: finding.Measured, Verdict: finding.Pass, Severity: finding.Medium, Indicator: finding.ProperBackoff},
		{ID: "secrets.output", Kind: finding.Measured, Verdict: finding.Fail, Severity: finding.Critical, Critical: true, Indicator: finding.HardcodedOrLogged},
		{ID: "ai.rationale", Kind: finding.Static, Verdict: finding.Fail, Severity: finding.Medium, Indicator: finding.AIRationale,
			Evidence: []finding.Evidence{
				{File: "RATIONALE.md", Line: 3, Column: 1, Text: "accepted: 2 passages with a reason"},
				{File: "RATIONALE.md", Line: 9, Column: 1, Text: "rejected: 1 passage with a reason"},
				{File: "RATIONALE.md", Line: 12, Column: 1, Text: "discusses jitter, contradicted by backoff.jitter (fail)", Excerpts: []string{"## Modified - jitter"}},
				{Scenario: "backoff", Text: "modified: not from the rationale"},
			}},
	}
	r := report.New(report.Submission{Source: "x", Track: "ai"}, report.Build{OK: true}, findings, nil, time.Unix(0, 0))
	s := FromReport("ada", *r)
	require.Equal(t, Submission{
		Candidate: "ada", Track: TrackAI, Score: r.Score.Total,
		Findings: []Verdict{
			{ID: "backoff.growth", Verdict: finding.Pass, Severity: finding.Medium, Indicator: finding.ProperBackoff},
			{ID: "secrets.output", Verdict: finding.Fail, Critical: true, Severity: finding.Critical, Indicator: finding.HardcodedOrLogged},
			{ID: "ai.rationale", Verdict: finding.Fail, Severity: finding.Medium, Indicator: finding.AIRationale},
		},
		Rationale: []RationaleItem{{Kind: Accepted, Text: "2 passages with a reason"}, {Kind: Rejected, Text: "1 passage with a reason"}},
	}, s)
	require.InDelta(t, 6.0/27*100, s.Score, 0.05, "the report's total")

	for _, c := range []struct{ declared, want string }{
		{"manual", TrackManual}, {" AI ", TrackAI}, {"", TrackUnknown}, {"unknown", TrackUnknown}, {"both", TrackUnknown},
	} {
		require.Equal(t, c.want, FromReport("x", report.Report{Submission: report.Submission{Track: c.declared}}).Track, "track %q", c.declared)
	}
}
