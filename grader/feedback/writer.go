package feedback

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
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
		wait, limited := rateLimitWait(err, time.Now())
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

// minWait is the least wait after any rate limit, so a Retry-After of 0 or a reset already past
// does not turn into a burst.
const minWait = time.Second

// defaultWait is what GitHub asks when a secondary limit gives no Retry-After: "wait at least
// one minute".
const defaultWait = time.Minute

// rateLimitWait says whether err is a rate limit and how long to wait it out: a secondary limit
// (403 with Retry-After: *github.AbuseRateLimitError), the primary limit (*RateLimitError, until
// its reset) or a 429, which go-github v60 reports as a plain *ErrorResponse.
func rateLimitWait(err error, now time.Time) (time.Duration, bool) {
	var abuse *github.AbuseRateLimitError
	var primary *github.RateLimitError
	var plain *github.ErrorResponse
	switch {
	case errors.As(err, &abuse):
		if abuse.RetryAfter == nil {
			return defaultWait, true
		}
		return max(*abuse.RetryAfter, minWait), true
	case errors.As(err, &primary):
		if primary.Rate.Reset.IsZero() {
			return defaultWait, true
		}
		return max(primary.Rate.Reset.Sub(now)+clockSkew, minWait), true
	case errors.As(err, &plain) && limitedResponse(plain.Response):
		return max(retryAfterHeader(plain.Response.Header, now), minWait), true
	}
	return 0, false
}

// limitedResponse says whether a response go-github left a plain *ErrorResponse is a rate
// limit all the same: a 429, or a 403 with Retry-After or an exhausted budget whose body did
// not carry the documentation URL v60 looks for.
func limitedResponse(r *http.Response) bool {
	if r == nil {
		return false
	}
	limited403 := r.StatusCode == http.StatusForbidden && (r.Header.Get("Retry-After") != "" || r.Header.Get("X-RateLimit-Remaining") == "0")
	return r.StatusCode == http.StatusTooManyRequests || limited403
}

// clockSkew is added to waits until a reset time GitHub's clock set, in case ours is behind.
const clockSkew = time.Second

// retryAfterHeader reads Retry-After (seconds or an HTTP date), then X-RateLimit-Reset (Unix
// seconds, which GitHub sends with a 429 for the time the limit lifts); neither: a minute.
func retryAfterHeader(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return t.Sub(now)
		}
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s > 0 {
			return time.Unix(s, 0).Sub(now) + clockSkew
		}
	}
	return defaultWait
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
