package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	gh "github.com/google/go-github/v60/github"
)

const (
	// maxTries bounds the calls one operation makes while rate limited.
	maxTries = 5
	// minWait is the shortest wait after a rate limit, even one saying "Retry-After: 0".
	minWait = time.Second
	// firstBackoff is the wait when GitHub names none: "wait at least one minute", doubling.
	firstBackoff = time.Minute
)

// WaitOut runs call until it succeeds or fails for a reason other than a rate limit, and
// returns its last error as it is. A secondary rate limit (a 403 with Retry-After, which v60
// reports as *AbuseRateLimitError, and after which v60 refuses locally until the time has
// passed), a 429 (a plain *ErrorResponse in v60) and an exhausted primary limit
// (*RateLimitError) are waited out as GitHub asks: Retry-After, else until
// x-ratelimit-reset, else a minute doubling with each try; a second at least. It gives up
// with the limit's error, without waiting, when the next wait would take the operation's
// total past MaxRateLimitWait or past ctx's deadline, or after 5 tries; cancelling ctx ends a
// wait at once.
func (c *Client) WaitOut(ctx context.Context, op string, call func(context.Context) (*gh.Response, error)) error {
	var waited time.Duration
	for try := 1; ; try++ {
		_, err := call(ctx)
		if err == nil {
			return nil
		}
		wait, limited := RateLimitWait(err, try, time.Now())
		if !limited {
			return err
		}
		if reason := c.tooLong(ctx, try, waited, wait); reason != "" {
			return fmt.Errorf("%s: rate limited by GitHub, not waiting %s more (%s): %w", op, wait, reason, err)
		}
		c.log.Warn("github rate limit: waiting it out", "op", op, "wait", wait.String(), "try", try)
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: waiting out a rate limit: %w", op, err)
		}
		waited += wait
	}
}

// tooLong says why the next wait is not to be made, or "" when it is.
func (c *Client) tooLong(ctx context.Context, try int, waited, wait time.Duration) string {
	if try >= maxTries {
		return fmt.Sprintf("%d tries made", try)
	}
	if waited+wait > c.cfg.MaxRateLimitWait {
		return fmt.Sprintf("%s waited already, the cap is %s", waited, c.cfg.MaxRateLimitWait)
	}
	if deadline, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(deadline) {
		return "the wait would pass the deadline"
	}
	return ""
}

// RateLimitWait says whether err is one of GitHub's rate limits and how long GitHub asks to wait
// it out before try (1 for the first retry): a secondary limit (*AbuseRateLimitError, its
// Retry-After), the primary limit (*RateLimitError, until its reset), or a response go-github
// v60 leaves a plain *ErrorResponse although it is a limit (LimitedResponse: a 429, or a 403
// with Retry-After or an exhausted budget). Where GitHub names no time, a minute, doubling with
// each try ("wait at least one minute"). Never less than a second, so that a Retry-After of 0
// or a reset already past does not turn into a burst. Every GitHub caller reads limits here.
func RateLimitWait(err error, try int, now time.Time) (time.Duration, bool) {
	var secondary *gh.AbuseRateLimitError
	var primary *gh.RateLimitError
	var plain *gh.ErrorResponse
	switch {
	case errors.As(err, &secondary):
		if secondary.RetryAfter != nil {
			return max(*secondary.RetryAfter, minWait), true
		}
		return backoff(try), true
	case errors.As(err, &primary):
		if primary.Rate.Reset.IsZero() {
			return backoff(try), true
		}
		return max(primary.Rate.Reset.Sub(now)+clockSkew, minWait), true
	case errors.As(err, &plain) && LimitedResponse(plain.Response):
		return headerWait(plain.Response.Header, try, now), true
	}
	return 0, false
}

// LimitedResponse says whether a response is a rate limit: a 429, or a 403 with Retry-After
// or an exhausted budget (whatever its body says).
func LimitedResponse(r *http.Response) bool {
	if r == nil {
		return false
	}
	limited403 := r.StatusCode == http.StatusForbidden && (r.Header.Get("Retry-After") != "" || r.Header.Get("X-RateLimit-Remaining") == "0")
	return r.StatusCode == http.StatusTooManyRequests || limited403
}

// clockSkew is added to waits until a reset time GitHub's clock set, in case ours is behind.
const clockSkew = time.Second

// headerWait reads the wait from Retry-After (seconds or a date), else from X-RateLimit-Reset
// (which GitHub sends with a 429 and an exhausted budget), else backs off.
func headerWait(header http.Header, try int, now time.Time) time.Duration {
	if v := header.Get("Retry-After"); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			return max(time.Duration(secs)*time.Second, minWait)
		}
		if at, err := http.ParseTime(v); err == nil {
			return max(at.Sub(now), minWait)
		}
	}
	if epoch, err := strconv.ParseInt(header.Get("X-RateLimit-Reset"), 10, 64); err == nil && epoch > 0 {
		return max(time.Unix(epoch, 0).Sub(now)+clockSkew, minWait)
	}
	return backoff(try)
}

// backoff is a minute, doubling with each try.
func backoff(try int) time.Duration { return firstBackoff << min(try-1, 6) }

// sleep waits d or until ctx ends, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
