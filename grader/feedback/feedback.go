// Package feedback posts a grading's result back to the candidate's GitHub repository, as the
// cohort chose: nothing (ModeNone), a receipt that says only whether the commit builds
// (ModeReceipt: a check run, or a commit status where check runs are forbidden), or the whole
// report (ModeFull: a check run with the Markdown report as its summary and the code-level
// findings as annotations). Every write for one installation goes through one serialized
// writer that spaces its requests and waits out GitHub's rate limits, bounded and
// context-aware, rather than retrying into them.
package feedback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/itsm-grader/grader/grader/report"
)

// Mode is how much of a grading goes back to the candidate's repository.
type Mode string

// Modes of feedback. In hiring the candidate usually must not see the rubric: ModeNone is the
// default and ModeReceipt says nothing a finding says.
const (
	ModeNone    Mode = "none"
	ModeReceipt Mode = "receipt"
	ModeFull    Mode = "full"
)

// ParseMode reads a cohort's feedback setting; "" is ModeNone.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.TrimSpace(s)); m {
	case "":
		return ModeNone, nil
	case ModeNone, ModeReceipt, ModeFull:
		return m, nil
	}
	return "", fmt.Errorf("feedback mode %q: want none, receipt or full", s)
}

// Target is the commit feedback is about.
type Target struct {
	Owner, Repo string
	// HeadSHA is the graded commit: 40 (SHA-1) or 64 (SHA-256) hexadecimal digits.
	HeadSHA string
	// Installation is the GitHub App installation the client acts as; 0 for a token. Writes for
	// one installation are serialized.
	Installation int64
	// Received is the server time the grader received the commit (the push delivery, or the
	// deadline's freeze); a receipt states it. Never a commit date, which the candidate sets.
	Received time.Time
	// Dir is the submission's folder inside the repository, "" for its root: annotation paths
	// are Dir joined with the finding's file.
	Dir string
}

var shaPattern = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

func (t Target) validate() error {
	if t.Owner == "" || t.Repo == "" {
		return errors.New("feedback: the target needs an owner and a repository")
	}
	if !shaPattern.MatchString(t.HeadSHA) {
		return fmt.Errorf("feedback: head SHA %q is not a full lowercase commit SHA", t.HeadSHA)
	}
	return nil
}

// Result says what was posted.
type Result struct {
	// Kind is "check_run", "status" or "" (ModeNone: nothing posted).
	Kind       string
	CheckRunID int64
	// Requests counts the API requests made, rate-limited ones and retries included.
	Requests int
	// Annotations posted, and those left out beyond Options.MaxAnnotations or for a path that
	// is not inside the repository.
	Annotations, Dropped int
	// SummaryBytes is the size of the check run's summary or the status's description; Cut
	// says it was cut to GitHub's limit.
	SummaryBytes int
	Cut          bool
}

// Options tune a Poster. The zero value is usable.
type Options struct {
	// Name of the check run and context of the commit status; "itsm-grader" by default.
	Name string
	// WriteInterval spaces two writes of one installation (GitHub asks integrators making many
	// mutating requests to wait at least a second between them); 1 s by default.
	WriteInterval time.Duration
	// MaxWait bounds one wait for a rate limit: a longer Retry-After fails the post instead
	// (the caller queues it again later); 2 min by default.
	MaxWait time.Duration
	// MaxRetries bounds the retries of one request after rate limits; 5 by default.
	MaxRetries int
	// MaxAnnotations bounds the annotations of one check run (50 a request, so 10 requests at
	// the default 500); the rest are counted in the summary.
	MaxAnnotations int
	// Log receives one line a request retried; nil discards.
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "itsm-grader"
	}
	if o.WriteInterval <= 0 {
		o.WriteInterval = time.Second
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 2 * time.Minute
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 5
	}
	if o.MaxAnnotations <= 0 {
		o.MaxAnnotations = 500
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Poster posts feedback. One Poster serves a process: it holds one writer per installation.
type Poster struct {
	opts    Options
	writers *writers
}

// NewPoster returns a Poster.
func NewPoster(opts Options) *Poster {
	return &Poster{opts: opts.withDefaults(), writers: newWriters()}
}

// ErrChecksForbidden says GitHub refused to create a check run (403): a personal or OAuth
// token cannot, and an App needs the checks: write permission. Full feedback needs a check run.
var ErrChecksForbidden = errors.New("GitHub refused to create a check run (a token cannot create check runs: install the GitHub App with checks: write, or upload report.sarif instead)")

// Post posts a grading's feedback as mode says. Under ModeReceipt only rep.Build is read.
func (p *Poster) Post(ctx context.Context, c *github.Client, t Target, mode Mode, rep *report.Report) (Result, error) {
	switch mode {
	case ModeNone, "":
		return Result{}, nil
	}
	if rep == nil {
		return Result{}, errors.New("feedback: no report to post")
	}
	switch mode {
	case ModeReceipt:
		return p.Receipt(ctx, c, t, rep.Build)
	case ModeFull:
		return p.Full(ctx, c, t, rep)
	}
	return Result{}, fmt.Errorf("feedback: unknown mode %q", mode)
}
