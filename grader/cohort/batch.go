package cohort

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/intake"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/store"
)

// CaptureFunc observes one submission (grading.Capture with the sandbox): source is a folder
// or a git URL, ref a git ref. Its error is the grader's failing (the engine, the disk), retried;
// what the submission does wrong is in the evidence.
type CaptureFunc func(ctx context.Context, source, ref string) (*evidence.Evidence, error)

// ReportWriter writes a report's files into a folder (JSON, Markdown, HTML, SARIF).
type ReportWriter func(rep *report.Report, dir string) error

// Options configure a batch.
type Options struct {
	Cohort string
	// Workers is how many gradings are under way at once (default 2): each grading's runs
	// queue for the sandbox's slots, the limit that matters; two keep them busy while another
	// grading fetches, builds or is judged.
	Workers int
	// Lease is how long a grading stays claimed without a heartbeat (default 45 s): a batch
	// killed mid-grading leaves its gradings to be claimed again after it.
	Lease time.Duration
	// Fetchers is how many roster entries are fetched at once before grading (default 4).
	Fetchers int
	Capture  CaptureFunc
	Write    ReportWriter
	// Remote fetches the sources of a hosting service (GitHub repositories); nil: none.
	Remote intake.Remote
	// Progress is called whenever the cohort's counts may have changed, never twice at once
	// (nil: not at all).
	Progress func(Status)
	Logger   *slog.Logger
}

// Status is a batch's progress: the cohort's gradings by status, and this batch's own.
type Status struct {
	store.Progress
	Entries, Fetched int
	// Workers is how many gradings this batch runs at once.
	Workers int
	// Queued is how many of this roster's entries were new gradings (the others were graded,
	// or queued, already).
	New int
}

// Run grades a roster's entries into the store: every entry is fetched and hashed, queued
// unless the same content was graded under the same rules already, and graded by
// opts.Workers workers until nothing of the cohort is left to do. It can be stopped at any
// moment and run again: what was done stays done, and what was under way is claimed again
// when its lease runs out.
func Run(ctx context.Context, st *store.Store, entries []Entry, opts Options) (Status, error) {
	opts = opts.withDefaults()
	if opts.Capture == nil || opts.Write == nil {
		return Status{}, errors.New("batch: no capture or report writer")
	}
	if err := st.CreateCohort(ctx, opts.Cohort, time.Time{}); err != nil {
		return Status{}, err
	}
	// Gradings queued by an older grader are graded by this one's rules, not refused at the end.
	moved, dropped, err := st.AdoptRules(ctx, opts.Cohort, judge.RulesVersion)
	if err != nil {
		return Status{}, err
	}
	if moved+dropped > 0 {
		opts.Logger.Info("gradings queued for other rules adopted", "rules", judge.RulesVersion, "moved", moved, "dropped", dropped)
	}
	work, err := os.MkdirTemp("", "itsm-batch-")
	if err != nil {
		return Status{}, fmt.Errorf("batch: work folder: %w", err)
	}
	defer os.RemoveAll(work)
	b := &batch{st: st, opts: opts, snapshots: map[string]string{}, status: Status{Entries: len(entries), Workers: opts.Workers}}
	if err := b.queue(ctx, entries, work); err != nil {
		return b.snapshot(), err
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := range opts.Workers {
		worker := workerName(i)
		g.Go(func() error { return b.work(gctx, worker) })
	}
	err = g.Wait()
	if err == nil {
		// A track the roster left empty is what SUBMISSION.md declares, as the grading's report
		// read it (in the grading, not here).
		_, err = st.AdoptDeclaredTracks(ctx, opts.Cohort)
	}
	b.report(ctx)
	return b.snapshot(), err
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Lease <= 0 {
		o.Lease = 45 * time.Second
	}
	if o.Fetchers <= 0 {
		o.Fetchers = 4
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// workerName names a worker after this process (host, pid, start), so leases of a killed batch
// are told from a live one's in the store.
func workerName(i int) string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":" + strconv.Itoa(i)
}

type batch struct {
	st   *store.Store
	opts Options

	mu        sync.Mutex
	snapshots map[string]string // content hash → the fetched copy this batch grades
	status    Status

	progressMu sync.Mutex // Options.Progress is called by one goroutine at a time
}

func (b *batch) snapshot() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status
}

// report refreshes the cohort's counts and tells the caller.
func (b *batch) report(ctx context.Context) {
	p, err := b.st.Progress(ctx, b.opts.Cohort)
	if err != nil {
		return
	}
	b.mu.Lock()
	b.status.Progress = p
	s := b.status
	b.mu.Unlock()
	if b.opts.Progress != nil {
		b.progressMu.Lock()
		defer b.progressMu.Unlock()
		b.opts.Progress(s)
	}
}

// queue fetches every entry (a few at once), hashes what was fetched and queues its grading.
// An entry that cannot be fetched is queued by its source alone: its grading fetches it again
// and fails with the reason, as that candidate's result.
func (b *batch) queue(ctx context.Context, entries []Entry, work string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.opts.Fetchers)
	for i, e := range entries {
		g.Go(func() error {
			entry, err := b.fetch(gctx, e, filepath.Join(work, strconv.Itoa(i)))
			if err != nil {
				return err
			}
			_, created, err := b.st.Enqueue(gctx, entry)
			if err != nil {
				return err
			}
			b.mu.Lock()
			b.status.Fetched++
			if created {
				b.status.New++
			}
			b.mu.Unlock()
			b.report(gctx)
			return nil
		})
	}
	return g.Wait()
}

// treeHashPrefix begins a TreeHash.
const treeHashPrefix = "sha256:"

// unfetched prefixes the content hash of an entry that could not be fetched when it was queued.
const unfetched = "unfetched:"

// fetch lays an entry out in dir and returns it as the store queues it.
func (b *batch) fetch(ctx context.Context, e Entry, dir string) (store.Entry, error) {
	entry := store.Entry{Cohort: b.opts.Cohort, Candidate: e.Candidate, Source: e.Source, Ref: e.Ref, Track: e.Track, RulesVersion: judge.RulesVersion}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return entry, fmt.Errorf("batch: work folder: %w", err)
	}
	sub, err := intake.Fetch(ctx, e.Source, e.Ref, intake.Options{Workdir: dir, Remote: b.opts.Remote})
	if ctx.Err() != nil {
		return entry, ctx.Err()
	}
	if err != nil {
		b.opts.Logger.Warn("could not fetch; its grading will say why", "candidate", e.Candidate, "err", err)
		sum := sha256.Sum256([]byte(e.Source + "\x00" + e.Ref))
		entry.ContentHash = unfetched + hex.EncodeToString(sum[:8])
		return entry, nil
	}
	hash, err := TreeHash(sub.Dir)
	if err != nil {
		return entry, fmt.Errorf("hash %s's submission: %w", e.Candidate, err)
	}
	entry.ContentHash, entry.Commit = hash, sub.Commit
	b.mu.Lock()
	b.snapshots[hash] = sub.Dir
	b.mu.Unlock()
	return entry, nil
}

// work claims and grades the cohort's gradings until none is left to do (queued, or running
// under a lease that may yet run out).
func (b *batch) work(ctx context.Context, worker string) error {
	for {
		job, ok, err := b.st.Claim(ctx, b.opts.Cohort, worker, b.opts.Lease)
		if err != nil {
			return err
		}
		if !ok {
			p, err := b.st.Progress(ctx, b.opts.Cohort)
			if err != nil {
				return err
			}
			if p.Queued+p.Running == 0 {
				return nil
			}
			if err := waitUntil(ctx, p.NextDue, 2*time.Second); err != nil {
				return err
			}
			continue
		}
		b.report(ctx)
		if err := b.grade(ctx, job); err != nil {
			return err
		}
		b.report(ctx)
	}
}

// waitUntil waits until due, at most most (an idle worker looks again), or ctx's end.
func waitUntil(ctx context.Context, due time.Time, most time.Duration) error {
	d := most
	if !due.IsZero() {
		d = min(most, max(time.Until(due), 100*time.Millisecond))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// grade grades one claimed job under a heartbeat and records its result. Only the store's
// own failures and the batch's end stop the worker; a grading's failure is recorded.
func (b *batch) grade(ctx context.Context, job store.Job) error {
	hctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go b.heartbeat(hctx, stop, job.Ticket)
	b.mu.Lock()
	source, ok := b.snapshots[job.ContentHash]
	b.mu.Unlock()
	ref := ""
	switch {
	case ok:
	case !strings.HasPrefix(job.ContentHash, treeHashPrefix):
		// Never fetched (the grading fetches it, and its report says why it cannot), or pinned by
		// its source itself (a commit of a GitHub repository, queued by the webhook).
		source, ref = job.Source, job.Ref
	default:
		// Queued by another run: fetched again, and graded only if it is still the content
		// that was queued.
		work, err := os.MkdirTemp("", "itsm-refetch-")
		if err != nil {
			return b.failed(ctx, hctx, job, err, false)
		}
		defer os.RemoveAll(work)
		var changed bool
		if source, changed, err = b.refetch(hctx, job, work); err != nil || changed {
			return b.failed(ctx, hctx, job, err, changed)
		}
	}
	ev, err := b.opts.Capture(hctx, source, ref)
	if err == nil {
		err = b.finish(hctx, job, ev)
	}
	return b.failed(ctx, hctx, job, err, false)
}

// refetch lays a queued job's source out again and says whether its content changed since it
// was queued (a source now refused by the intake has changed too: it was taken when queued).
// It lays it out in work, which the caller removes.
func (b *batch) refetch(ctx context.Context, job store.Job, work string) (dir string, changed bool, err error) {
	sub, err := intake.Fetch(ctx, job.Source, job.Ref, intake.Options{Workdir: work, Remote: b.opts.Remote})
	if errors.Is(err, intake.ErrRefused) {
		return "", true, nil
	}
	if err != nil {
		return "", false, err
	}
	hash, err := TreeHash(sub.Dir)
	if err != nil {
		return "", false, err
	}
	if hash != job.ContentHash {
		return "", true, nil
	}
	return sub.Dir, false, nil
}

// failed records how a grading ended without a result: a submission changed since it was
// queued is the candidate's (a result, never retried); anything else is the grader's, retried.
// Only the store's own failures and the batch's end stop the worker.
func (b *batch) failed(ctx, hctx context.Context, job store.Job, err error, changed bool) error {
	if err == nil && !changed {
		return nil
	}
	if changed {
		err = errors.New("the submission changed since it was queued: run the batch again to grade what it is now")
		_, ferr := b.st.Fail(ctx, job.Ticket, err, false)
		if errors.Is(ferr, store.ErrLeaseLost) {
			return nil
		}
		return ferr
	}
	// This attempt's files are no result: another attempt, or none, is.
	_ = os.RemoveAll(job.Dir)
	if errors.Is(err, store.ErrLeaseLost) {
		return nil
	}
	if ctx.Err() != nil {
		// The batch is stopping: let the grading be claimed again at once.
		_, _ = b.st.Fail(context.WithoutCancel(ctx), job.Ticket, fmt.Errorf("the batch stopped: %w", context.Cause(ctx)), true)
		return ctx.Err()
	}
	if cause := context.Cause(hctx); errors.Is(cause, store.ErrLeaseLost) {
		return nil
	}
	b.opts.Logger.Warn("grading failed; it will be tried again", "candidate", job.Candidate, "attempt", job.Attempt, "err", err)
	_, ferr := b.st.Fail(ctx, job.Ticket, err, true)
	if errors.Is(ferr, store.ErrLeaseLost) {
		return nil
	}
	return ferr
}

// heartbeat renews the lease a third of the way through it until ctx ends; a lease lost
// (another worker took the grading) cancels the grading.
func (b *batch) heartbeat(ctx context.Context, stop context.CancelCauseFunc, t store.Ticket) {
	tick := time.NewTicker(b.opts.Lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := b.st.Heartbeat(ctx, t, b.opts.Lease); errors.Is(err, store.ErrLeaseLost) {
				stop(err)
				return
			}
		}
	}
}

// finish judges the evidence, writes it and the reports into the job's folder and records
// the result.
func (b *batch) finish(ctx context.Context, job store.Job, ev *evidence.Evidence) error {
	ev.Submission = evidence.Submission{Source: job.Source, Ref: job.Ref, Commit: job.Commit}
	rep, err := judge.Judge(ev, time.Now())
	if err != nil {
		return fmt.Errorf("judge: %w", err)
	}
	if err := os.MkdirAll(job.Dir, 0o700); err != nil {
		return fmt.Errorf("make %s: %w", job.Dir, err)
	}
	path := filepath.Join(job.Dir, evidence.FileName)
	if err := writeEvidence(ev, path); err != nil {
		return err
	}
	if err := b.opts.Write(rep, job.Dir); err != nil {
		return err
	}
	return b.st.Finish(ctx, job.Ticket, store.Result{Report: rep, EvidencePath: path, ReportDir: job.Dir})
}

func writeEvidence(ev *evidence.Evidence, path string) error {
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write evidence: %w", err)
	}
	err = evidence.Write(fh, ev)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// TreeHash identifies a submission's content: SHA-256 over every regular file's path, mode
// (executable or not) and bytes, in path order. The same files hash the same wherever they
// came from (a folder, a git commit).
func TreeHash(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	h := sha256.New()
	for _, rel := range files {
		if err := hashFile(h, dir, rel); err != nil {
			return "", err
		}
	}
	return treeHashPrefix + hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h io.Writer, dir, rel string) error {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%s\x00%t\x00%d\x00", rel, st.Mode()&0o111 != 0, st.Size())
	_, err = io.Copy(h, f)
	return err
}
