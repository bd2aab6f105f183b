package feedback

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	ghclient "github.com/itsm-grader/grader/grader/github"
)

// writers holds one writer per installation (0: a token).
type writers struct {
	mu sync.Mutex
	of map[int64]*writer
}

func newWriters() *writers {
	return &writers{of: map[int64]*writer{}}
}

// writer is the serialized writer of one installation: holding turn is holding the writer.
type writer struct {
	turn chan struct{}
	// Guarded by turn.
	lastWrite time.Time
	// checksForbidden remembers that GitHub answered 403 to a check run (a token): receipts go
	// straight to commit statuses for the rest of the Poster's life.
	checksForbidden bool
}

// acquire waits for the installation's writer, or for ctx.
func (ws *writers) acquire(ctx context.Context, installation int64) (*writer, error) {
	ws.mu.Lock()
	w, ok := ws.of[installation]
	if !ok {
		w = &writer{turn: make(chan struct{}, 1)}
		ws.of[installation] = w
	}
	ws.mu.Unlock()
	select {
	case w.turn <- struct{}{}:
		return w, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for installation %d's writer: %w", installation, context.Cause(ctx))
	}
}

func (w *writer) release() { <-w.turn }

// call is one API request: it returns go-github's response (nil when none arrived).
type call func(ctx context.Context) (*github.Response, error)

// send makes one write through the writer: spaced WriteInterval after the previous write,
// waited out and retried on a rate limit (at most MaxRetries times, each wait at most MaxWait).
// res.Requests counts every request that reached GitHub.
func (p *Poster) send(ctx context.Context, w *writer, res *Result, op string, do call) error {
	for attempt := 0; ; attempt++ {
		if err := sleep(ctx, time.Until(w.lastWrite.Add(p.opts.WriteInterval))); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		resp, err := do(ctx)
		if reached(resp) {
			res.Requests++
			w.lastWrite = time.Now()
		}
		if err == nil {
			return nil
		}
		wait, limited := ghclient.RateLimitWait(err, attempt+1, time.Now())
		if !limited {
			return fmt.Errorf("%s: %w", op, err)
		}
		if attempt >= p.opts.MaxRetries {
			return fmt.Errorf("%s: still rate limited after %d retries: %w", op, attempt, err)
		}
		if wait > p.opts.MaxWait {
			return fmt.Errorf("%s: rate limited for %s, longer than the %s this writer waits: %w", op, wait.Round(time.Second), p.opts.MaxWait, err)
		}
		p.opts.Log.Info("rate limited: waiting", "op", op, "wait", wait, "attempt", attempt+1)
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: waiting out a rate limit: %w", op, err)
		}
	}
}

// reached says whether a response came from GitHub, not from go-github's local refusal while
// a rate limit it saw earlier lasts: that refusal fabricates a response without a protocol
// version, as no transport ever returns.
func reached(resp *github.Response) bool {
	return resp != nil && resp.Response != nil && resp.ProtoMajor > 0
}

// sleep waits d, or returns ctx's cause.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
