package feedback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/feedback"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/report"
)

const (
	owner   = "alice-candidate"
	repo    = "itsm-sync"
	headSHA = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
)

var receivedAt = time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)

func target(installation int64) feedback.Target {
	return feedback.Target{Owner: owner, Repo: repo, HeadSHA: headSHA, Installation: installation, Received: receivedAt}
}

// quick is a Poster whose writes are spaced 1 ms apart, for tests that are not about spacing.
func quick() *feedback.Poster {
	return feedback.NewPoster(feedback.Options{WriteInterval: time.Millisecond, MaxWait: 5 * time.Second})
}

var builds = report.Build{OK: true, TookMS: 900}

var doesNotBuild = report.Build{Stage: "contract", Summary: "src/index.ts does not export syncTickets (it exports: main)",
	Messages: []string{"src/index.ts(3,1): error TS2304: Cannot find name 'fetchh'."}}

// gradedReport is a report with measured and static findings, of which exactly located
// pieces of evidence are code-level findings to annotate (src/http.ts, lines 1 to located);
// the others (a passed or informational static finding, measured evidence, evidence without a
// file) are not.
func gradedReport(located int, b report.Build) *report.Report {
	secret := finding.Finding{ID: "static.secret_logged", Kind: finding.Static, Title: "No credential flows into a logging call",
		Verdict: finding.Fail, Severity: finding.High, Indicator: finding.HardcodedOrLogged,
		Summary: "a logging call receives a credential", Question: "What exactly does this log line print?"}
	for i := range located {
		secret.Evidence = append(secret.Evidence, finding.Evidence{File: "src/http.ts", Line: i + 1, Column: 5,
			Text: "console.debug receives headers passed whole", Excerpts: []string{"console.debug(req.url, req.headers);"}})
	}
	findings := []finding.Finding{
		{ID: "secrets.output", Kind: finding.Measured, Title: "Never prints or writes a token", Verdict: finding.Fail, Severity: finding.Critical,
			Critical: true, Indicator: finding.HardcodedOrLogged, Summary: "a token appeared in the client's standard error",
			Evidence: []finding.Evidence{{Scenario: "transient-5xx", Text: "token found in: stderr", Excerpts: []string{"Bearer [REDACTED-target-token]"}}},
			Question: "Show me where your client logs a failed request."},
		{ID: "backoff.growth", Kind: finding.Measured, Title: "Backs off exponentially", Verdict: finding.Pass, Severity: finding.Medium,
			Indicator: finding.ProperBackoff, Summary: "waits grew by a factor of 1.97", Question: "Why exponential and not linear?"},
		secret,
		{ID: "static.tls_verification", Kind: finding.Static, Title: "Keeps TLS verification on", Verdict: finding.Pass, Severity: finding.Critical,
			Indicator: finding.AIRisks, Summary: "no agent turns verification off", Question: "Where would you put a custom CA?",
			Evidence: []finding.Evidence{{File: "src/tls.ts", Line: 3, Text: "an https.Agent with defaults"}}},
		{ID: "static.separation", Kind: finding.Static, Title: "Where mapping, transport and retry live", Verdict: finding.Info, Severity: finding.Low,
			Indicator: finding.Separation, Summary: "mapping, transport and retry live in separate functions", Question: "Which functions would you touch?",
			Evidence: []finding.Evidence{{File: "src/retry.ts", Line: 57, Text: "retry: withRetries, lines 57 to 121"}}},
		{ID: "ai.rationale", Kind: finding.Static, Title: "The AI-assisted changes are explained", Verdict: finding.Fail, Severity: finding.Medium,
			Indicator: finding.AIRationale, Summary: "the submission is on the AI-assisted track but has no RATIONALE.md", Question: "What did you reject?"},
	}
	return report.New(report.Submission{Source: "github.com/alice-candidate/itsm-sync", Commit: headSHA, Track: "ai"}, b, findings, nil, receivedAt)
}

// body decodes a request's JSON body.
func body(t *testing.T, s seen) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(s.Body, &m), string(s.Body))
	return m
}

func output(t *testing.T, s seen) map[string]any {
	t.Helper()
	out, ok := body(t, s)["output"].(map[string]any)
	require.True(t, ok, "the request has an output: %s", s.Body)
	return out
}

func annotationsOf(t *testing.T, s seen) []map[string]any {
	t.Helper()
	raw, _ := output(t, s)["annotations"].([]any)
	var out []map[string]any
	for _, a := range raw {
		out = append(out, a.(map[string]any))
	}
	return out
}

func TestParseMode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want feedback.Mode
		err  bool
	}{
		{"", feedback.ModeNone, false},
		{"none", feedback.ModeNone, false},
		{"receipt", feedback.ModeReceipt, false},
		{" full ", feedback.ModeFull, false},
		{"everything", "", true},
		{"Full", "", true},
	}
	for _, tc := range cases {
		got, err := feedback.ParseMode(tc.in)
		if tc.err {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
}

// requireNothingOfTheReport fails if a request carries anything of the report beyond the
// build: a finding's id, title, indicator, question or summary, or the score.
func requireNothingOfTheReport(t *testing.T, rep *report.Report, requests []seen) {
	t.Helper()
	for _, s := range requests {
		sent := string(s.Body)
		require.NotContains(t, strings.ToLower(sent), "score")
		require.NotContains(t, sent, fmt.Sprintf("%.1f / 100", rep.Score.Total))
		for _, f := range rep.Findings {
			for _, text := range []string{f.ID, f.Title, f.Indicator.Text, f.Question, f.Summary} {
				require.NotContains(t, sent, text, "finding %s leaked under receipt", f.ID)
			}
		}
	}
}

func TestAReceiptSaysOnlyWhetherTheCommitBuilds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		build       report.Build
		wantTitle   string
		wantSummary string
	}{
		{"a commit that builds", builds, "Received 0d1a26e: it builds",
			"received commit 0d1a26e at 2026-05-04 09:30:00 UTC; it builds and exports syncTickets\n"},
		{"a commit that does not build", doesNotBuild, "Received 0d1a26e: it does not build",
			"received commit 0d1a26e at 2026-05-04 09:30:00 UTC; it does not build (contract): src/index.ts does not export syncTickets (it exports: main)\n" +
				"\n```text\nsrc/index.ts(3,1): error TS2304: Cannot find name 'fetchh'.\n```\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGitHub(t)
			rep := gradedReport(3, tc.build)
			res, err := quick().Post(t.Context(), f.client(t), target(2311213), feedback.ModeReceipt, rep)
			require.NoError(t, err)
			requests := f.seen()
			require.Len(t, requests, 1)
			require.Equal(t, "POST", requests[0].Method)
			require.Equal(t, "/repos/alice-candidate/itsm-sync/check-runs", requests[0].Path)
			require.Equal(t, "Bearer "+testToken, requests[0].Auth)
			sent := body(t, requests[0])
			require.Equal(t, "itsm-grader", sent["name"])
			require.Equal(t, headSHA, sent["head_sha"])
			require.Equal(t, "completed", sent["status"])
			require.Equal(t, "neutral", sent["conclusion"])
			require.Equal(t, map[string]any{"title": tc.wantTitle, "summary": tc.wantSummary}, output(t, requests[0]))
			requireNothingOfTheReport(t, rep, requests)
			require.Equal(t, feedback.Result{Kind: "check_run", CheckRunID: 4001, Requests: 1, SummaryBytes: len(tc.wantSummary)}, res)
		})
	}
}

func TestAReceiptIsACommitStatusWhereCheckRunsAreForbidden(t *testing.T) {
	t.Parallel()
	long := report.Build{Stage: "typecheck", Summary: strings.Repeat("типы не сходятся — ", 20)}
	cases := []struct {
		name      string
		build     report.Build
		wantState string
		wantDesc  string
		wantCut   bool
	}{
		{"a commit that builds", builds, "success", "received commit 0d1a26e at 2026-05-04 09:30:00 UTC; it builds and exports syncTickets", false},
		{"a commit that does not build", doesNotBuild, "failure",
			"received commit 0d1a26e at 2026-05-04 09:30:00 UTC; it does not build (contract): src/index.ts does not export syncTickets (it exports: m…", true},
		{"a long build error in Cyrillic", long, "failure",
			"received commit 0d1a26e at 2026-05-04 09:30:00 UTC; it does not build (typecheck): типы не сходятся — типы не сх…", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGitHub(t)
			f.tokenOnly = true
			rep := gradedReport(3, tc.build)
			p := quick()
			res, err := p.Post(t.Context(), f.client(t), target(0), feedback.ModeReceipt, rep)
			require.NoError(t, err)
			requests := f.seen()
			require.Len(t, requests, 2, "a check run refused, then a status")
			require.Equal(t, "/repos/alice-candidate/itsm-sync/check-runs", requests[0].Path)
			require.Equal(t, "/repos/alice-candidate/itsm-sync/statuses/"+headSHA, requests[1].Path)
			require.Equal(t, "Bearer "+testToken, requests[1].Auth)
			require.Equal(t, map[string]any{"state": tc.wantState, "description": tc.wantDesc, "context": "itsm-grader"}, body(t, requests[1]))
			require.LessOrEqual(t, len(tc.wantDesc), feedback.MaxDescriptionBytes)
			require.True(t, utf8.ValidString(tc.wantDesc))
			requireNothingOfTheReport(t, rep, requests)
			require.Equal(t, feedback.Result{Kind: "status", Requests: 2, SummaryBytes: len(tc.wantDesc), Cut: tc.wantCut}, res)

			// The writer remembers: the next receipt goes straight to a status.
			res, err = p.Receipt(t.Context(), f.client(t), target(0), tc.build)
			require.NoError(t, err)
			require.Equal(t, 1, res.Requests)
			require.Len(t, f.seen(), 3)
			require.Equal(t, requests[1].Path, f.seen()[2].Path)
		})
	}
}

func TestFullPostsAnnotationsAtMost50ARequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		located      int
		dir          string
		wantRequests int
	}{
		{0, "", 1},
		{1, "", 1},
		{50, "", 1},
		{51, "", 2},
		{120, "", 3},
		{120, "packages/client", 3},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d annotations in %q", tc.located, tc.dir), func(t *testing.T) {
			t.Parallel()
			f := newFakeGitHub(t)
			tg := target(2311213)
			tg.Dir = tc.dir
			rep := gradedReport(tc.located, builds)
			var md bytes.Buffer
			require.NoError(t, rep.WriteMarkdown(&md))
			res, err := quick().Post(t.Context(), f.client(t), tg, feedback.ModeFull, rep)
			require.NoError(t, err)
			requests := f.seen()
			require.Len(t, requests, tc.wantRequests)
			require.Equal(t, feedback.Result{Kind: "check_run", CheckRunID: 4001, Requests: tc.wantRequests, Annotations: tc.located, SummaryBytes: md.Len()}, res)

			create := body(t, requests[0])
			require.Equal(t, "POST", requests[0].Method)
			require.Equal(t, "/repos/alice-candidate/itsm-sync/check-runs", requests[0].Path)
			require.Equal(t, "itsm-grader", create["name"])
			require.Equal(t, headSHA, create["head_sha"])
			require.Equal(t, "completed", create["status"])
			require.Equal(t, "neutral", create["conclusion"])
			require.Equal(t, md.String(), output(t, requests[0])["summary"], "a report under the limit is the summary as it is")
			require.Equal(t, "Score 40.4 / 100, 1 critical finding", output(t, requests[0])["title"])

			wantPath := "src/http.ts"
			if tc.dir != "" {
				wantPath = tc.dir + "/src/http.ts"
			}
			line := 0
			for i, r := range requests {
				require.Equal(t, "Bearer "+testToken, r.Auth)
				if i > 0 {
					require.Equal(t, "PATCH", r.Method)
					require.Equal(t, "/repos/alice-candidate/itsm-sync/check-runs/4001", r.Path)
					require.Equal(t, "itsm-grader", body(t, r)["name"], "an update always names the run")
				}
				batch := annotationsOf(t, r)
				require.LessOrEqual(t, len(batch), feedback.AnnotationsPerRequest)
				for _, a := range batch {
					line++
					require.Equal(t, map[string]any{
						"path": wantPath, "start_line": float64(line), "end_line": float64(line), "start_column": float64(5), "end_column": float64(5),
						"annotation_level": "failure", "title": "static.secret_logged: No credential flows into a logging call",
						"message":     "console.debug receives headers passed whole. a logging call receives a credential",
						"raw_details": "console.debug(req.url, req.headers);",
					}, a)
				}
			}
			require.Equal(t, tc.located, line, "every annotation was sent once, in order")
		})
	}
}

func TestFullLeavesOutPathsOutsideTheRepository(t *testing.T) {
	t.Parallel()
	f := newFakeGitHub(t)
	rep := gradedReport(2, builds)
	sl := rep.Finding("static.secret_logged")
	sl.Evidence = append(sl.Evidence, finding.Evidence{File: "../../etc/passwd", Line: 1, Text: "outside"}, finding.Evidence{File: "/etc/passwd", Line: 1, Text: "absolute"})
	res, err := quick().Full(t.Context(), f.client(t), target(1), rep)
	require.NoError(t, err)
	require.Equal(t, 2, res.Annotations)
	require.Equal(t, 2, res.Dropped)
	for _, a := range annotationsOf(t, f.seen()[0]) {
		require.Equal(t, "src/http.ts", a["path"])
	}
	require.Contains(t, output(t, f.seen()[0])["summary"], "2 located findings are not annotated")
}

func TestFullCutsA200kBReportOnACharacterBoundary(t *testing.T) {
	t.Parallel()
	rep := gradedReport(1, builds)
	// 200 kB of three- and four-byte characters, in summaries and in a code block's excerpts.
	sl := rep.Finding("static.secret_logged")
	for i := range 600 {
		sl.Evidence = append(sl.Evidence, finding.Evidence{Scenario: "happy", Text: strings.Repeat("日本語の証拠", 10),
			Excerpts: []string{fmt.Sprintf("%d %s", i, strings.Repeat("🎫✓", 30))}})
	}
	var md bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	require.Greater(t, md.Len(), 200_000)

	f := newFakeGitHub(t)
	res, err := quick().Full(t.Context(), f.client(t), target(1), rep)
	require.NoError(t, err)
	summary, ok := output(t, f.seen()[0])["summary"].(string)
	require.True(t, ok)
	require.LessOrEqual(t, len(summary), feedback.MaxSummaryBytes)
	require.Greater(t, len(summary), feedback.MaxSummaryBytes-8192, "the cut keeps most of the room")
	require.True(t, utf8.ValidString(summary))
	require.True(t, res.Cut)
	require.Equal(t, len(summary), res.SummaryBytes)
	require.Contains(t, summary, fmt.Sprintf("of %d bytes: GitHub limits a check run's summary to 65535 bytes", md.Len()))
	require.True(t, strings.HasPrefix(md.String(), summary[:strings.LastIndex(summary, "\n  ```\n")]), "the summary is the report's beginning")
	fences := 0
	for _, l := range strings.Split(summary, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "```") {
			fences++
		}
	}
	require.Zero(t, fences%2, "every code block the cut opened is closed")
}

func TestFullWithATokenSaysItNeedsAnApp(t *testing.T) {
	t.Parallel()
	f := newFakeGitHub(t)
	f.tokenOnly = true
	p := quick()
	_, err := p.Full(t.Context(), f.client(t), target(0), gradedReport(3, builds))
	require.ErrorIs(t, err, feedback.ErrChecksForbidden)
	require.ErrorContains(t, err, "You must authenticate via a GitHub App")
	_, err = p.Full(t.Context(), f.client(t), target(0), gradedReport(3, builds))
	require.ErrorIs(t, err, feedback.ErrChecksForbidden)
	require.Len(t, f.seen(), 1, "the second post is refused without asking GitHub again")
}

func TestATargetMustNameACommitAndAReceiptItsTime(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		target func() feedback.Target
		want   string
	}{
		{"a short SHA", func() feedback.Target { tg := target(1); tg.HeadSHA = "0d1a26e"; return tg }, "not a full lowercase commit SHA"},
		{"a branch name", func() feedback.Target { tg := target(1); tg.HeadSHA = "main"; return tg }, "not a full lowercase commit SHA"},
		{"no repository", func() feedback.Target { tg := target(1); tg.Repo = ""; return tg }, "owner and a repository"},
		{"no receive time", func() feedback.Target { tg := target(1); tg.Received = time.Time{}; return tg }, "server time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGitHub(t)
			_, err := quick().Receipt(t.Context(), f.client(t), tc.target(), builds)
			require.ErrorContains(t, err, tc.want)
			require.Empty(t, f.seen())
		})
	}
}

func TestModeNonePostsNothing(t *testing.T) {
	t.Parallel()
	f := newFakeGitHub(t)
	res, err := quick().Post(t.Context(), f.client(t), target(1), feedback.ModeNone, gradedReport(3, builds))
	require.NoError(t, err)
	require.Equal(t, feedback.Result{}, res)
	require.Empty(t, f.seen())
}

// TestRateLimitsAreWaitedOut: each limit is answered once, then the fake accepts; the writer
// must wait what GitHub asked, no less, and not a default minute either.
func TestRateLimitsAreWaitedOut(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault func() fault
	}{
		{"a 403 secondary limit with Retry-After: 1", func() fault { return secondaryLimit("1") }},
		{"a 403 with Retry-After: 1 and no documentation URL", func() fault { return plainSecondaryLimit("1") }},
		{"a 429 with Retry-After: 1", func() fault { return tooManyRequests("Retry-After", "1") }},
		{"a 429 with an HTTP-date Retry-After", func() fault {
			return tooManyRequests("Retry-After", time.Now().Add(2*time.Second).UTC().Format(httpDate))
		}},
		{"a 429 with X-RateLimit-Reset", func() fault {
			return tooManyRequests("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(2*time.Second).Unix()))
		}},
		{"a 403 for the exhausted hourly budget", func() fault { return primaryLimit(time.Now().Add(2 * time.Second)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGitHub(t)
			f.script(tc.fault())
			res, err := quick().Full(t.Context(), f.client(t), target(1), gradedReport(1, builds))
			require.NoError(t, err)
			requests := f.seen()
			require.Len(t, requests, 2, "one refused request, one retry")
			require.Equal(t, 2, res.Requests)
			require.Equal(t, requests[0].Body, requests[1].Body, "the retry is the same request")
			gap := requests[1].At.Sub(requests[0].At)
			require.GreaterOrEqual(t, gap, time.Second, "waited what GitHub asked")
			require.Less(t, gap, 4*time.Second, "and not much more")
		})
	}
}

const httpDate = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestRateLimitWaitsAreBounded(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		opts         feedback.Options
		faults       []fault
		cancelAfter  time.Duration
		wantErr      string
		wantRequests int
	}{
		{"a Retry-After longer than MaxWait fails at once", feedback.Options{MaxWait: 2 * time.Second},
			[]fault{secondaryLimit("3600")}, 0, "longer than the 2s this writer waits", 1},
		{"an hourly budget reset an hour away fails at once", feedback.Options{MaxWait: 2 * time.Second},
			[]fault{primaryLimit(time.Now().Add(time.Hour))}, 0, "longer than the 2s", 1},
		{"retries stop after MaxRetries", feedback.Options{MaxRetries: 2},
			[]fault{tooManyRequests("Retry-After", "1"), tooManyRequests("Retry-After", "1"), tooManyRequests("Retry-After", "1")}, 0, "still rate limited after 2 retries", 3},
		{"a wait ends with the context", feedback.Options{},
			[]fault{secondaryLimit("30")}, 300 * time.Millisecond, "context canceled", 1},
		{"a secondary limit without Retry-After waits until X-RateLimit-Reset, as go-github then blocks", feedback.Options{MaxWait: 2 * time.Second},
			[]fault{secondaryLimit("")}, 0, "longer than the 2s", 1},
		{"a secondary limit with neither header waits a minute, cut by the context", feedback.Options{},
			[]fault{bareSecondaryLimit()}, 300 * time.Millisecond, "context canceled", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGitHub(t)
			f.script(tc.faults...)
			ctx := t.Context()
			if tc.cancelAfter > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tc.cancelAfter, cancel)
			}
			tc.opts.WriteInterval = time.Millisecond
			start := time.Now()
			res, err := feedback.NewPoster(tc.opts).Full(ctx, f.client(t), target(1), gradedReport(1, builds))
			require.ErrorContains(t, err, tc.wantErr)
			require.Len(t, f.seen(), tc.wantRequests)
			require.Equal(t, tc.wantRequests, res.Requests)
			require.Less(t, time.Since(start), time.Duration(tc.wantRequests)*time.Second+3*time.Second, "no wait beyond the bound")
		})
	}
}

// TestARateLimitedReceiptIsNotMistakenForAToken: a check run refused by a rate limit longer
// than the writer waits is an error, not the 403 of a token: no status is posted, and the next
// receipt tries a check run again.
func TestARateLimitedReceiptIsNotMistakenForAToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault fault
	}{
		{"a secondary limit go-github recognises", secondaryLimit("3600")},
		{"a 403 with Retry-After it does not", plainSecondaryLimit("3600")},
		{"an exhausted hourly budget", primaryLimit(time.Now().Add(time.Hour))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGitHub(t)
			f.script(tc.fault)
			p := feedback.NewPoster(feedback.Options{WriteInterval: time.Millisecond, MaxWait: 2 * time.Second})
			_, err := p.Receipt(t.Context(), f.client(t), target(1), builds)
			require.ErrorContains(t, err, "rate limited")
			require.Len(t, f.seen(), 1, "no status posted")
			// A new client, as after a restart: go-github's own client would refuse locally
			// until the limit lifts.
			res, err := p.Receipt(t.Context(), f.client(t), target(1), builds)
			require.NoError(t, err)
			require.Equal(t, "check_run", res.Kind)
			require.Equal(t, "/repos/alice-candidate/itsm-sync/check-runs", f.seen()[1].Path)
		})
	}
}

// TestOneInstallationHasOneWriter: three full reports for one installation at once: GitHub
// sees one request at a time, spaced by WriteInterval, and each check run's create and updates
// in a row.
func TestOneInstallationHasOneWriter(t *testing.T) {
	t.Parallel()
	f := newFakeGitHub(t)
	const interval = 100 * time.Millisecond
	p := feedback.NewPoster(feedback.Options{WriteInterval: interval})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			_, err := p.Full(ctx, f.client(t), target(2311213), gradedReport(120, builds))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	requests := f.seen()
	require.Len(t, requests, 9)
	require.Equal(t, 1, f.peakInFlight())
	for i := 1; i < len(requests); i++ {
		require.GreaterOrEqual(t, requests[i].At.Sub(requests[i-1].At), interval-5*time.Millisecond, "request %d came too soon", i)
	}
	for run := range 3 {
		create := requests[run*3]
		require.Equal(t, "POST", create.Method, "run %d starts with its create", run)
		for _, update := range requests[run*3+1 : run*3+3] {
			require.Equal(t, "PATCH", update.Method)
			require.True(t, strings.HasSuffix(update.Path, "/check-runs/"+fmt.Sprint(4001+run*3)), "run %d's updates follow its create: %s", run, update.Path)
		}
	}
}

// TestInstallationsWriteSideBySide: the writer is per installation: installation 1's request
// is held until installation 2's arrives, which it could not if they shared one.
func TestInstallationsWriteSideBySide(t *testing.T) {
	t.Parallel()
	f := newFakeGitHub(t)
	var mu sync.Mutex
	arrived, both := 0, make(chan struct{})
	f.hold = func(*http.Request) {
		mu.Lock()
		if arrived++; arrived == 2 {
			close(both)
		}
		mu.Unlock()
		select {
		case <-both:
		case <-time.After(5 * time.Second):
		}
	}
	p := quick()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, installation := range []int64{1, 2} {
		wg.Go(func() {
			_, err := p.Receipt(ctx, f.client(t), target(installation), builds)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 2, f.peakInFlight())
}
