package feedback

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	ghclient "github.com/itsm-grader/grader/grader/github"

	"github.com/itsm-grader/grader/grader/report"
)

// maxReceiptMessages bounds the compiler lines a failed build's receipt shows.
const maxReceiptMessages = 30

// ReceiptLine is the whole of what a receipt says: that the commit was received, when (server
// time), and that it builds and exports syncTickets, or how its build failed. Nothing of the
// findings, the score or the rubric.
func ReceiptLine(sha string, received time.Time, b report.Build) string {
	head := fmt.Sprintf("received commit %s at %s", shortSHA(sha), received.UTC().Format("2006-01-02 15:04:05 UTC"))
	if b.OK {
		return head + "; it builds and exports syncTickets"
	}
	stage := oneLine(b.Stage)
	if stage == "" {
		stage = "build"
	}
	summary := oneLine(b.Summary)
	if summary == "" {
		summary = "no message"
	}
	return fmt.Sprintf("%s; it does not build (%s): %s", head, stage, summary)
}

func shortSHA(sha string) string {
	return sha[:min(7, len(sha))]
}

// Receipt posts a receipt for the target commit: a check run (conclusion neutral) whose
// summary is ReceiptLine and, for a failed build, the compiler's lines; where GitHub forbids
// check runs (a token: 403), a commit status whose description is ReceiptLine cut to 140 bytes
// (state success when it builds, failure when it does not).
func (p *Poster) Receipt(ctx context.Context, c *github.Client, t Target, b report.Build) (Result, error) {
	if err := t.validate(); err != nil {
		return Result{}, err
	}
	if t.Received.IsZero() {
		return Result{}, errors.New("feedback: a receipt needs the server time the commit was received")
	}
	w, err := p.writers.acquire(ctx, t.Installation)
	if err != nil {
		return Result{}, err
	}
	defer w.release()
	var res Result
	line := ReceiptLine(t.HeadSHA, t.Received, b)
	if !w.checksForbidden {
		err := p.receiptCheckRun(ctx, c, w, &res, t, line, b)
		if !forbidden(err) {
			return res, err
		}
		p.opts.Log.Info("check runs forbidden: posting a commit status instead", "installation", t.Installation, "repo", t.Owner+"/"+t.Repo)
		w.checksForbidden = true
	}
	return res, p.receiptStatus(ctx, c, w, &res, t, line, b.OK)
}

func (p *Poster) receiptCheckRun(ctx context.Context, c *github.Client, w *writer, res *Result, t Target, line string, b report.Build) error {
	title := fmt.Sprintf("Received %s: it builds", shortSHA(t.HeadSHA))
	if !b.OK {
		title = fmt.Sprintf("Received %s: it does not build", shortSHA(t.HeadSHA))
	}
	summary := receiptSummary(line, b)
	opts := github.CreateCheckRunOptions{
		Name: p.opts.Name, HeadSHA: t.HeadSHA,
		Status: github.String("completed"), Conclusion: github.String("neutral"),
		CompletedAt: &github.Timestamp{Time: time.Now().UTC()},
		Output:      &github.CheckRunOutput{Title: github.String(title), Summary: github.String(summary)},
	}
	var run *github.CheckRun
	err := p.send(ctx, w, res, "create receipt check run", func(ctx context.Context) (*github.Response, error) {
		var resp *github.Response
		var err error
		run, resp, err = c.Checks.CreateCheckRun(ctx, t.Owner, t.Repo, opts)
		return resp, err
	})
	if err != nil {
		return err
	}
	res.Kind, res.CheckRunID, res.SummaryBytes = "check_run", run.GetID(), len(summary)
	return nil
}

// receiptSummary is the receipt's line, escaped for Markdown, and a failed build's compiler
// lines in a code block, fitted to GitHub's limit.
func receiptSummary(line string, b report.Build) string {
	var s strings.Builder
	s.WriteString(report.EscapeMarkdown(line))
	s.WriteString("\n")
	if !b.OK && len(b.Messages) > 0 {
		lines := slices.Clone(b.Messages[:min(len(b.Messages), maxReceiptMessages)])
		for i, l := range lines {
			lines[i] = strings.ReplaceAll(oneLine(l), "```", "` ` `")
		}
		fmt.Fprintf(&s, "\n```text\n%s\n```\n", strings.Join(lines, "\n"))
		if more := len(b.Messages) - len(lines); more > 0 {
			fmt.Fprintf(&s, "\n(%d more lines)\n", more)
		}
	}
	out, _ := fitSummary(s.String(), MaxSummaryBytes)
	return out
}

func (p *Poster) receiptStatus(ctx context.Context, c *github.Client, w *writer, res *Result, t Target, line string, builds bool) error {
	state := "success"
	if !builds {
		state = "failure"
	}
	desc := ellipsize(line, MaxDescriptionBytes)
	status := &github.RepoStatus{State: github.String(state), Description: github.String(desc), Context: github.String(p.opts.Name)}
	err := p.send(ctx, w, res, "create receipt commit status", func(ctx context.Context) (*github.Response, error) {
		_, resp, err := c.Repositories.CreateStatus(ctx, t.Owner, t.Repo, t.HeadSHA, status)
		return resp, err
	})
	if err != nil {
		return err
	}
	res.Kind, res.CheckRunID, res.SummaryBytes, res.Cut = "status", 0, len(desc), len(desc) < len(line)
	return nil
}

// forbidden says GitHub answered 403 for a reason other than a rate limit: go-github gives rate
// limits their own error types when it recognises them, ghclient.LimitedResponse the rest.
func forbidden(err error) bool {
	var plain *github.ErrorResponse
	return errors.As(err, &plain) && plain.Response != nil && plain.Response.StatusCode == http.StatusForbidden && !ghclient.LimitedResponse(plain.Response)
}
