package cohort

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/itsm-grader/grader/grader/feedback"
	"github.com/itsm-grader/grader/grader/github"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/store"
)

// Bell tells idle workers that work was queued (a delivery recorded, a freeze, a grading
// done). A ring wakes every waiter; workers also look on their own now and then, so a ring is
// a shortcut, never the only way work is found. The nil Bell never rings.
type Bell struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewBell returns a Bell.
func NewBell() *Bell { return &Bell{ch: make(chan struct{})} }

// Ring wakes every worker waiting on the Bell.
func (b *Bell) Ring() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.ch)
	b.ch = make(chan struct{})
}

// C is closed at the next Ring. Take it before looking for work, then wait on it: a ring
// between the two is not missed.
func (b *Bell) C() <-chan struct{} {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

// wait waits for the bell, poll, or ctx's end.
func wait(ctx context.Context, bell <-chan struct{}, poll time.Duration) error {
	t := time.NewTimer(poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-bell:
	case <-t.C:
	}
	return nil
}

// GitHubREST is the go-github client for a repository (*github.Client: the token's, or the
// App's installation on it).
type GitHubREST interface {
	REST(ctx context.Context, src github.Source) (*gh.Client, error)
}

// BuildFunc fetches source (HOST/OWNER/REPO@SHA) and runs the grading's build step on it and
// nothing else: whether it builds and exports syncTickets, or how its build failed, as a
// report's build section says it. Its error is the grader's failing (retried); a commit that
// does not build is a Build with OK false.
type BuildFunc func(ctx context.Context, source string) (report.Build, error)

// FeedbackWorker posts the GitHub cohorts' queued feedback: for a receipt it builds the commit
// (BuildFunc) and posts whether it builds; for a full report it posts the report of the
// grading, once done. Posting through one feedback.Poster serializes the writes per
// installation and waits out rate limits.
type FeedbackWorker struct {
	Store  *store.Store
	GitHub GitHubREST
	Poster *feedback.Poster
	Build  BuildFunc
	// Name is the worker's name in the store's leases (default: host, pid and start).
	Name string
	// Lease is how long a job stays claimed without a heartbeat (default 5 minutes: a build
	// takes seconds, at most prepare.Limits' two minutes, and a post waits out rate limits).
	Lease time.Duration
	// Poll is how often an idle worker looks for work the bell did not ring for (default 5 s).
	Poll   time.Duration
	Bell   *Bell
	Logger *slog.Logger
}

func (w *FeedbackWorker) withDefaults() *FeedbackWorker {
	out := *w
	if out.Name == "" {
		out.Name = workerName(0) + ":feedback"
	}
	if out.Lease <= 0 {
		out.Lease = 5 * time.Minute
	}
	if out.Poll <= 0 {
		out.Poll = 5 * time.Second
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return &out
}

// Run posts feedback until ctx ends, and returns ctx's cause. A failure of the store (a lock
// held too long by another process) is logged and the worker looks again after Poll: the
// service it runs in keeps serving; a job it could not record as done is claimed again when
// its lease runs out.
func (w *FeedbackWorker) Run(ctx context.Context) error {
	w = w.withDefaults()
	if w.Store == nil || w.GitHub == nil || w.Poster == nil || w.Build == nil {
		return errors.New("feedback worker: a store, GitHub, a poster and a build are required")
	}
	for {
		bell := w.Bell.C()
		job, ok, err := w.Store.ClaimFeedback(ctx, w.Name, w.Lease)
		if err == nil && ok {
			err = w.handle(ctx, job)
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if err != nil {
			w.Logger.Error("feedback queue", "err", err)
		}
		if err != nil || !ok {
			if err := wait(ctx, bell, w.Poll); err != nil {
				return err
			}
		}
	}
}

// handle posts one claimed job under a heartbeat and records how it went. A failed post is
// retried after a backoff unless no retry can mend it (check runs forbidden to a token).
func (w *FeedbackWorker) handle(ctx context.Context, job store.FeedbackJob) error {
	log := w.Logger.With("cohort", job.Cohort, "candidate", job.Candidate, "repo", job.Repo.FullName(), "sha", job.SHA, "kind", job.Kind)
	hctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go heartbeat(hctx, stop, w.Lease, func(ctx context.Context) error { return w.Store.HeartbeatFeedback(ctx, job.Ticket, w.Lease) })
	res, err := w.post(hctx, job)
	if err == nil {
		log.Info("feedback posted", "posted", posted(res), "check_run", res.CheckRunID, "requests", res.Requests)
		return ignoreLost(w.Store.FinishFeedback(ctx, job.Ticket, posted(res), res.CheckRunID))
	}
	switch {
	case ctx.Err() != nil:
		// Stopping: the job is claimable again at once.
		_, _ = w.Store.FailFeedback(context.WithoutCancel(ctx), job.Ticket, fmt.Errorf("the worker stopped: %w", context.Cause(ctx)), true)
		return context.Cause(ctx)
	case errors.Is(context.Cause(hctx), store.ErrLeaseLost):
		return nil
	}
	retry := !errors.Is(err, feedback.ErrChecksForbidden)
	status, ferr := w.Store.FailFeedback(ctx, job.Ticket, err, retry)
	log.Warn("feedback not posted", "err", err, "attempt", job.Attempt, "now", status)
	return ignoreLost(ferr)
}

// post builds (a receipt) or reads the report (a full one) and posts it.
func (w *FeedbackWorker) post(ctx context.Context, job store.FeedbackJob) (feedback.Result, error) {
	target := feedback.Target{Owner: job.Repo.Owner, Repo: job.Repo.Repo, HeadSHA: job.SHA,
		Installation: job.Installation, Received: job.ReceivedAt}
	src := github.Source{Host: job.Repo.Host, Owner: job.Repo.Owner, Repo: job.Repo.Repo}
	switch job.Kind {
	case store.FeedbackReceipt:
		build, err := w.Build(ctx, job.Repo.Source(job.SHA))
		if err != nil {
			return feedback.Result{}, fmt.Errorf("build %s: %w", job.Repo.Source(job.SHA), err)
		}
		client, err := w.GitHub.REST(ctx, src)
		if err != nil {
			return feedback.Result{}, err
		}
		return w.Poster.Receipt(ctx, client, target, build)
	case store.FeedbackFull:
		rep, err := w.report(ctx, job.GradingID)
		if err != nil || rep == nil {
			return feedback.Result{}, err
		}
		client, err := w.GitHub.REST(ctx, src)
		if err != nil {
			return feedback.Result{}, err
		}
		return w.Poster.Full(ctx, client, target, rep)
	}
	return feedback.Result{}, fmt.Errorf("feedback job %d: unknown kind %q", job.ID, job.Kind)
}

// report is the grading's report; nil when the grading has none (its result is the
// candidate's own failure: nothing to post).
func (w *FeedbackWorker) report(ctx context.Context, gradingID int64) (*report.Report, error) {
	raw, err := w.Store.ReportJSON(ctx, gradingID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rep report.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("report of grading %d: %w", gradingID, err)
	}
	return &rep, nil
}

// posted names what a result posted, as the store records it.
func posted(res feedback.Result) string {
	switch res.Kind {
	case "check_run":
		return store.PostedCheckRun
	case "status":
		return store.PostedStatus
	}
	return store.PostedNothing
}

func ignoreLost(err error) error {
	if errors.Is(err, store.ErrLeaseLost) {
		return nil
	}
	return err
}

// heartbeat renews a lease a third of the way through it until ctx ends; a lease lost cancels
// the work with ErrLeaseLost.
func heartbeat(ctx context.Context, stop context.CancelCauseFunc, lease time.Duration, beat func(context.Context) error) {
	tick := time.NewTicker(lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := beat(ctx); errors.Is(err, store.ErrLeaseLost) {
				stop(err)
				return
			}
		}
	}
}

// QueueWorker grades the gradings that pushes and freezes queue in the GitHub cohorts, with
// Run's workers, leases and retries: whenever a cohort has a grading claimable, it runs Run on
// the cohort with no roster entry, which grades what is queued and returns when nothing is
// left; then it adopts the tracks the reports declare (store.AdoptDeclaredTracks).
type QueueWorker struct {
	Store *store.Store
	// Options are Run's (Capture, Write, Workers, Lease, Remote, Logger); Cohort is set per
	// cohort.
	Options Options
	// Poll is how often an idle worker looks for gradings the bell did not ring for (default
	// 5 s).
	Poll time.Duration
	// Bell wakes the worker; Graded rings it when gradings were done (full reports to post).
	Bell   *Bell
	Graded *Bell
}

// Run grades queued gradings until ctx ends. A cohort whose batch fails (the store) is logged
// and tried again at the next look: the webhook keeps being served.
func (q *QueueWorker) Run(ctx context.Context) error {
	poll := q.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	log := q.Options.withDefaults().Logger
	for {
		bell := q.Bell.C()
		if err := q.gradeClaimable(ctx, log); err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			log.Error("grading the GitHub cohorts' queue", "err", err)
		}
		if err := wait(ctx, bell, poll); err != nil {
			return err
		}
	}
}

// gradeClaimable runs a batch on each GitHub cohort that has a grading claimable now.
func (q *QueueWorker) gradeClaimable(ctx context.Context, log *slog.Logger) error {
	cohorts, err := q.Store.GitHubCohorts(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cohorts {
		p, err := q.Store.Progress(ctx, c.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p.Queued+p.Running == 0 || p.NextDue.After(time.Now()) {
			continue
		}
		opts := q.Options
		opts.Cohort = c.Name
		status, err := Run(ctx, q.Store, nil, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("cohort %s: %w", c.Name, err))
			continue
		}
		log.Info("graded the queue", "cohort", c.Name, "done", status.Done, "failed", status.Failed)
		if _, err := q.Store.AdoptDeclaredTracks(ctx, c.Name); err != nil {
			errs = append(errs, err)
		}
		q.Graded.Ring()
	}
	return errors.Join(errs...)
}
