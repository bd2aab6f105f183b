package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/itsm-grader/grader/grader/finding"
)

// EscapeMarkdown makes text inert in Markdown: no emphasis, links, code, headings or HTML, and no
// breaking out of a table cell (CommonMark lets any ASCII punctuation be backslash-escaped).
func EscapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '|', '~', '#', '!':
			b.WriteRune('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\n', '\r':
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fence returns a code fence longer than any run of backticks in the text.
func fence(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, r := range l {
			if r == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

var verdictMark = map[finding.Verdict]string{finding.Pass: "✅ pass", finding.Fail: "❌ fail", finding.Warn: "⚠️ warn", finding.NA: "➖ n/a", finding.Info: "ℹ️ info"}

// WriteMarkdown writes report.md, for a pull request or issue comment.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Grading report: %s\n\n", EscapeMarkdown(r.Submission.Source))
	track := r.Submission.Track
	if track == "" {
		track = "unknown"
	}
	fmt.Fprintf(&b, "**Score: %.1f / 100** · judged %s · track: %s · report schema v%d\n\n", r.Score.Total, r.JudgedAt.Format("2006-01-02 15:04 UTC"), EscapeMarkdown(track), r.SchemaVersion)
	fmt.Fprintf(&b, "Grader %s · suite %s · rules %s · evidence captured %s\n\n", EscapeMarkdown(r.Versions.Grader), EscapeMarkdown(r.Versions.Suite),
		EscapeMarkdown(r.Versions.Rules), r.Evidence.CapturedAt.Format("2006-01-02 15:04 UTC"))
	if r.Rejudged != "" {
		fmt.Fprintf(&b, "> [!NOTE]\n> %s\n\n", EscapeMarkdown(r.Rejudged))
	}
	for _, m := range r.Remeasured {
		fmt.Fprintf(&b, "Measured again: %s\n\n", EscapeMarkdown(m))
	}
	if s := r.Static; s != nil {
		if s.Error != "" {
			fmt.Fprintf(&b, "Static review: could not run (%s)\n\n", EscapeMarkdown(s.Error))
		} else {
			fmt.Fprintf(&b, "Static review: TypeScript %s, %d file(s), %d lines, %d ms\n\n", EscapeMarkdown(s.TypeScript), s.Files, s.Lines, s.TookMS)
		}
	}
	if len(r.Critical) > 0 {
		b.WriteString("> [!CAUTION]\n> **Critical findings:** ")
		for i, id := range r.Critical {
			if i > 0 {
				b.WriteString(", ")
			}
			f := r.Finding(id)
			fmt.Fprintf(&b, "`%s` (%s)", id, EscapeMarkdown(f.Summary))
		}
		b.WriteString("\n\n")
	}
	if !r.Build.OK {
		fmt.Fprintf(&b, "**The submission did not build** (%s): %s\n\n", EscapeMarkdown(r.Build.Stage), EscapeMarkdown(r.Build.Summary))
	}
	if r.Score.Note != "" {
		fmt.Fprintf(&b, "*%s.*\n\n", EscapeMarkdown(r.Score.Note))
	}
	b.WriteString("| finding | kind | verdict | severity | summary |\n|---|---|---|---|---|\n")
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", f.ID, f.Kind, verdictMark[f.Verdict], f.Severity, EscapeMarkdown(f.Summary))
	}
	b.WriteString("\n## Details\n")
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "\n### `%s`: %s (%s)\n\n", f.ID, EscapeMarkdown(f.Title), verdictMark[f.Verdict])
		fmt.Fprintf(&b, "%s\n\n*Indicator (%s):* %s\n\n", EscapeMarkdown(f.Summary), f.Indicator.Kind, EscapeMarkdown(f.Indicator.Text))
		for _, rel := range f.Related {
			fmt.Fprintf(&b, "> Beside the %s finding `%s`: %s, %s\n\n", rel.Kind, rel.ID, verdictMark[rel.Verdict], EscapeMarkdown(rel.Summary))
		}
		for _, e := range f.Evidence {
			head := EscapeMarkdown(e.Text)
			if e.File != "" {
				head = fmt.Sprintf("**%s** %s", EscapeMarkdown(location(e)), head)
			}
			if e.Scenario != "" {
				head = fmt.Sprintf("*%s%s:* %s", EscapeMarkdown(e.Scenario), trial(e.Trial), head)
			}
			fmt.Fprintf(&b, "- %s\n", head)
			if len(e.Excerpts) > 0 {
				fc := fence(e.Excerpts)
				fmt.Fprintf(&b, "\n  %s\n", fc)
				for _, x := range e.Excerpts {
					fmt.Fprintf(&b, "  %s\n", strings.ReplaceAll(x, "\n", " "))
				}
				fmt.Fprintf(&b, "  %s\n", fc)
			}
		}
		fmt.Fprintf(&b, "\n*Ask in the live round:* %s\n", EscapeMarkdown(f.Question))
	}
	b.WriteString("\n## Score breakdown\n\n| finding | verdict | weight | earned |\n|---|---|---|---|\n")
	for _, s := range r.Score.Breakdown {
		fmt.Fprintf(&b, "| `%s` | %s | %.0f | %.1f |\n", s.ID, s.Verdict, s.Weight, s.Earned)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write report.md: %w", err)
	}
	return nil
}

// location renders file:line:column.
func location(e finding.Evidence) string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return e.File
}

func trial(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" (trial %d)", n)
}
