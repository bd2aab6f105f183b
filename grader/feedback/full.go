package feedback

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/report"
)

// Full posts the whole report as a check run, conclusion neutral (the grader informs a hiring
// decision, it does not pass or fail a commit): the Markdown report as the summary, cut on a
// character boundary at 65,535 bytes with a note, and one annotation for each located piece of
// evidence of a failed or warned static finding. The check run is created completed with the
// first 50 annotations; each further 50 go in an update, which GitHub appends.
func (p *Poster) Full(ctx context.Context, c *github.Client, t Target, rep *report.Report) (Result, error) {
	if err := t.validate(); err != nil {
		return Result{}, err
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		return Result{}, fmt.Errorf("feedback: %w", err)
	}
	anns, dropped := annotations(rep.Findings, t.Dir, p.opts.MaxAnnotations)
	text := md.String()
	if dropped > 0 {
		text = fmt.Sprintf("> [!NOTE]\n> %d located findings are not annotated on the code (at most %d are); the report lists them all.\n\n", dropped, p.opts.MaxAnnotations) + text
	}
	summary, cut := fitSummary(text, MaxSummaryBytes)
	res := Result{Kind: "check_run", Dropped: dropped, SummaryBytes: len(summary), Cut: cut}
	output := func(batch []*github.CheckRunAnnotation) *github.CheckRunOutput {
		return &github.CheckRunOutput{Title: github.String(fullTitle(rep)), Summary: github.String(summary), Annotations: batch}
	}

	w, err := p.writers.acquire(ctx, t.Installation)
	if err != nil {
		return Result{}, err
	}
	defer w.release()
	if w.checksForbidden {
		return Result{}, fmt.Errorf("feedback: full report for %s/%s: %w", t.Owner, t.Repo, ErrChecksForbidden)
	}
	batches := chunks(anns, AnnotationsPerRequest)
	create := github.CreateCheckRunOptions{
		Name: p.opts.Name, HeadSHA: t.HeadSHA,
		Status: github.String("completed"), Conclusion: github.String("neutral"),
		CompletedAt: &github.Timestamp{Time: time.Now().UTC()}, Output: output(batches[0]),
	}
	var run *github.CheckRun
	err = p.send(ctx, w, &res, "create check run", func(ctx context.Context) (*github.Response, error) {
		var resp *github.Response
		var err error
		run, resp, err = c.Checks.CreateCheckRun(ctx, t.Owner, t.Repo, create)
		return resp, err
	})
	if forbidden(err) {
		w.checksForbidden = true
		return res, fmt.Errorf("feedback: full report for %s/%s: %w: %w", t.Owner, t.Repo, ErrChecksForbidden, err)
	}
	if err != nil {
		return res, fmt.Errorf("feedback: %w", err)
	}
	res.CheckRunID, res.Annotations = run.GetID(), len(batches[0])
	for i, batch := range batches[1:] {
		// UpdateCheckRunOptions.Name has no omitempty: an update without it would rename the run.
		update := github.UpdateCheckRunOptions{Name: p.opts.Name, Output: output(batch)}
		err := p.send(ctx, w, &res, fmt.Sprintf("append annotations (batch %d of %d)", i+2, len(batches)), func(ctx context.Context) (*github.Response, error) {
			_, resp, err := c.Checks.UpdateCheckRun(ctx, t.Owner, t.Repo, res.CheckRunID, update)
			return resp, err
		})
		if err != nil {
			return res, fmt.Errorf("feedback: check run %d: %w", res.CheckRunID, err)
		}
		res.Annotations += len(batch)
	}
	return res, nil
}

// fullTitle is the check run's title: the score and the critical findings' count.
func fullTitle(rep *report.Report) string {
	title := fmt.Sprintf("Score %.1f / 100", rep.Score.Total)
	switch n := len(rep.Critical); {
	case n == 1:
		title += ", 1 critical finding"
	case n > 1:
		title += fmt.Sprintf(", %d critical findings", n)
	}
	if !rep.Build.OK {
		title += ", does not build"
	}
	return title
}

// chunks splits anns into batches of at most n; there is always one batch, perhaps empty.
func chunks(anns []*github.CheckRunAnnotation, n int) [][]*github.CheckRunAnnotation {
	out := [][]*github.CheckRunAnnotation{nil}
	for i, a := range anns {
		if i > 0 && i%n == 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], a)
	}
	return out
}

// annotations are the code-level findings on the code, as report.sarif has them: one for each
// piece of evidence with a file and line of a failed or warned static finding, in the report's
// order, at most limit; dropped counts the rest and those whose file is not inside the
// repository.
func annotations(findings []finding.Finding, dir string, limit int) (anns []*github.CheckRunAnnotation, dropped int) {
	for _, f := range findings {
		if f.Kind != finding.Static || (f.Verdict != finding.Fail && f.Verdict != finding.Warn) {
			continue
		}
		for _, e := range f.Evidence {
			if e.File == "" || e.Line <= 0 {
				continue
			}
			p, ok := repoPath(dir, e.File)
			if !ok || len(anns) >= limit {
				dropped++
				continue
			}
			anns = append(anns, annotation(f, e, p))
		}
	}
	return anns, dropped
}

func annotation(f finding.Finding, e finding.Evidence, p string) *github.CheckRunAnnotation {
	a := &github.CheckRunAnnotation{
		Path: github.String(p), StartLine: github.Int(e.Line), EndLine: github.Int(e.Line),
		AnnotationLevel: github.String(annotationLevel(f)),
		Title:           github.String(ellipsize(oneLine(f.ID+": "+f.Title), maxAnnotationTitle)),
		Message:         github.String(ellipsize(oneLine(e.Text+". "+f.Summary), maxAnnotationMessage)),
	}
	if e.Column > 0 {
		// GitHub takes columns only on a single line, as here.
		a.StartColumn, a.EndColumn = github.Int(e.Column), github.Int(e.Column)
	}
	if len(e.Excerpts) > 0 {
		a.RawDetails = github.String(ellipsize(e.Excerpts[0], maxAnnotationMessage))
	}
	return a
}

// annotationLevel follows report.sarif's levels: a failed critical or high finding is a
// failure, any other failure or a serious warning a warning, the rest a notice.
func annotationLevel(f finding.Finding) string {
	serious := f.Severity == finding.Critical || f.Severity == finding.High
	switch {
	case f.Verdict == finding.Fail && serious:
		return "failure"
	case f.Verdict == finding.Fail, serious, f.Severity == finding.Medium:
		return "warning"
	}
	return "notice"
}

// repoPath is an evidence file's path in the repository: dir joined with it, slash-separated;
// false for a file that is not local (absolute, or climbing out with "..").
func repoPath(dir, file string) (string, bool) {
	file = filepath.ToSlash(file)
	if !filepath.IsLocal(filepath.FromSlash(file)) {
		return "", false
	}
	if dir = strings.Trim(filepath.ToSlash(dir), "/"); dir != "" && !filepath.IsLocal(filepath.FromSlash(dir)) {
		return "", false
	}
	return path.Join(dir, file), true
}
