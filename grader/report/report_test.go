package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// hostile is what a candidate might try to smuggle into a report through its output: markup,
// a script, a code fence, table pipes, Markdown links.
const hostile = "</pre><script>alert(1)</script> ``` | [click](javascript:alert(1)) **bold** # heading"

func sample() *Report {
	findings := []finding.Finding{
		{ID: "secrets.output", Title: "Never prints or writes a token", Verdict: finding.Fail, Severity: finding.Critical, Critical: true,
			Indicator: finding.Indicator{Kind: "negative", Text: "Hardcoded credentials or logging sensitive tokens"},
			Summary:   "a token appeared in the client's output",
			Evidence:  []finding.Evidence{{Scenario: "transient-5xx", Text: "token found in: stderr", Excerpts: []string{"auth: Bearer [REDACTED-target-token] " + hostile}}},
			Question:  "Show me where your client logs a failed request."},
		{ID: "backoff.growth", Title: "Backs off exponentially", Verdict: finding.Pass, Severity: finding.Medium,
			Indicator: finding.Indicator{Kind: "positive", Text: "Proper exponential backoff with jitter"},
			Summary:   "exponential: " + hostile, Measured: map[string]float64{"growth_factor": 1.97}, Question: "Why exponential?"},
		{ID: "timeout.request", Title: "Abandons a hung request in time", Verdict: finding.NA, Severity: finding.High,
			Indicator: finding.Indicator{Kind: "positive", Text: "Corrects flawed retry logic"}, Summary: "no request met the hang", Question: "How long?"},
		{ID: "logging.errors", Title: "Logs failures", Verdict: finding.Warn, Severity: finding.Low,
			Indicator: finding.Indicator{Kind: "requirement", Text: "proper error logging"}, Summary: "partly", Question: "What does the log say?"},
		{ID: "static.secret_logged", Kind: finding.Static, Title: "No credential flows into a logging call", Verdict: finding.Fail, Severity: finding.High,
			Indicator: finding.HardcodedOrLogged, Summary: "1 logging call receives a credential",
			Evidence: []finding.Evidence{{File: "src/http " + hostile + ".ts", Line: 71, Column: 5, Text: "console.debug receives headers passed whole",
				Excerpts: []string{"console.debug(`${req.url}`, req.headers); // " + hostile}}},
			Related:  []finding.Related{{ID: "secrets.output", Kind: finding.Measured, Verdict: finding.Fail, Summary: "a token appeared in the client's output"}},
			Question: "What exactly does this log line print?"},
		{ID: "static.separation", Kind: finding.Static, Title: "Where mapping, transport and retry live", Verdict: finding.Info, Severity: finding.Low,
			Indicator: finding.Separation, Summary: "mapping, transport and retry live in separate functions",
			Evidence: []finding.Evidence{{File: "src/retry.ts", Line: 57, Column: 1, Text: "retry: withRetries, lines 57–121"}}, Question: "Which functions would you touch?"},
		{ID: "ai.rationale", Kind: finding.Static, Title: "The AI-assisted changes are explained", Verdict: finding.Fail, Severity: finding.Medium,
			Indicator: finding.AIRationale, Summary: "the submission is on the AI-assisted track but has no RATIONALE.md", Question: "What did you reject?"},
	}
	for i := range findings {
		if findings[i].Kind == "" {
			findings[i].Kind = finding.Measured
		}
	}
	runs := []Run{{Scenario: "backoff", Trial: 1, WallMS: 3000, CPUMS: 300, Outcome: "resolved", Tickets: 1, Attempts: []Attempt{
		{Subject: "INC0010001", StartMS: 0, EndMS: 5, Status: 503, Fault: "status_503", Outcome: "response", EndedBy: "server"},
		{Subject: "INC0010001", StartMS: 200, EndMS: 205, Status: 201, Outcome: "response", EndedBy: "server", Created: true},
		{Subject: "page 0", StartMS: 0, EndMS: 900, Outcome: "none", EndedBy: "client"},
	}}}
	r := New(Submission{Source: "fixtures/submissions/x" + hostile, Track: "ai"}, Build{OK: true, TookMS: 120}, findings, runs, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	r.Static = &Static{TypeScript: "6.0.3", Files: 9, Lines: 777, TookMS: 2100}
	r.Versions = Versions{Grader: "v1.0.0" + hostile, Suite: "suite-0123456789ab", Rules: "2026-12-01.1"}
	r.Evidence = EvidenceInfo{Versions: Versions{Grader: "v0.9.0", Suite: "suite-0123456789ab", Rules: "2026-11-27.1"},
		CapturedAt: time.Date(2026, 11, 27, 11, 58, 0, 0, time.UTC)}
	r.Remeasured = []string{"backoff: inconclusive: noise" + hostile}
	r.Rejudged = "evidence captured by grader v0.9.0 with rules 2026-11-27.1, judged again with rules 2026-12-01.1" + hostile
	return r
}

func TestScoreAndCritical(t *testing.T) {
	t.Parallel()
	r := sample()
	// pass 6 + warn 1.5 of (15 + 6 + 3 + 10 + 6); n/a and info left out.
	require.InDelta(t, 18.8, r.Score.Total, 0.05)
	require.Equal(t, []string{"secrets.output"}, r.Critical)
	require.Equal(t, SchemaVersion, r.SchemaVersion)
}

func TestASubmissionThatDoesNotBuildScoresZero(t *testing.T) {
	t.Parallel()
	findings := []finding.Finding{
		{ID: "build.contract", Kind: finding.Measured, Verdict: finding.Fail, Severity: finding.High},
		{ID: "retry.transient", Kind: finding.Measured, Verdict: finding.NA, Severity: finding.High},
		{ID: "static.tls_disabled", Kind: finding.Static, Verdict: finding.Pass, Severity: finding.Critical},
	}
	r := New(Submission{Source: "x"}, Build{Stage: "bundle"}, findings, nil, time.Now())
	require.Zero(t, r.Score.Total)
	require.Contains(t, r.Score.Note, "did not build")
}

func TestWritersMatchTheirGoldenFiles(t *testing.T) {
	t.Parallel()
	for name, write := range map[string]func(*Report, *bytes.Buffer) error{
		"report.json":  func(r *Report, b *bytes.Buffer) error { return r.WriteJSON(b) },
		"report.md":    func(r *Report, b *bytes.Buffer) error { return r.WriteMarkdown(b) },
		"report.html":  func(r *Report, b *bytes.Buffer) error { return r.WriteHTML(b) },
		"report.sarif": func(r *Report, b *bytes.Buffer) error { return r.WriteSARIF(b) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			require.NoError(t, write(sample(), &b))
			path := filepath.Join("testdata", name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./grader/report -update")
			require.Equal(t, string(want), b.String())
		})
	}
}

// TestCandidateTextCannotInject: whatever the candidate printed stays text in every format.
func TestCandidateTextCannotInject(t *testing.T) {
	t.Parallel()
	r := sample()
	var html, md, js bytes.Buffer
	require.NoError(t, r.WriteHTML(&html))
	require.NoError(t, r.WriteMarkdown(&md))
	require.NoError(t, r.WriteJSON(&js))

	require.NotContains(t, html.String(), "<script>")
	require.NotContains(t, html.String(), "</pre><script")
	require.Contains(t, html.String(), "&lt;script&gt;")

	// Outside code fences (whose excerpts are inert, and whose fence cannot be closed by the
	// excerpt: checked below) nothing is live.
	fenceOpen := ""
	for _, l := range strings.Split(md.String(), "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "````") && strings.Trim(t, "`") == "" {
			if fenceOpen == "" {
				fenceOpen = t
			} else if t == fenceOpen {
				fenceOpen = ""
			}
			continue
		}
		if fenceOpen == "" && strings.Contains(l, "alert(1)") {
			require.NotContains(t, l, "<script>", l)
			require.NotRegexp(t, `[^\\]\]\(javascript`, l, "no live link")
			require.NotRegexp(t, `(^|[^\\])\*\*bold`, l, "no emphasis")
		}
	}
	// The excerpt's own ``` cannot close the fence around it.
	require.Contains(t, md.String(), "````\n")

	var back Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.Equal(t, r.Findings[0].Evidence[0].Excerpts, back.Findings[0].Evidence[0].Excerpts)
}
