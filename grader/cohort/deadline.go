package cohort

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/itsm-grader/grader/grader/github"
	"github.com/itsm-grader/grader/grader/store"
)

// Resolver is what a freeze asks GitHub (*github.Client): a repository's default branch and
// the commit a ref names now, as GitHub's server reports them.
type Resolver interface {
	DefaultBranch(ctx context.Context, src github.Source) (string, error)
	Resolve(ctx context.Context, src github.Source) (string, error)
}

// Deadlines freezes GitHub cohorts at their deadline: for each rostered repository it records
// the head of the default branch as GitHub's server reports it (never a commit date, which the
// candidate sets) and queues the grading of that commit. Pushes after the deadline are the
// webhook's to record as late (store.Record).
type Deadlines struct {
	Store  *store.Store
	GitHub Resolver
	// Now is the grader's clock; time.Now by default.
	Now func() time.Time
	// Parallel is how many repositories are asked about at once (default 4): a round of a
	// hundred is frozen in seconds, without a burst GitHub would call abuse.
	Parallel int
	// Retry is the wait before a failed freeze of a repository is tried again, doubled after
	// each failure up to 30 minutes (default 30 s).
	Retry time.Duration
	// Idle is the longest Watch waits before it looks at the store again, so that a deadline
	// set meanwhile by another process is seen (default 10 s).
	Idle time.Duration
	// Queued is called when a freeze queued gradings (nil: not at all).
	Queued func()
	Logger *slog.Logger
}

// maxFreezeRetry caps the doubling of Deadlines.Retry.
const maxFreezeRetry = 30 * time.Minute

func (d *Deadlines) withDefaults() *Deadlines {
	out := *d
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Parallel <= 0 {
		out.Parallel = 4
	}
	if out.Retry <= 0 {
		out.Retry = 30 * time.Second
	}
	if out.Idle <= 0 {
		out.Idle = 10 * time.Second
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return &out
}

// FreezeReport says what one freeze did.
type FreezeReport struct {
	Deadline time.Time
	Frozen   []FrozenRepository
	// Failed are the repositories GitHub could not be asked about; each is tried again at its
	// RetryAt.
	Failed []FreezeFailure
}

// FrozenRepository is a repository frozen: what GitHub reported, and what was recorded.
type FrozenRepository struct {
	Candidate string
	Repo      store.GitHubRepository
	// Head is what GitHub reported as the default branch's head.
	Head string
	store.Frozen
}

// FreezeFailure is a repository that could not be frozen this time.
type FreezeFailure struct {
	Candidate string
	Repo      store.GitHubRepository
	Err       error
	RetryAt   time.Time
}

// Freeze freezes the cohort's repositories not frozen yet (whose retry is due), at at: the
// grader's time, which must not be before the deadline (store.ErrBeforeDeadline). A repository
// GitHub cannot be asked about is recorded as failed, to be tried again, and reported; the
// error is the store's failing, or ctx's end.
func (d *Deadlines) Freeze(ctx context.Context, cohort string, at time.Time) (FreezeReport, error) {
	d = d.withDefaults()
	deadline, targets, err := d.Store.FreezeTargets(ctx, cohort, at)
	if err != nil {
		return FreezeReport{}, err
	}
	rep := FreezeReport{Deadline: deadline}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.Parallel)
	for _, t := range targets {
		g.Go(func() error {
			frozen, failed, err := d.freezeOne(gctx, t)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				return err
			case failed != nil:
				rep.Failed = append(rep.Failed, *failed)
			default:
				rep.Frozen = append(rep.Frozen, frozen)
			}
			return nil
		})
	}
	err = g.Wait()
	sortReport(&rep)
	if err != nil {
		return rep, fmt.Errorf("freeze cohort %s: %w", cohort, err)
	}
	return rep, nil
}

// freezeOne asks GitHub for the repository's head and records it; a GitHub failure is recorded
// and returned as a FreezeFailure, a store failure as the error.
func (d *Deadlines) freezeOne(ctx context.Context, t store.FreezeTarget) (FrozenRepository, *FreezeFailure, error) {
	head, err := d.head(ctx, t.Repo)
	if err != nil {
		if ctx.Err() != nil {
			return FrozenRepository{}, nil, context.Cause(ctx)
		}
		retry := d.Now().Add(d.retryAfter(t.Attempts + 1))
		if ferr := d.Store.FreezeFailed(ctx, t.RepositoryID, err, retry); ferr != nil {
			return FrozenRepository{}, nil, errors.Join(err, ferr)
		}
		return FrozenRepository{}, &FreezeFailure{Candidate: t.Candidate, Repo: t.Repo, Err: err, RetryAt: retry}, nil
	}
	frozen, err := d.Store.FreezeRepository(ctx, t.RepositoryID, head)
	if err != nil {
		return FrozenRepository{}, nil, err
	}
	return FrozenRepository{Candidate: t.Candidate, Repo: t.Repo, Head: head.SHA, Frozen: frozen}, nil, nil
}

// head asks GitHub for the repository's default branch and the commit it points at now; the
// time recorded is the grader's when GitHub answered.
func (d *Deadlines) head(ctx context.Context, repo store.GitHubRepository) (store.FreezeHead, error) {
	src := github.Source{Host: repo.Host, Owner: repo.Owner, Repo: repo.Repo}
	branch, err := d.GitHub.DefaultBranch(ctx, src)
	if err != nil {
		return store.FreezeHead{}, err
	}
	src.Ref = branch
	sha, err := d.GitHub.Resolve(ctx, src)
	if err != nil {
		return store.FreezeHead{}, err
	}
	return store.FreezeHead{Branch: branch, SHA: sha, ResolvedAt: d.Now()}, nil
}

// retryAfter is the wait before the attempt-th retry: Retry, doubled each time, at most
// maxFreezeRetry.
func (d *Deadlines) retryAfter(attempt int) time.Duration {
	wait := d.Retry
	for i := 1; i < attempt && wait < maxFreezeRetry; i++ {
		wait *= 2
	}
	return min(wait, maxFreezeRetry)
}

func sortReport(rep *FreezeReport) {
	slices.SortFunc(rep.Frozen, func(a, b FrozenRepository) int { return strings.Compare(a.Candidate, b.Candidate) })
	slices.SortFunc(rep.Failed, func(a, b FreezeFailure) int { return strings.Compare(a.Candidate, b.Candidate) })
}

// Watch freezes each GitHub cohort when its deadline passes, and tries failed freezes again
// when due, until ctx ends. It never freezes early: it waits for the deadline on the clock.
func (d *Deadlines) Watch(ctx context.Context) error {
	d = d.withDefaults()
	for {
		next, err := d.freezeDue(ctx)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		wait := d.Idle
		if err != nil {
			d.Logger.Error("freezing at the deadline", "err", err)
		} else if !next.IsZero() {
			wait = min(wait, max(next.Sub(d.Now()), 0))
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
}

// freezeDue freezes every cohort due now and returns when the next freeze is due (zero: none
// known).
func (d *Deadlines) freezeDue(ctx context.Context) (time.Time, error) {
	now := d.Now()
	due, next, err := d.Store.DueFreezes(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	var errs []error
	for _, cohort := range due {
		rep, err := d.Freeze(ctx, cohort, now)
		d.log(cohort, rep)
		if err != nil {
			errs = append(errs, err)
		}
		if len(rep.Frozen) > 0 && d.Queued != nil {
			d.Queued()
		}
		for _, f := range rep.Failed {
			if next.IsZero() || f.RetryAt.Before(next) {
				next = f.RetryAt
			}
		}
	}
	return next, errors.Join(errs...)
}

func (d *Deadlines) log(cohort string, rep FreezeReport) {
	for _, f := range rep.Frozen {
		attrs := []any{"cohort", cohort, "candidate", f.Candidate, "repo", f.Repo.FullName(), "head", f.Head,
			"graded", f.SHA, "grading", f.GradingID, "late_pushes", f.LatePushes}
		if f.Note != "" {
			d.Logger.Warn("frozen at the deadline; review: "+f.Note, attrs...)
			continue
		}
		d.Logger.Info("frozen at the deadline", attrs...)
	}
	for _, f := range rep.Failed {
		d.Logger.Warn("could not freeze at the deadline; trying again", "cohort", cohort, "candidate", f.Candidate,
			"repo", f.Repo.FullName(), "retry_at", f.RetryAt.Format(time.RFC3339), "err", f.Err)
	}
}

// sleepCtx waits d, or returns ctx's cause.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
