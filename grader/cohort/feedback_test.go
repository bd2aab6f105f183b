package cohort

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/feedback"
	"github.com/itsm-grader/grader/grader/github/githubtest"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/store"
)

// fakeBuild stands in for the build step (fetch and bundle in the sandbox, which have their own
// tests): it answers the builds it is given in turn, the last one from then on, and records the
// sources it was asked for.
type fakeBuild struct {
	mu      sync.Mutex
	answers []buildAnswer
	sources []string
}

type buildAnswer struct {
	build report.Build
	err   error
}

func (f *fakeBuild) build(_ context.Context, source string) (report.Build, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sources = append(f.sources, source)
	a := f.answers[min(len(f.sources), len(f.answers))-1]
	return a.build, a.err
}

var (
	builds       = report.Build{OK: true, TookMS: 1200}
	doesNotBuild = report.Build{Stage: "contract", Summary: "src/index.ts does not export syncTickets (it exports: main)",
		Messages: []string{"src/index.ts(3,1): error TS2304: Cannot find name 'fetchh'."}}
)

// runFeedback runs a feedback worker until every feedback job of the cohort is settled (done
// or failed), then stops it, and returns the jobs.
func runFeedback(t *testing.T, w *FeedbackWorker) []store.FeedbackState {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var jobs []store.FeedbackState
	require.Eventually(t, func() bool {
		var err error
		jobs, err = w.Store.FeedbackJobs(context.Background(), ghCohort)
		require.NoError(t, err)
		for _, j := range jobs {
			if j.Status != store.Done && j.Status != store.Failed {
				return false
			}
		}
		return len(jobs) > 0
	}, 30*time.Second, 10*time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	return jobs
}

func newWorker(st *store.Store, gh GitHubREST, b *fakeBuild) *FeedbackWorker {
	return &FeedbackWorker{Store: st, GitHub: gh, Build: b.build, Poll: 20 * time.Millisecond,
		Poster: feedback.NewPoster(feedback.Options{WriteInterval: time.Millisecond, MaxWait: 5 * time.Second})}
}

func TestAReceiptSaysOnlyWhetherThePushBuilds(t *testing.T) {
	t.Parallel()
	app := githubtest.NewApp(t, 4242)
	deadline := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	received := deadline.Add(-time.Minute)
	cases := []struct {
		name       string
		app        *githubtest.App
		build      report.Build
		wantKind   string
		wantPosted string
		want       string
	}{
		{"as an App, a check run", app, builds, "check_run", store.PostedCheckRun,
			"received commit aaaaaaa at 2026-12-01 16:59:00 UTC; it builds and exports syncTickets"},
		{"with a token, a commit status", nil, builds, "status", store.PostedStatus,
			"received commit aaaaaaa at 2026-12-01 16:59:00 UTC; it builds and exports syncTickets"},
		{"a commit that does not build says how", nil, doesNotBuild, "status", store.PostedStatus,
			"received commit aaaaaaa at 2026-12-01 16:59:00 UTC; it does not build (contract): src/index.ts does not export syncTickets"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gh := newFakeGitHub(t)
			gh.addRepo("alice-candidate", shaA)
			st := ghRound(t, store.FeedbackReceipt, deadline, "alice")
			recordPush(t, st, "d-1", "alice", zero, shaA, received)
			b := &fakeBuild{answers: []buildAnswer{{build: tc.build}}}

			jobs := runFeedback(t, newWorker(st, gh.client(t, tc.app), b))
			require.Equal(t, store.Done, jobs[0].Status)
			require.Equal(t, tc.wantPosted, jobs[0].Posted)
			require.Equal(t, []string{"github.com/alice-candidate/itsm-sync@" + shaA}, b.sources, "the pushed commit is built")
			var sent []ghPost
			for _, p := range gh.received() {
				if p.Kind == tc.wantKind {
					sent = append(sent, p)
				}
			}
			require.Len(t, sent, 1)
			require.Equal(t, "alice-candidate/itsm-sync", sent[0].Repo)
			text := receiptText(t, sent[0])
			require.Contains(t, text, tc.want)
			for _, secret := range []string{"Score", "score", "finding", "critical", "backoff", "retry"} {
				require.NotContains(t, text, secret, "a receipt says nothing of the rubric")
			}
			if tc.app == nil {
				require.Equal(t, "Bearer "+ghToken, sent[0].Auth)
				require.Equal(t, map[bool]string{true: "success", false: "failure"}[tc.build.OK], sent[0].Body["state"])
			} else {
				require.True(t, strings.HasPrefix(sent[0].Auth, "token ghs_"), "an installation token: %q", sent[0].Auth)
				require.Equal(t, shaA, sent[0].Body["head_sha"])
				require.Equal(t, "neutral", sent[0].Body["conclusion"])
			}
		})
	}
}

// receiptText is what a receipt shows: a status's description, a check run's summary.
func receiptText(t *testing.T, p ghPost) string {
	t.Helper()
	if p.Kind == "status" {
		return p.Body["description"].(string)
	}
	out, ok := p.Body["output"].(map[string]any)
	require.True(t, ok)
	return out["title"].(string) + "\n" + out["summary"].(string)
}

// sourceCapture stands in for grading.Capture on a GitHub source: it records the sources it is
// asked to grade and observes a submission that does not build.
type sourceCapture struct {
	mu      sync.Mutex
	sources []string
}

func (c *sourceCapture) capture(_ context.Context, source, _ string) (*evidence.Evidence, error) {
	c.mu.Lock()
	c.sources = append(c.sources, source)
	c.mu.Unlock()
	return &evidence.Evidence{
		SchemaVersion: evidence.SchemaVersion,
		Versions:      evidence.Versions{Grader: "test", Suite: "test", Rules: judge.RulesVersion},
		Build:         evidence.Build{OK: false, Stage: "bundle", Summary: "does not parse (fake)"},
	}, nil
}

func (c *sourceCapture) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sources...)
}

func TestAFullReportIsPostedOnceTheGradingIsDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	deadline := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	gh := newFakeGitHub(t)
	gh.addRepo("alice-candidate", shaA)
	st := ghRound(t, store.FeedbackFull, deadline, "alice")
	recordPush(t, st, "d-1", "alice", zero, shaA, deadline.Add(-time.Minute))
	b := &fakeBuild{answers: []buildAnswer{{err: errors.New("a full report needs no build")}}}
	worker := newWorker(st, gh.client(t, githubtest.NewApp(t, 4242)), b)

	job, ok, err := st.ClaimFeedback(ctx, "early", time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "nothing to post before the grading is done (claimed %d)", job.ID)

	fake := &sourceCapture{}
	bell := NewBell()
	queue := &QueueWorker{Store: st, Poll: 20 * time.Millisecond, Bell: bell, Graded: bell,
		Options: Options{Capture: fake.capture, Write: writeReport, Logger: slog.New(slog.DiscardHandler)}}
	qctx, stop := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- queue.Run(qctx) }()
	t.Cleanup(func() { // before the store closes
		stop()
		require.ErrorIs(t, <-stopped, context.Canceled)
	})
	worker.Bell = bell

	jobs := runFeedback(t, worker)
	require.Equal(t, []store.FeedbackState{{Candidate: "alice", Kind: store.FeedbackFull, SHA: shaA, Status: store.Done,
		Attempts: 1, Posted: store.PostedCheckRun, CheckRunID: 4001}}, jobs)
	require.Empty(t, b.sources, "no build: the grading did it")
	require.Equal(t, []string{"github.com/alice-candidate/itsm-sync@" + shaA}, fake.got(), "the grading fetched the pushed commit")
	sent := gh.received()
	require.Len(t, sent, 1)
	require.Equal(t, "check_run", sent[0].Kind)
	out := sent[0].Body["output"].(map[string]any)
	require.True(t, strings.HasPrefix(out["title"].(string), "Score "), out["title"])
	require.Contains(t, out["summary"], "did not build", "the report's Markdown")
}

// settleGrading claims the cohort's one grading and records its result: a report judged by
// this grader's rules, or (report nil) the candidate's own failure.
func settleGrading(t *testing.T, st *store.Store, rep *report.Report) {
	t.Helper()
	ctx := context.Background()
	job, ok, err := st.Claim(ctx, ghCohort, "grader", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	if rep == nil {
		_, err := st.Fail(ctx, job.Ticket, errors.New("no such commit"), false)
		require.NoError(t, err)
		return
	}
	rep.Versions.Rules = judge.RulesVersion
	require.NoError(t, st.Finish(ctx, job.Ticket, store.Result{Report: rep}))
}

func TestFailedPostsAreRetriedUnlessNoRetryCanMendThem(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	graded := report.New(report.Submission{Source: "github.com/alice-candidate/itsm-sync@" + shaA}, doesNotBuild, nil, nil, deadline)
	cases := []struct {
		name    string
		mode    string
		answers []buildAnswer
		report  *report.Report // the grading's, under full feedback; nil: the candidate's own failure
		want    store.FeedbackState
	}{
		{"a build the grader could not run is tried again", store.FeedbackReceipt,
			[]buildAnswer{{err: errors.New("the engine is not answering")}, {build: builds}}, nil,
			store.FeedbackState{Status: store.Done, Attempts: 2, Posted: store.PostedStatus, LastError: "the engine is not answering"}},
		{"a build that never runs fails after every attempt", store.FeedbackReceipt,
			[]buildAnswer{{err: errors.New("the engine is not answering")}}, nil,
			store.FeedbackState{Status: store.Failed, Attempts: store.DefaultMaxAttempts, LastError: "the engine is not answering"}},
		{"a full report with a token, which cannot create check runs, is not tried again", store.FeedbackFull,
			nil, graded, store.FeedbackState{Status: store.Failed, Attempts: 1, LastError: "GitHub refused to create a check run"}},
		{"a grading that is the candidate's own failure has no report to post", store.FeedbackFull,
			nil, nil, store.FeedbackState{Status: store.Done, Attempts: 1, Posted: store.PostedNothing}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gh := newFakeGitHub(t)
			gh.addRepo("alice-candidate", shaA)
			st := ghRound(t, tc.mode, deadline, "alice")
			recordPush(t, st, "d-1", "alice", zero, shaA, deadline.Add(-time.Minute))
			if tc.mode == store.FeedbackFull {
				settleGrading(t, st, tc.report)
			}
			b := &fakeBuild{answers: tc.answers}
			jobs := runFeedback(t, newWorker(st, gh.client(t, nil), b))
			require.Len(t, jobs, 1)
			got := jobs[0]
			require.Equal(t, tc.want.Status, got.Status)
			require.Equal(t, tc.want.Attempts, got.Attempts)
			require.Equal(t, tc.want.Posted, got.Posted)
			require.Contains(t, got.LastError, tc.want.LastError)
			if tc.want.Posted == "" || tc.want.Posted == store.PostedNothing {
				for _, p := range gh.received() {
					require.NotEqual(t, "check_run", p.Kind, "nothing was posted")
				}
			}
		})
	}
}

func TestABellWakesEveryWaiter(t *testing.T) {
	t.Parallel()
	b := NewBell()
	first, second := b.C(), b.C()
	b.Ring()
	for _, c := range []<-chan struct{}{first, second} {
		select {
		case <-c:
		default:
			t.Fatal("a waiter was not woken")
		}
	}
	select {
	case <-b.C():
		t.Fatal("a ring wakes those waiting then, not later ones")
	default:
	}
	var none *Bell
	none.Ring()
	require.Nil(t, none.C())
}
