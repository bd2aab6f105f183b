package cohort

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/github"
	"github.com/itsm-grader/grader/grader/github/githubtest"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/store"
	"github.com/itsm-grader/grader/grader/webhook"
)

const (
	ghToken        = "ghp_cohortTestToken00000000000000000000"
	ghCohort       = "autumn"
	ghInstallation = 2311213
)

var (
	shaA = strings.Repeat("a", 40)
	shaB = strings.Repeat("b", 40)
	shaC = strings.Repeat("c", 40)
	zero = strings.Repeat("0", 40)
)

// fakeGitHub is githubtest's server with the two write endpoints feedback uses, answering as
// GitHub does (a check run needs an App: a personal token gets 403), recording what they got.
type fakeGitHub struct {
	srv   *githubtest.Server
	guard *githubtest.Guard

	mu    sync.Mutex
	posts []ghPost
	runs  int64
}

// ghPost is a check run or a commit status the fake received.
type ghPost struct {
	Kind, Repo, Auth string
	Body             map[string]any
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{srv: githubtest.NewServer(t), guard: &githubtest.Guard{}, runs: 4000}
	f.srv.AddToken(ghToken)
	f.srv.Handle("POST /repos/{owner}/{repo}/check-runs", f.checkRun)
	f.srv.Handle("POST /repos/{owner}/{repo}/statuses/{sha}", f.status)
	t.Cleanup(func() { require.Zero(t, f.guard.Refused(), "no request tried to leave loopback") })
	return f
}

// addRepo serves OWNER/itsm-sync with main at sha, in the App's installation.
func (f *fakeGitHub) addRepo(owner, sha string) {
	f.srv.AddRepo(&githubtest.Repo{Owner: owner, Name: "itsm-sync", DefaultBranch: "main", Private: true,
		Refs: map[string]string{"main": sha}, Installation: ghInstallation})
}

// client is a GitHub client for the fake: as a token, or as app when it is not nil.
func (f *fakeGitHub) client(t *testing.T, app *githubtest.App) *github.Client {
	t.Helper()
	cfg := github.Config{APIURL: f.srv.API.URL, WebHost: "github.com", Token: ghToken, Transport: githubtest.Transport(f.guard),
		MaxRateLimitWait: 10 * time.Second}
	if app != nil {
		f.srv.SetApp(app)
		cfg.Token, cfg.AppID, cfg.PrivateKey = "", app.ID, app.PEM
	}
	c, err := github.NewClient(cfg)
	require.NoError(t, err)
	return c
}

func (f *fakeGitHub) record(kind string, r *http.Request) (map[string]any, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts = append(f.posts, ghPost{Kind: kind, Repo: r.PathValue("owner") + "/" + r.PathValue("repo"), Auth: r.Header.Get("Authorization"), Body: body})
	return body, nil
}

func (f *fakeGitHub) checkRun(w http.ResponseWriter, r *http.Request) {
	_, caller, ok := f.srv.Repo(w, r)
	if !ok {
		return
	}
	if caller.Kind != githubtest.InstallationToken {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "Resource not accessible by personal access token",
			"documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run"})
		return
	}
	body, err := f.record("check_run", r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
		return
	}
	f.mu.Lock()
	f.runs++
	id := f.runs
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "head_sha": body["head_sha"], "name": body["name"], "status": "completed"})
}

func (f *fakeGitHub) status(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := f.srv.Repo(w, r); !ok {
		return
	}
	body, err := f.record("status", r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": 1, "state": body["state"], "context": body["context"]})
}

func (f *fakeGitHub) received() []ghPost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ghPost(nil), f.posts...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiCalls are the fake's API requests whose path holds part.
func (f *fakeGitHub) apiCalls(part string) []githubtest.Request {
	var out []githubtest.Request
	for _, r := range f.srv.Requests() {
		if r.Host == "api" && strings.Contains(r.Path, part) {
			out = append(out, r)
		}
	}
	return out
}

// ghRound is a store with a GitHub cohort whose deadline is deadline and whose candidates hand
// in through CANDIDATE-candidate/itsm-sync on github.com.
func ghRound(t *testing.T, feedbackMode string, deadline time.Time, candidates ...string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "round.db"))
	require.NoError(t, st.ConfigureGitHub(ctx, ghCohort, store.GitHubSettings{Feedback: feedbackMode, RulesVersion: judge.RulesVersion}))
	require.NoError(t, st.CreateCohort(ctx, ghCohort, deadline))
	for _, c := range candidates {
		require.NoError(t, st.RosterRepository(ctx, ghCohort, c, store.GitHubRepository{Host: "github.com", Owner: c + "-candidate", Repo: "itsm-sync"}))
	}
	return st
}

// recordPush records a push delivery of GitHub's shape, whose commit claims to be from long
// before anything (the candidate sets commit dates: they are never read).
func recordPush(t *testing.T, st *store.Store, id, candidate, before, after string, received time.Time) {
	t.Helper()
	repo := candidate + "-candidate/itsm-sync"
	payload, err := json.Marshal(map[string]any{
		"ref": "refs/heads/main", "before": before, "after": after,
		"repository":   map[string]any{"full_name": repo, "default_branch": "main", "pushed_at": received.Unix()},
		"head_commit":  map[string]any{"id": after, "timestamp": "2015-05-05T19:40:15-04:00"},
		"installation": map[string]any{"id": ghInstallation},
	})
	require.NoError(t, err)
	fresh, err := st.Record(context.Background(), webhook.Delivery{ID: id, Event: webhook.EventPush, Installation: ghInstallation,
		Repository: repo, Ref: "refs/heads/main", SHA: after, ReceivedAt: received, Payload: payload})
	require.NoError(t, err)
	require.True(t, fresh)
}

// claimAll claims every grading of the cohort and returns their sources.
func claimAll(t *testing.T, st *store.Store) []string {
	t.Helper()
	var out []string
	for {
		job, ok, err := st.Claim(context.Background(), ghCohort, "test", time.Minute)
		require.NoError(t, err)
		if !ok {
			return out
		}
		out = append(out, job.Source)
	}
}

func TestFreezeRecordsTheHeadGitHubReportsAndGradesIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	deadline := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	gh := newFakeGitHub(t)
	gh.addRepo("alice-candidate", shaA)
	gh.addRepo("bob-candidate", shaC) // bob pushed C after the deadline
	st := ghRound(t, store.FeedbackReceipt, deadline, "alice", "bob", "carol")
	recordPush(t, st, "d-1", "bob", zero, shaB, deadline.Add(-time.Minute))
	recordPush(t, st, "d-2", "bob", shaB, shaC, deadline.Add(time.Second))
	now := deadline.Add(2 * time.Second)
	d := &Deadlines{Store: st, GitHub: gh.client(t, nil), Now: func() time.Time { return now }, Retry: time.Minute}

	_, err := d.Freeze(ctx, ghCohort, deadline.Add(-time.Millisecond))
	require.ErrorIs(t, err, store.ErrBeforeDeadline)
	require.Empty(t, gh.srv.Requests(), "nothing is asked before the deadline")

	rep, err := d.Freeze(ctx, ghCohort, now)
	require.NoError(t, err)
	require.Equal(t, deadline, rep.Deadline)
	require.Len(t, rep.Frozen, 2)
	alice, bob := rep.Frozen[0], rep.Frozen[1]
	require.Equal(t, shaA, alice.Head, "GitHub's head")
	require.Equal(t, shaA, alice.SHA)
	require.Zero(t, alice.LatePushes)
	require.Equal(t, shaC, bob.Head, "GitHub reports bob's late push")
	require.Equal(t, shaB, bob.SHA, "what the late push moved the branch from is graded")
	require.Equal(t, 1, bob.LatePushes)
	require.Len(t, rep.Failed, 1, "carol's repository does not exist")
	require.Equal(t, "carol", rep.Failed[0].Candidate)
	require.ErrorContains(t, rep.Failed[0].Err, "not found")
	require.Equal(t, now.Add(time.Minute), rep.Failed[0].RetryAt)
	retryAt := rep.Failed[0].RetryAt

	require.ElementsMatch(t, []string{"github.com/alice-candidate/itsm-sync@" + shaA, "github.com/bob-candidate/itsm-sync@" + shaB},
		claimAll(t, st), "the frozen commits are graded, bob's late one is not")
	pushes, err := st.Pushes(ctx, ghCohort)
	require.NoError(t, err)
	require.True(t, pushes[1].Late, "a commit dated 2015 pushed after the deadline is late")
	require.Zero(t, pushes[1].GradingID)
	for _, r := range gh.apiCalls("/repos/") {
		require.Equal(t, "Bearer "+ghToken, r.Authorization, r.Path)
	}
	require.Len(t, gh.apiCalls("/commits/main"), 2, "the head is asked of the default branch by name")

	gh.addRepo("carol-candidate", shaC)
	rep, err = d.Freeze(ctx, ghCohort, now)
	require.NoError(t, err)
	require.Empty(t, rep.Frozen, "carol's retry is not due yet")
	now = retryAt
	rep, err = d.Freeze(ctx, ghCohort, now)
	require.NoError(t, err)
	require.Len(t, rep.Frozen, 1)
	require.Equal(t, shaC, rep.Frozen[0].SHA)
	require.Contains(t, rep.Frozen[0].Note, "after the deadline", "a freeze a minute late says so")
	require.Equal(t, []string{"github.com/carol-candidate/itsm-sync@" + shaC}, claimAll(t, st))

	rep, err = d.Freeze(ctx, ghCohort, now.Add(time.Hour))
	require.NoError(t, err)
	require.Empty(t, rep.Frozen, "a repository is frozen once")
}

func TestWatchFreezesWhenTheDeadlinePasses(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	gh.addRepo("alice-candidate", shaA)
	deadline := time.Now().Add(300 * time.Millisecond).Truncate(time.Millisecond)
	st := ghRound(t, store.FeedbackNone, deadline, "alice")
	queued := make(chan struct{}, 1)
	d := &Deadlines{Store: st, GitHub: gh.client(t, nil), Idle: 50 * time.Millisecond,
		Queued: func() { queued <- struct{}{} }, Logger: slog.New(slog.NewTextHandler(testLog{t}, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Watch(ctx) }()

	select {
	case <-queued:
	case <-time.After(30 * time.Second):
		t.Fatal("the deadline passed and nothing was frozen")
	}
	repos, err := st.GitHubRepositories(context.Background(), ghCohort)
	require.NoError(t, err)
	require.Equal(t, shaA, repos[0].FrozenSHA)
	require.False(t, repos[0].FrozenAt.Before(deadline), "frozen at %s, before the deadline %s", repos[0].FrozenAt, deadline)
	require.Equal(t, []string{"github.com/alice-candidate/itsm-sync@" + shaA}, claimAll(t, st))

	cancel()
	select {
	case err := <-done:
		require.True(t, errors.Is(err, context.Canceled), "%v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not stop with its context")
	}
}

// testLog writes a logger's lines through t.Log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
