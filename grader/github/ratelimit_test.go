package github

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/itsm-grader/grader/grader/github/githubtest"
	"github.com/stretchr/testify/require"
)

// TestRateLimitsAreWaitedOut answers a read with a 403 secondary limit or a 429 carrying
// Retry-After, then lets it through: the fetch succeeds, with one retry made no sooner than
// asked.
func TestRateLimitsAreWaitedOut(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		path   func(f *fixture) string
		answer githubtest.Response
	}{
		{name: "a 403 secondary limit on the archive", path: func(f *fixture) string { return "/repos/acme/sync-client/tarball/" + f.main },
			answer: githubtest.SecondaryRateLimit(1)},
		{name: "a 429 on the archive", path: func(f *fixture) string { return "/repos/acme/sync-client/tarball/" + f.main },
			answer: githubtest.TooManyRequests(1)},
		{name: "a 429 on resolving the ref", path: func(*fixture) string { return "/repos/acme/sync-client/commits/main" },
			answer: githubtest.TooManyRequests(1)},
		{name: "a 403 secondary limit on reading the repository", path: func(*fixture) string { return "/repos/acme/sync-client" },
			answer: githubtest.SecondaryRateLimit(1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			path := tc.path(f)
			f.srv.Queue(http.MethodGet, path, tc.answer)
			cfg := f.config(t)
			cfg.Token = testToken
			c := f.client(t, cfg)
			sub, err := c.Fetch(context.Background(), Source{Host: "github.com", Owner: "acme", Repo: "sync-client"}, filepath.Join(t.TempDir(), "s"), Limits{})
			require.NoError(t, err)
			require.Equal(t, f.main, sub.Commit)
			var tries []githubtest.Request
			for _, r := range f.srv.Requests() {
				if r.Host == "api" && r.Path == "/api/v3"+path {
					tries = append(tries, r)
				}
			}
			require.Len(t, tries, 2, "one retry, no hammering")
			require.GreaterOrEqual(t, tries[1].At.Sub(tries[0].At), time.Second, "the retry waits Retry-After")
		})
	}
}

// TestRateLimitWaitsAreBounded gives up at once, with the limit's error, when the wait asked
// for passes the cap or the deadline, and ends a wait when the context is cancelled.
func TestRateLimitWaitsAreBounded(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		answer  githubtest.Response
		maxWait time.Duration
		ctx     func(t *testing.T) (context.Context, *slog.Logger)
		is      any
		says    string
	}{
		{name: "Retry-After past the cap", answer: githubtest.SecondaryRateLimit(30), maxWait: 10 * time.Second,
			is: new(*gh.AbuseRateLimitError), says: "not waiting 30s more (0s waited already, the cap is 10s)"},
		{name: "a 429 without Retry-After: a minute, past the cap", answer: githubtest.Response{Status: http.StatusTooManyRequests, Body: `{"message":"slow down"}`},
			maxWait: 10 * time.Second, is: new(*gh.ErrorResponse), says: "not waiting 1m0s more"},
		{name: "Retry-After past the deadline", answer: githubtest.TooManyRequests(20), maxWait: time.Minute,
			ctx: func(t *testing.T) (context.Context, *slog.Logger) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				t.Cleanup(cancel)
				return ctx, nil
			}, is: new(*gh.ErrorResponse), says: "the wait would pass the deadline"},
		{name: "cancelled while waiting", answer: githubtest.TooManyRequests(30), maxWait: time.Minute,
			ctx: func(t *testing.T) (context.Context, *slog.Logger) {
				ctx, cancel := context.WithCancelCause(context.Background())
				t.Cleanup(func() { cancel(nil) })
				return ctx, slog.New(cancelOnWait{cancel: cancel})
			}, is: new(error), says: "waiting out a rate limit: the operator stopped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			path := "/repos/acme/sync-client/commits/v1"
			f.srv.Queue(http.MethodGet, path, tc.answer, tc.answer)
			cfg := f.config(t)
			cfg.MaxRateLimitWait = tc.maxWait
			ctx := context.Background()
			if tc.ctx != nil {
				var log *slog.Logger
				if ctx, log = tc.ctx(t); log != nil {
					cfg.Log = log
				}
			}
			c := f.client(t, cfg)
			start := time.Now()
			_, err := c.Resolve(ctx, Source{Host: "github.com", Owner: "acme", Repo: "sync-client", Ref: "v1"})
			require.Less(t, time.Since(start), 3*time.Second, "no long wait")
			require.ErrorContains(t, err, tc.says)
			if target, ok := tc.is.(**gh.AbuseRateLimitError); ok {
				require.ErrorAs(t, err, target)
			}
			if target, ok := tc.is.(**gh.ErrorResponse); ok {
				require.ErrorAs(t, err, target)
				require.Equal(t, http.StatusTooManyRequests, (*target).Response.StatusCode)
			}
			require.Len(t, apiRequests(f.srv, "api", path), 1, "a single request: nothing hammered")
		})
	}
}

// cancelOnWait is a log handler cancelling its context when a rate-limit wait begins.
type cancelOnWait struct{ cancel context.CancelCauseFunc }

func (h cancelOnWait) Enabled(context.Context, slog.Level) bool { return true }
func (h cancelOnWait) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "github rate limit: waiting it out" {
		h.cancel(errors.New("the operator stopped"))
	}
	return nil
}
func (h cancelOnWait) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h cancelOnWait) WithGroup(string) slog.Handler      { return h }

// TestRateLimitWaitReadsWhatGitHubSays checks the wait read from each kind of limit.
func TestRateLimitWaitReadsWhatGitHubSays(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	response := func(status int, header http.Header) *gh.ErrorResponse {
		return &gh.ErrorResponse{Response: &http.Response{StatusCode: status, Header: header}}
	}
	seconds := func(d time.Duration) *time.Duration { return &d }
	cases := []struct {
		name    string
		err     error
		try     int
		wait    time.Duration
		limited bool
	}{
		{name: "a secondary limit with Retry-After", err: &gh.AbuseRateLimitError{RetryAfter: seconds(42 * time.Second)}, try: 1, wait: 42 * time.Second, limited: true},
		{name: "a secondary limit with Retry-After 0 waits a second", err: &gh.AbuseRateLimitError{RetryAfter: seconds(0)}, try: 1, wait: time.Second, limited: true},
		{name: "a secondary limit without Retry-After, second try", err: &gh.AbuseRateLimitError{}, try: 2, wait: 2 * time.Minute, limited: true},
		{name: "the primary limit: until its reset", err: &gh.RateLimitError{Rate: gh.Rate{Reset: gh.Timestamp{Time: now.Add(90 * time.Second)}}}, try: 1, wait: 91 * time.Second, limited: true},
		{name: "a 429 with Retry-After", err: response(429, http.Header{"Retry-After": {"7"}}), try: 1, wait: 7 * time.Second, limited: true},
		{name: "a 429 with Retry-After as a date", err: response(429, http.Header{"Retry-After": {now.Add(30 * time.Second).UTC().Format(http.TimeFormat)}}), try: 1, wait: 30 * time.Second, limited: true},
		{name: "a 429 with an exhausted limit", err: response(429, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(now.Unix()+10, 10)}}), try: 1, wait: 11 * time.Second, limited: true},
		{name: "a bare 429, third try", err: response(429, nil), try: 3, wait: 4 * time.Minute, limited: true},
		{name: "a 403 with Retry-After but no documentation URL", err: response(403, http.Header{"Retry-After": {"5"}}), try: 1, wait: 5 * time.Second, limited: true},
		{name: "a 403 for a permission", err: response(403, nil), try: 1},
		{name: "a 404", err: response(404, nil), try: 1},
		{name: "a network error", err: errors.New("connection reset"), try: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wait, limited := RateLimitWait(tc.err, tc.try, now)
			require.Equal(t, tc.limited, limited)
			require.Equal(t, tc.wait, wait)
		})
	}
}
