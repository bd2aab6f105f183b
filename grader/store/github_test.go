package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/webhook"
)

// A round with a deadline an hour after the test clock's start.
const ghCohort = "autumn"

var (
	shaA = strings.Repeat("a", 40)
	shaB = strings.Repeat("b", 40)
	shaC = strings.Repeat("c", 40)
	shaD = strings.Repeat("d", 40)
	zero = strings.Repeat("0", 40)
)

// repoOf is the repository rostered for a candidate in these tests.
func repoOf(candidate string) GitHubRepository {
	return GitHubRepository{Host: "github.com", Owner: candidate + "-candidate", Repo: "itsm-sync"}
}

// ghStore is a store whose clock the test moves, with a GitHub cohort whose deadline is an hour
// away and the candidates' repositories rostered.
type ghStore struct {
	*Store
	clock    *clock
	deadline time.Time
}

func newGHStore(t *testing.T, set GitHubSettings, candidates ...string) ghStore {
	t.Helper()
	c := newClock()
	s := openStore(t, WithClock(c.Now), WithBackoff(func(int) time.Duration { return time.Minute }))
	g := ghStore{Store: s, clock: c, deadline: c.Now().Add(time.Hour)}
	ctx := ctxT(t)
	if set.RulesVersion == "" {
		set.RulesVersion = testRules
	}
	require.NoError(t, s.ConfigureGitHub(ctx, ghCohort, set))
	require.NoError(t, s.CreateCohort(ctx, ghCohort, g.deadline))
	for _, name := range candidates {
		require.NoError(t, s.RosterRepository(ctx, ghCohort, name, repoOf(name)))
	}
	return g
}

// push is a push delivery of GitHub's shape to a candidate's repository, received at received.
type push struct {
	id, repo, ref, before, after, defaultBranch string
	deleted                                     bool
	installation                                int64
	received                                    time.Time
}

func pushTo(candidate, id, before, after string, received time.Time) push {
	return push{id: id, repo: repoOf(candidate).FullName(), ref: "refs/heads/main", before: before, after: after,
		defaultBranch: "main", installation: 2311213, received: received}
}

func (p push) delivery(t *testing.T) webhook.Delivery {
	t.Helper()
	payload, err := json.Marshal(map[string]any{
		"ref": p.ref, "before": p.before, "after": p.after, "deleted": p.deleted,
		"repository": map[string]any{"full_name": p.repo, "default_branch": p.defaultBranch, "pushed_at": p.received.Unix() - 1},
		"pusher":     map[string]any{"name": "someone", "email": "someone@example.com"},
	})
	require.NoError(t, err)
	d := webhook.Delivery{ID: p.id, Event: webhook.EventPush, Installation: p.installation, Repository: p.repo,
		Ref: p.ref, SHA: p.after, Deleted: p.deleted, ReceivedAt: p.received, Payload: payload}
	if p.deleted {
		d.SHA = ""
	}
	return d
}

func (g ghStore) record(t *testing.T, p push) bool {
	t.Helper()
	fresh, err := g.Record(ctxT(t), p.delivery(t))
	require.NoError(t, err)
	return fresh
}

// queued is what the store holds after deliveries, as a test compares it.
type queued struct {
	Deliveries, Payloads, Pushes, Late, Gradings, Receipts, FullReports int
}

func (g ghStore) queued(t *testing.T) queued {
	t.Helper()
	db := g.writer
	return queued{
		Deliveries:  rowCount(t, db, "github_deliveries", ""),
		Payloads:    rowCount(t, db, "github_deliveries", "payload IS NOT NULL"),
		Pushes:      rowCount(t, db, "github_pushes", ""),
		Late:        rowCount(t, db, "github_pushes", "late = 1"),
		Gradings:    rowCount(t, db, "gradings", ""),
		Receipts:    rowCount(t, db, "github_feedback", "kind = 'receipt'"),
		FullReports: rowCount(t, db, "github_feedback", "kind = 'full'"),
	}
}

func TestARedeliveryIsANoOp(t *testing.T) {
	t.Parallel()
	g := newGHStore(t, GitHubSettings{Feedback: FeedbackReceipt}, "alice")
	p := pushTo("alice", "72d3162e-cc78-11e3-81ab-4c9367dc0958", zero, shaA, g.clock.Now())
	require.True(t, g.record(t, p), "the first delivery is fresh")
	want := queued{Deliveries: 1, Payloads: 1, Pushes: 1, Receipts: 1}
	require.Equal(t, want, g.queued(t))

	require.False(t, g.record(t, p), "the same delivery again is not")
	other := p
	other.after = shaB
	require.False(t, g.record(t, other), "a redelivery is known by its id, whatever it carries")
	require.Equal(t, want, g.queued(t), "a redelivery changed nothing")

	p.id = "a1b2c3d4-0000-11e3-81ab-4c9367dc0958"
	require.True(t, g.record(t, p), "another delivery of the same push is its own delivery")
	require.Equal(t, queued{Deliveries: 2, Payloads: 2, Pushes: 2, Receipts: 1}, g.queued(t),
		"its push is recorded; the commit's receipt is queued once")
}

func TestAPushQueuesWhatTheCohortsFeedbackSays(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		set  GitHubSettings
		// after is how long after the deadline the push is received (negative: before it).
		after time.Duration
		edit  func(p *push)
		want  queued
	}{
		{"no feedback: the push is recorded, nothing is queued", GitHubSettings{}, -time.Minute, nil,
			queued{Deliveries: 1, Payloads: 1, Pushes: 1}},
		{"receipt before the deadline: a receipt", GitHubSettings{Feedback: FeedbackReceipt}, -time.Minute, nil,
			queued{Deliveries: 1, Payloads: 1, Pushes: 1, Receipts: 1}},
		{"receipt at the deadline to the millisecond: still on time", GitHubSettings{Feedback: FeedbackReceipt}, 0, nil,
			queued{Deliveries: 1, Payloads: 1, Pushes: 1, Receipts: 1}},
		{"full before the deadline: a grading and its report", GitHubSettings{Feedback: FeedbackFull}, -time.Minute, nil,
			queued{Deliveries: 1, Payloads: 1, Pushes: 1, Gradings: 1, FullReports: 1}},
		{"receipt a millisecond after the deadline: late, nothing queued", GitHubSettings{Feedback: FeedbackReceipt}, time.Millisecond, nil,
			queued{Deliveries: 1, Payloads: 1, Pushes: 1, Late: 1}},
		{"full after the deadline: late, nothing queued", GitHubSettings{Feedback: FeedbackFull}, time.Hour, nil,
			queued{Deliveries: 1, Payloads: 1, Pushes: 1, Late: 1}},
		{"late pushes included: the grading alone, no feedback", GitHubSettings{Feedback: FeedbackReceipt, IncludeLate: true}, time.Hour, nil,
			queued{Deliveries: 1, Payloads: 1, Pushes: 1, Late: 1, Gradings: 1}},
		{"a push to another branch: only the delivery", GitHubSettings{Feedback: FeedbackFull}, -time.Minute,
			func(p *push) { p.ref = "refs/heads/feature" }, queued{Deliveries: 1, Payloads: 1}},
		{"a push to a tag: only the delivery", GitHubSettings{Feedback: FeedbackFull}, -time.Minute,
			func(p *push) { p.ref = "refs/tags/main" }, queued{Deliveries: 1, Payloads: 1}},
		{"a push to a renamed default branch follows the payload", GitHubSettings{Feedback: FeedbackReceipt}, -time.Minute,
			func(p *push) { p.ref, p.defaultBranch = "refs/heads/trunk", "trunk" }, queued{Deliveries: 1, Payloads: 1, Pushes: 1, Receipts: 1}},
		{"a repository spelled in another case is the rostered one", GitHubSettings{Feedback: FeedbackReceipt}, -time.Minute,
			func(p *push) { p.repo = "Alice-Candidate/ITSM-Sync" }, queued{Deliveries: 1, Payloads: 1, Pushes: 1, Receipts: 1}},
		{"a push to a repository nobody rostered: the delivery without its payload", GitHubSettings{Feedback: FeedbackFull}, -time.Minute,
			func(p *push) { p.repo = "mallory/itsm-sync" }, queued{Deliveries: 1}},
		{"a push deleting the branch: recorded, nothing queued", GitHubSettings{Feedback: FeedbackFull}, -time.Minute,
			func(p *push) { p.deleted, p.after = true, zero }, queued{Deliveries: 1, Payloads: 1, Pushes: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGHStore(t, tc.set, "alice")
			p := pushTo("alice", "72d3162e-cc78-11e3-81ab-4c9367dc0958", shaA, shaB, g.deadline.Add(tc.after))
			if tc.edit != nil {
				tc.edit(&p)
			}
			require.True(t, g.record(t, p))
			require.Equal(t, tc.want, g.queued(t))
		})
	}
}

func TestAQueuedGradingIsTheCommitAsGitHubSourceAndAReceiptStatesTheServerTime(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{Feedback: FeedbackFull}, "alice")
	received := g.deadline.Add(-10 * time.Minute)
	require.True(t, g.record(t, pushTo("alice", "d-1", shaA, shaB, received)))

	job := mustClaim(t, g.Store, ghCohort, "w", time.Minute)
	require.Equal(t, "github.com/alice-candidate/itsm-sync@"+shaB, job.Source)
	require.Equal(t, shaB, job.Commit)
	require.Equal(t, "commit:"+shaB, job.ContentHash)
	require.Equal(t, TrackUnknown, job.Track, "nothing of the repository is read when a push is recorded")
	require.Equal(t, testRules, job.RulesVersion)

	pushes, err := g.Pushes(ctx, ghCohort)
	require.NoError(t, err)
	require.Equal(t, []Push{{Candidate: "alice", DeliveryID: "d-1", Ref: "refs/heads/main", Before: shaA, SHA: shaB,
		ReceivedAt: received.UTC(), PushedAt: time.Unix(received.Unix()-1, 0).UTC(), GradingID: job.ID}}, pushes)
}

// TestRecordingIsOneTransaction makes each write after the delivery row fail in turn: the
// delivery is then not recorded either, so GitHub's redelivery is fresh and does everything.
func TestRecordingIsOneTransaction(t *testing.T) {
	t.Parallel()
	for _, table := range []string{"github_pushes", "gradings", "github_feedback"} {
		t.Run("a failure inserting into "+table, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			g := newGHStore(t, GitHubSettings{Feedback: FeedbackFull}, "alice")
			_, err := g.writer.Exec(fmt.Sprintf(`CREATE TRIGGER fail_midway BEFORE INSERT ON %s BEGIN SELECT RAISE(ABORT, 'disk full, say'); END`, table))
			require.NoError(t, err)
			d := pushTo("alice", "d-1", shaA, shaB, g.deadline.Add(-time.Minute)).delivery(t)

			fresh, err := g.Record(ctx, d)
			require.ErrorContains(t, err, "disk full, say")
			require.False(t, fresh)
			require.Equal(t, queued{}, g.queued(t), "nothing of the delivery is left")
			require.Equal(t, 0, rowCount(t, g.writer, "submissions", ""))

			_, err = g.writer.Exec(`DROP TRIGGER fail_midway`)
			require.NoError(t, err)
			fresh, err = g.Record(ctx, d)
			require.NoError(t, err)
			require.True(t, fresh, "the redelivery is recorded as new")
			require.Equal(t, queued{Deliveries: 1, Payloads: 1, Pushes: 1, Gradings: 1, FullReports: 1}, g.queued(t))
		})
	}
}

func TestRecordRefusesADeliveryWithoutIDOrEvent(t *testing.T) {
	t.Parallel()
	g := newGHStore(t, GitHubSettings{})
	for _, d := range []webhook.Delivery{{Event: "push"}, {ID: "d-1"}} {
		_, err := g.Record(ctxT(t), d)
		require.ErrorIs(t, err, ErrInvalid)
	}
}

func installationEvent(t *testing.T, id, event, action string, added, removed []string) webhook.Delivery {
	t.Helper()
	payload, err := json.Marshal(map[string]any{"action": action, "installation": map[string]any{"id": 2311213}})
	require.NoError(t, err)
	return webhook.Delivery{ID: id, Event: event, Action: action, Installation: 2311213, Added: added, Removed: removed,
		ReceivedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Payload: payload}
}

func TestInstallationEventsKeepTheAppsRepositoryListCurrent(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{}, "alice")
	steps := []struct {
		name     string
		delivery webhook.Delivery
		want     []string
	}{
		{"the App is installed on two repositories", installationEvent(t, "i-1", webhook.EventInstallation, "created",
			[]string{"alice-candidate/itsm-sync", "bob-candidate/itsm-sync"}, nil),
			[]string{"alice-candidate/itsm-sync", "bob-candidate/itsm-sync"}},
		{"one is added and one removed", installationEvent(t, "i-2", webhook.EventInstallationRepositories, "added",
			[]string{"Carol-Candidate/itsm-sync"}, []string{"bob-candidate/itsm-sync"}),
			[]string{"alice-candidate/itsm-sync", "Carol-Candidate/itsm-sync"}},
		{"a suspension changes nothing", installationEvent(t, "i-3", webhook.EventInstallation, "suspend", nil, nil),
			[]string{"alice-candidate/itsm-sync", "Carol-Candidate/itsm-sync"}},
		{"the same addition redelivered changes nothing", installationEvent(t, "i-2", webhook.EventInstallationRepositories, "added",
			[]string{"bob-candidate/itsm-sync"}, nil),
			[]string{"alice-candidate/itsm-sync", "Carol-Candidate/itsm-sync"}},
		{"removing a repository not listed changes nothing", installationEvent(t, "i-4", webhook.EventInstallationRepositories, "removed",
			nil, []string{"dave-candidate/itsm-sync"}),
			[]string{"alice-candidate/itsm-sync", "Carol-Candidate/itsm-sync"}},
		{"the App is uninstalled", installationEvent(t, "i-5", webhook.EventInstallation, "deleted",
			[]string{"alice-candidate/itsm-sync"}, nil), nil},
	}
	for _, step := range steps {
		_, err := g.Record(ctx, step.delivery)
		require.NoError(t, err, step.name)
		got, err := g.InstallationRepositories(ctx, 2311213)
		require.NoError(t, err)
		require.Equal(t, step.want, got, step.name)
		if step.want != nil {
			repos, err := g.GitHubRepositories(ctx, ghCohort)
			require.NoError(t, err)
			require.Equal(t, int64(2311213), repos[0].Installation, "%s: the rostered repository is known to be in the installation", step.name)
		}
	}
	require.Equal(t, 5, rowCount(t, g.writer, "github_deliveries", "payload IS NOT NULL"), "installation events keep their payload")
}

func TestRosteringARepository(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{}, "alice")
	require.ErrorIs(t, g.RosterRepository(ctx, "spring", "alice", repoOf("alice")), ErrNotFound, "a cohort without GitHub settings")
	require.ErrorIs(t, g.RosterRepository(ctx, ghCohort, "bob", repoOf("alice")), ErrInvalid, "alice's repository for bob")
	require.ErrorIs(t, g.RosterRepository(ctx, ghCohort, "bob", GitHubRepository{Host: "github.com", Owner: "bob", Repo: "a/b"}), ErrInvalid)
	require.ErrorIs(t, g.RosterRepository(ctx, ghCohort, "bob", GitHubRepository{Host: "github.com", Owner: "bob", Repo: "r", Track: "both"}), ErrInvalid)

	moved := GitHubRepository{Host: "github.com", Owner: "alice-candidate", Repo: "itsm-sync-v2", Track: TrackAI}
	require.NoError(t, g.RosterRepository(ctx, ghCohort, "alice", moved), "a candidate's repository can be replaced")
	repos, err := g.GitHubRepositories(ctx, ghCohort)
	require.NoError(t, err)
	require.Len(t, repos, 1)
	require.Equal(t, moved, repos[0].Repo)

	g.clock.Advance(2 * time.Hour)
	_, err = g.FreezeRepository(ctx, repositoryID(t, g, "alice"), FreezeHead{Branch: "main", SHA: shaA, ResolvedAt: g.clock.Now()})
	require.NoError(t, err)
	require.ErrorIs(t, g.RosterRepository(ctx, ghCohort, "alice", repoOf("alice")), ErrInvalid, "a frozen repository is not replaced")
	require.NoError(t, g.RosterRepository(ctx, ghCohort, "alice", moved), "rostering the frozen one again is a no-op")
}

func TestSetGitHubRulesVersionMovesEveryCohort(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{Feedback: FeedbackFull}, "alice")
	require.NoError(t, g.ConfigureGitHub(ctx, "spring", GitHubSettings{RulesVersion: "rules-new"}))
	n, err := g.SetGitHubRulesVersion(ctx, "rules-new")
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	cohorts, err := g.GitHubCohorts(ctx)
	require.NoError(t, err)
	require.Equal(t, []GitHubCohort{
		{Name: ghCohort, Deadline: g.deadline, GitHubSettings: GitHubSettings{Feedback: FeedbackFull, RulesVersion: "rules-new"}},
		{Name: "spring", GitHubSettings: GitHubSettings{Feedback: FeedbackNone, RulesVersion: "rules-new"}},
	}, cohorts)
	require.ErrorIs(t, g.ConfigureGitHub(ctx, "x", GitHubSettings{Feedback: "everything", RulesVersion: "r"}), ErrInvalid)
	require.ErrorIs(t, g.ConfigureGitHub(ctx, "x", GitHubSettings{}), ErrInvalid, "no rules version")
}

func TestTheFeedbackQueue(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{Feedback: FeedbackReceipt}, "alice")
	received := g.deadline.Add(-time.Minute)
	require.True(t, g.record(t, pushTo("alice", "d-1", shaA, shaB, received)))

	job, ok, err := g.ClaimFeedback(ctx, "w1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, FeedbackJob{Ticket: Ticket{ID: job.ID, Worker: "w1", Attempt: 1}, Cohort: ghCohort, Candidate: "alice",
		Kind: FeedbackReceipt, Repo: GitHubRepository{Host: "github.com", Owner: "alice-candidate", Repo: "itsm-sync", Track: TrackUnknown},
		SHA: shaB, Installation: 2311213, ReceivedAt: received.UTC()}, job)
	requireNoFeedback(t, g)

	status, err := g.FailFeedback(ctx, job.Ticket, errors.New("GitHub answered 502"), true)
	require.NoError(t, err)
	require.Equal(t, Queued, status)
	requireNoFeedback(t, g) // backing off
	g.clock.Advance(time.Minute)
	again, ok, err := g.ClaimFeedback(ctx, "w2", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 2, again.Attempt)
	require.ErrorIs(t, g.FinishFeedback(ctx, job.Ticket, PostedCheckRun, 7), ErrLeaseLost, "the first attempt's ticket is stale")
	require.NoError(t, g.HeartbeatFeedback(ctx, again.Ticket, time.Minute))
	require.NoError(t, g.FinishFeedback(ctx, again.Ticket, PostedCheckRun, 4001))

	jobs, err := g.FeedbackJobs(ctx, ghCohort)
	require.NoError(t, err)
	require.Equal(t, []FeedbackState{{Candidate: "alice", Kind: FeedbackReceipt, SHA: shaB, Status: Done, Attempts: 2,
		Posted: PostedCheckRun, CheckRunID: 4001, LastError: "GitHub answered 502"}}, jobs)
}

func TestAFeedbackJobNotRenewedIsTakenAgainThenAbandoned(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{Feedback: FeedbackReceipt}, "alice")
	require.True(t, g.record(t, pushTo("alice", "d-1", shaA, shaB, g.deadline.Add(-time.Minute))))
	for attempt := 1; attempt <= DefaultMaxAttempts; attempt++ {
		job, ok, err := g.ClaimFeedback(ctx, fmt.Sprintf("w%d", attempt), time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "attempt %d", attempt)
		require.Equal(t, attempt, job.Attempt)
		g.clock.Advance(2 * time.Minute) // the worker died
	}
	requireNoFeedback(t, g)
	jobs, err := g.FeedbackJobs(ctx, ghCohort)
	require.NoError(t, err)
	require.Equal(t, Failed, jobs[0].Status)
	require.Contains(t, jobs[0].LastError, "abandoned")
}

func TestAFullReportWaitsForItsGrading(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		settle func(t *testing.T, g ghStore, job Job)
		want   Status
	}{
		{"the grading is done: its report is posted", func(t *testing.T, g ghStore, job Job) {
			require.NoError(t, g.Finish(ctxT(t), job.Ticket, resultFor(job, sampleReport(testRules, 3))))
		}, Running},
		{"the grading failed: nothing will be posted", func(t *testing.T, g ghStore, job Job) {
			for attempt := job.Attempt; ; attempt++ {
				status, err := g.Fail(ctxT(t), job.Ticket, errors.New("engine down"), true)
				require.NoError(t, err)
				if status == Failed {
					return
				}
				g.clock.Advance(time.Minute)
				job = mustClaim(t, g.Store, ghCohort, "grader", time.Minute)
			}
		}, Failed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			g := newGHStore(t, GitHubSettings{Feedback: FeedbackFull}, "alice")
			require.True(t, g.record(t, pushTo("alice", "d-1", shaA, shaB, g.deadline.Add(-time.Minute))))
			requireNoFeedback(t, g) // the grading is queued, not done
			job := mustClaim(t, g.Store, ghCohort, "grader", time.Minute)
			requireNoFeedback(t, g) // the grading is running
			tc.settle(t, g, job)
			fb, ok, err := g.ClaimFeedback(ctx, "poster", time.Minute)
			require.NoError(t, err)
			jobs, err := g.FeedbackJobs(ctx, ghCohort)
			require.NoError(t, err)
			require.Equal(t, tc.want, jobs[0].Status)
			if tc.want == Running {
				require.True(t, ok)
				require.Equal(t, FeedbackFull, fb.Kind)
				require.Equal(t, job.ID, fb.GradingID)
			} else {
				require.False(t, ok)
			}
		})
	}
}

func requireNoFeedback(t *testing.T, g ghStore) {
	t.Helper()
	job, ok, err := g.ClaimFeedback(ctxT(t), "someone", time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "claimed feedback job %d (%s)", job.ID, job.Kind)
}

func repositoryID(t *testing.T, g ghStore, candidate string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, g.writer.QueryRow(`SELECT r.id FROM github_repositories r JOIN candidates c ON c.id = r.candidate_id
		WHERE c.name = ?`, candidate).Scan(&id))
	return id
}

func TestFreezeTargetsNeverBeforeTheDeadline(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{}, "alice", "bob")
	_, _, err := g.FreezeTargets(ctx, ghCohort, g.deadline.Add(-time.Millisecond))
	require.ErrorIs(t, err, ErrBeforeDeadline)
	deadline, targets, err := g.FreezeTargets(ctx, ghCohort, g.deadline)
	require.NoError(t, err)
	require.Equal(t, g.deadline, deadline)
	require.Len(t, targets, 2)
	require.Equal(t, "alice", targets[0].Candidate)
	require.Equal(t, repoOf("alice").FullName(), targets[0].Repo.FullName())

	require.NoError(t, g.ConfigureGitHub(ctx, "no-deadline", GitHubSettings{RulesVersion: testRules}))
	_, _, err = g.FreezeTargets(ctx, "no-deadline", g.deadline)
	require.ErrorIs(t, err, ErrInvalid)
	_, _, err = g.FreezeTargets(ctx, "nobody", g.deadline)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestFreezeTakesTheHeadAtTheDeadline(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// pushes are received at the deadline plus their offset.
		pushes     []push
		resolved   string
		freezeAt   time.Duration
		want       string
		latePushes int
		note       string
	}{
		{"no push after the deadline: GitHub's head", []push{
			pushTo("alice", "d-1", zero, shaA, time.Time{}.Add(-time.Hour)),
		}, shaA, 2 * time.Second, shaA, 0, ""},
		{"a head the webhook never heard of is still GitHub's", nil, shaC, 2 * time.Second, shaC, 0, ""},
		{"pushes after the deadline: what the first moved the branch from", []push{
			pushTo("alice", "d-1", zero, shaA, time.Time{}.Add(-time.Minute)),
			pushTo("alice", "d-2", shaA, shaB, time.Time{}.Add(time.Second)),
			pushTo("alice", "d-3", shaB, shaC, time.Time{}.Add(2*time.Second)),
		}, shaC, 3 * time.Second, shaA, 2, ""},
		{"a late force push back to an old commit is gone past", []push{
			pushTo("alice", "d-1", shaD, shaB, time.Time{}.Add(-time.Minute)),
			pushTo("alice", "d-2", shaB, shaA, time.Time{}.Add(time.Second)),
		}, shaA, 3 * time.Second, shaB, 1, ""},
		{"a head no late push explains is taken from the pushes, with a note", []push{
			pushTo("alice", "d-2", shaA, shaB, time.Time{}.Add(time.Second)),
		}, shaD, 3 * time.Second, shaA, 1, "a delivery may be missing"},
		{"a branch created after the deadline: nothing to grade", []push{
			pushTo("alice", "d-2", zero, shaB, time.Time{}.Add(time.Second)),
		}, shaB, 3 * time.Second, "", 1, "did not exist at the deadline"},
		{"a freeze long after the deadline says so", nil, shaA, 10 * time.Minute, shaA, 0, "10m0s after the deadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			g := newGHStore(t, GitHubSettings{Feedback: FeedbackReceipt}, "alice")
			for _, p := range tc.pushes {
				p.received = g.deadline.Add(p.received.Sub(time.Time{}))
				require.True(t, g.record(t, p))
			}
			at := g.deadline.Add(tc.freezeAt)
			frozen, err := g.FreezeRepository(ctx, repositoryID(t, g, "alice"), FreezeHead{Branch: "main", SHA: tc.resolved, ResolvedAt: at})
			require.NoError(t, err)
			require.Equal(t, tc.want, frozen.SHA)
			require.Equal(t, tc.latePushes, frozen.LatePushes)
			if tc.note == "" {
				require.Empty(t, frozen.Note)
			} else {
				require.Contains(t, frozen.Note, tc.note)
			}
			repos, err := g.GitHubRepositories(ctx, ghCohort)
			require.NoError(t, err)
			require.Equal(t, at.UTC(), repos[0].FrozenAt)
			require.Equal(t, tc.want, repos[0].FrozenSHA)
			require.Equal(t, frozen.Note, repos[0].FreezeNote)
			if tc.want == "" {
				require.Zero(t, frozen.GradingID)
				require.Equal(t, 0, rowCount(t, g.writer, "gradings", ""))
				return
			}
			job := mustClaim(t, g.Store, ghCohort, "grader", time.Minute)
			require.Equal(t, frozen.GradingID, job.ID)
			require.Equal(t, "github.com/alice-candidate/itsm-sync@"+tc.want, job.Source)
			requireNothingToClaim(t, g.Store, ghCohort)

			again, err := g.FreezeRepository(ctx, repositoryID(t, g, "alice"), FreezeHead{Branch: "main", SHA: shaD, ResolvedAt: at.Add(time.Hour)})
			require.NoError(t, err)
			require.Equal(t, tc.want, again.SHA, "a repository is frozen once")
			require.Equal(t, frozen.GradingID, again.GradingID)
		})
	}
}

// TestTheFrozenCommitIsTheCandidatesLatestSubmission: a candidate pushes A, then B, then goes
// back to A before the deadline, all graded (full feedback); the freeze takes A, and A's grading
// is then the one compare reads, though B's submission was received later than A's first push.
func TestTheFrozenCommitIsTheCandidatesLatestSubmission(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{Feedback: FeedbackFull}, "alice")
	require.True(t, g.record(t, pushTo("alice", "d-1", zero, shaA, g.deadline.Add(-30*time.Minute))))
	require.True(t, g.record(t, pushTo("alice", "d-2", shaA, shaB, g.deadline.Add(-20*time.Minute))))
	require.True(t, g.record(t, pushTo("alice", "d-3", shaB, shaA, g.deadline.Add(-10*time.Minute))))
	require.Equal(t, 2, rowCount(t, g.writer, "gradings", ""), "A was queued once")
	for range 2 {
		job := mustClaim(t, g.Store, ghCohort, "grader", time.Minute)
		require.NoError(t, g.Finish(ctx, job.Ticket, resultFor(job, sampleReport(testRules, 2))))
	}
	latest, err := g.LatestGradings(ctx, ghCohort)
	require.NoError(t, err)
	require.Equal(t, shaB, latest[0].Commit, "before the freeze, the last new commit")

	frozen, err := g.FreezeRepository(ctx, repositoryID(t, g, "alice"), FreezeHead{Branch: "main", SHA: shaA, ResolvedAt: g.deadline.Add(time.Second)})
	require.NoError(t, err)
	require.Equal(t, shaA, frozen.SHA)
	requireNothingToClaim(t, g.Store, ghCohort) // A is graded already
	latest, err = g.LatestGradings(ctx, ghCohort)
	require.NoError(t, err)
	require.Equal(t, shaA, latest[0].Commit, "after it, the frozen commit")
	require.Equal(t, frozen.GradingID, latest[0].GradingID)
}

func TestALatePushToTheFrozenCommitLeavesANote(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{}, "alice")
	// GitHub was asked a second after the deadline, and the push it then reported as the head
	// is delivered only afterwards, received after the deadline.
	_, err := g.FreezeRepository(ctx, repositoryID(t, g, "alice"), FreezeHead{Branch: "main", SHA: shaB, ResolvedAt: g.deadline.Add(time.Second)})
	require.NoError(t, err)
	require.True(t, g.record(t, pushTo("alice", "d-2", shaA, shaB, g.deadline.Add(2*time.Second))))
	repos, err := g.GitHubRepositories(ctx, ghCohort)
	require.NoError(t, err)
	require.Contains(t, repos[0].FreezeNote, "points at the frozen commit")
	require.Equal(t, 1, repos[0].Late)
}

func TestDueFreezesAndRetries(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{}, "alice", "bob")
	due, next, err := g.DueFreezes(ctx, g.clock.Now())
	require.NoError(t, err)
	require.Empty(t, due)
	require.Equal(t, g.deadline, next, "the next freeze is at the deadline")

	due, next, err = g.DueFreezes(ctx, g.deadline)
	require.NoError(t, err)
	require.Equal(t, []string{ghCohort}, due)
	require.True(t, next.IsZero())

	at := g.deadline.Add(time.Second)
	_, err = g.FreezeRepository(ctx, repositoryID(t, g, "alice"), FreezeHead{Branch: "main", SHA: shaA, ResolvedAt: at})
	require.NoError(t, err)
	retry := at.Add(time.Minute)
	require.NoError(t, g.FreezeFailed(ctx, repositoryID(t, g, "bob"), errors.New("github: not found"), retry))
	due, next, err = g.DueFreezes(ctx, at)
	require.NoError(t, err)
	require.Empty(t, due, "bob's retry is not due yet")
	require.Equal(t, retry, next)
	_, targets, err := g.FreezeTargets(ctx, ghCohort, retry)
	require.NoError(t, err)
	require.Len(t, targets, 1)
	require.Equal(t, "bob", targets[0].Candidate)
	require.Equal(t, 1, targets[0].Attempts)
	repos, err := g.GitHubRepositories(ctx, ghCohort)
	require.NoError(t, err)
	require.Equal(t, "github: not found", repos[1].FreezeError)

	_, err = g.FreezeRepository(ctx, repositoryID(t, g, "bob"), FreezeHead{Branch: "main", SHA: shaB, ResolvedAt: retry})
	require.NoError(t, err)
	due, next, err = g.DueFreezes(ctx, retry)
	require.NoError(t, err)
	require.Empty(t, due)
	require.True(t, next.IsZero(), "nothing left to freeze")
}

func TestAdoptDeclaredTracksFromTheReports(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{Feedback: FeedbackFull}, "alice")
	require.True(t, g.record(t, pushTo("alice", "d-1", zero, shaA, g.deadline.Add(-time.Minute))))
	job := mustClaim(t, g.Store, ghCohort, "grader", time.Minute)
	rep := sampleReport(testRules, 2)
	rep.Submission.Track = TrackAI
	require.NoError(t, g.Finish(ctx, job.Ticket, resultFor(job, rep)))

	n, err := g.AdoptDeclaredTracks(ctx, ghCohort)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	latest, err := g.LatestGradings(ctx, ghCohort)
	require.NoError(t, err)
	require.Equal(t, TrackAI, latest[0].Track)
	n, err = g.AdoptDeclaredTracks(ctx, ghCohort)
	require.NoError(t, err)
	require.Zero(t, n, "a known track is kept")
}

// TestPurgingACandidateForgetsTheirGitHubRows: the deliveries name repositories, not
// candidates; purging a candidate still leaves nothing of their pushes.
func TestPurgingACandidateForgetsTheirGitHubRows(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	g := newGHStore(t, GitHubSettings{Feedback: FeedbackFull}, "alice", "bob")
	require.True(t, g.record(t, pushTo("alice", "d-1", zero, shaA, g.deadline.Add(-time.Minute))))
	require.True(t, g.record(t, pushTo("bob", "d-2", zero, shaB, g.deadline.Add(-time.Minute))))
	_, err := g.Record(ctx, installationEvent(t, "i-1", webhook.EventInstallation, "created",
		[]string{"alice-candidate/itsm-sync", "bob-candidate/itsm-sync"}, nil))
	require.NoError(t, err)

	_, err = g.PurgeCandidate(ctx, ghCohort, "alice")
	require.NoError(t, err)
	for _, table := range []string{"github_deliveries", "github_installation_repositories", "github_repositories"} {
		require.Zero(t, rowCount(t, g.writer, table, "repo_key = 'alice-candidate/itsm-sync'"), table)
		require.Equal(t, 1, rowCount(t, g.writer, table, "repo_key = 'bob-candidate/itsm-sync'"), table)
	}
	require.Equal(t, 1, rowCount(t, g.writer, "github_pushes", ""))
	require.Equal(t, 1, rowCount(t, g.writer, "github_feedback", ""))
	require.Zero(t, rowCount(t, g.writer, "github_deliveries", "CAST(payload AS TEXT) LIKE '%alice%'"))

	_, err = g.Purge(ctx, ghCohort)
	require.NoError(t, err)
	for _, table := range []string{"github_cohorts", "github_repositories", "github_pushes", "github_feedback", "github_installation_repositories"} {
		require.Zero(t, rowCount(t, g.writer, table, ""), table)
	}
	require.Zero(t, rowCount(t, g.writer, "github_deliveries", "repo_key <> ''"), "only the installation event, which names no repository, is left")
}

// TestAVersion1StoreIsMigrated: a store written before GitHub opens with its rows intact.
func TestAVersion1StoreIsMigrated(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "round.db")
	ms, err := migrations()
	require.NoError(t, err)
	raw := rawDB(t, path)
	_, err = raw.Exec(`PRAGMA journal_mode = WAL`)
	require.NoError(t, err)
	require.NoError(t, applyAll(ctx, raw, ms[:1]))
	_, err = raw.Exec(`INSERT INTO cohorts (name, created_at, deadline) VALUES ('spring', 1, 2)`)
	require.NoError(t, err)

	s := openAt(t, path)
	requireSchemaVersion(t, s.writer, SchemaVersion())
	cohorts, err := s.Cohorts(ctx)
	require.NoError(t, err)
	require.Len(t, cohorts, 1)
	require.NoError(t, s.ConfigureGitHub(ctx, "spring", GitHubSettings{RulesVersion: testRules}))
	require.NoError(t, s.RosterRepository(ctx, "spring", "alice", repoOf("alice")))
}

func BenchmarkRecordPush(b *testing.B) {
	c := newClock()
	s := openStore(b, WithClock(c.Now))
	ctx := context.Background()
	require.NoError(b, s.ConfigureGitHub(ctx, ghCohort, GitHubSettings{Feedback: FeedbackReceipt, RulesVersion: testRules}))
	require.NoError(b, s.CreateCohort(ctx, ghCohort, c.Now().Add(time.Hour)))
	require.NoError(b, s.RosterRepository(ctx, ghCohort, "alice", repoOf("alice")))
	payload := []byte(`{"before":"` + zero + `","repository":{"default_branch":"main","pushed_at":1557933657}}`)
	for i := 0; b.Loop(); i++ {
		sha := fmt.Sprintf("%040x", i+1)
		_, err := s.Record(ctx, webhook.Delivery{ID: fmt.Sprintf("d-%d", i), Event: webhook.EventPush, Repository: "alice-candidate/itsm-sync",
			Ref: "refs/heads/main", SHA: sha, ReceivedAt: c.Now(), Payload: payload})
		if err != nil {
			b.Fatal(err)
		}
	}
}
