package compare

import (
	"fmt"
	"io"
	"strings"

	"github.com/itsm-grader/grader/grader/report"
)

// md makes candidate text inert in Markdown (the report's escaping).
func md(s string) string { return report.EscapeMarkdown(s) }

// WriteMarkdown writes the comparison as Markdown, for an issue or a pull request.
func (c Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	c.markdownHead(&b)
	c.markdownFindings(&b)
	c.markdownScores(&b)
	c.markdownIndicators(&b)
	c.markdownCritical(&b)
	c.markdownRationale(&b)
	c.markdownSimilar(&b)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write comparison.md: %w", err)
	}
	return nil
}

func (c Comparison) markdownHead(b *strings.Builder) {
	a, m := md(c.Tracks[0]), md(c.Tracks[1])
	title := "# Cohort comparison"
	if c.Cohort != "" {
		title += ": " + md(c.Cohort)
	}
	fmt.Fprintf(b, "%s\n\nTrack **%s** (%d submissions) against track **%s** (%d submissions); differences are %s minus %s.", title, a, c.Submissions[0], m, c.Submissions[1], a, m)
	for _, o := range c.OtherTracks {
		fmt.Fprintf(b, " Left out: %d submission(s) on track %s.", o.Submissions, md(o.Track))
	}
	fmt.Fprintf(b, " Comparison schema v%d.\n\n", c.SchemaVersion)
	if c.Exploratory {
		fmt.Fprintf(b, "> [!WARNING]\n> **Exploratory comparison.** A track has fewer than %d submissions (%s: %d, %s: %d). Read the points and counts below as a description of these candidates, not as evidence about the tracks: nothing is tested, no p-value or q-value is computed, and Cliff's δ has no interval.\n\n",
			c.MinPerTrack, a, c.Submissions[0], m, c.Submissions[1])
	}
}

func (c Comparison) markdownFindings(b *strings.Builder) {
	a, m := md(c.Tracks[0]), md(c.Tracks[1])
	b.WriteString("## Findings\n\nPass rate per track with its Wilson 95 % interval, sorted by the difference. n counts pass, warn and fail; n/a, info and gradings without the finding are left out.")
	if !c.Exploratory {
		fmt.Fprintf(b, " The difference has Newcombe's 95 %% interval; q is Fisher's exact test (two-sided) adjusted by Benjamini–Hochberg across the %d findings tested.", c.Tested)
	}
	fmt.Fprintf(b, "\n\n| finding | %s pass / n | 95 %% | %s pass / n | 95 %% | left out | difference (95 %%) | Fisher | Benjamini–Hochberg |\n|---|---:|---:|---:|---:|---|---:|---:|---:|\n", a, m)
	for _, f := range c.Findings {
		p, q := "—", "—"
		if f.P != nil {
			p = pWithN(*f.P, ns(f))
		}
		if f.Q != nil {
			q = qWithM(*f.Q, c.Tested)
		}
		x, y := f.Tracks[0], f.Tracks[1]
		fmt.Fprintf(b, "| %s | %d / %d (%s) | %s | %d / %d (%s) | %s | %s | %s (%s) | %s | %s |\n", md(f.ID),
			x.Pass, x.N, percent(x.Rate), percentRange(x.Interval), y.Pass, y.N, percent(y.Rate), percentRange(y.Interval),
			md(leftOutText(c, f)), points(f.Difference), pointsRange(f.DifferenceInterval), p, q)
	}
	if len(c.LeftOut) > 0 {
		b.WriteString("\nNot compared: ")
		for i, l := range c.LeftOut {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(b, "%s (%s)", md(l.ID), md(l.Reason))
		}
		b.WriteString(".\n")
	}
}

func (c Comparison) markdownScores(b *strings.Builder) {
	s := c.Scores
	b.WriteString("\n## Scores\n\n")
	for t, ts := range s.Tracks {
		fmt.Fprintf(b, "- %s: n = %d", md(c.Tracks[t]), ts.N)
		if ts.Median != nil {
			fmt.Fprintf(b, ", median %s", score(*ts.Median))
		}
		b.WriteString("\n")
	}
	if mw := s.MannWhitney; mw != nil {
		how := "normal approximation with tie and continuity corrections"
		if mw.Exact {
			how = "exact distribution"
		}
		fmt.Fprintf(b, "- Mann–Whitney U = %s (%s over %s; U₂ = %s), two-sided %s, %s.\n", count(mw.U1), md(c.Tracks[0]), md(c.Tracks[1]), count(mw.U2), pWithN(mw.P, mw.N), how)
	}
	if s.CliffsDelta != nil {
		fmt.Fprintf(b, "- Cliff's δ = %s (%s)", delta(*s.CliffsDelta), s.Magnitude)
		if s.DeltaInterval != nil {
			fmt.Fprintf(b, ", 95 %% bootstrap interval %s (%d stratified percentile resamples, seed %d)", deltaRange(s.DeltaInterval), c.Bootstrap, c.Seed)
		} else if c.Exploratory {
			b.WriteString("; no interval: exploratory")
		}
		b.WriteString(".\n")
	}
	b.WriteString("\n| track | candidate | score |\n|---|---|---:|\n")
	for t, ts := range s.Tracks {
		for _, p := range ts.Points {
			fmt.Fprintf(b, "| %s | %s | %s |\n", md(c.Tracks[t]), md(p.Candidate), score(p.Score))
		}
	}
}

func (c Comparison) markdownIndicators(b *strings.Builder) {
	fmt.Fprintf(b, "\n## Indicators\n\nVerdicts of the findings that name each indicator, pooled per track (not independent: no interval, no test). For a negative indicator, pass means the behaviour it names was avoided.\n\n| indicator | findings | %s | %s |\n|---|---|---:|---:|\n", md(c.Tracks[0]), md(c.Tracks[1]))
	for _, r := range c.Indicators {
		ids := make([]string, len(r.Findings))
		for i, id := range r.Findings {
			ids[i] = md(id)
		}
		fmt.Fprintf(b, "| %s: %s | %s | %d / %d (%s) | %d / %d (%s) |\n", md(r.Kind), md(r.Text), strings.Join(ids, ", "),
			r.Tracks[0].Pass, r.Tracks[0].N, percent(r.Tracks[0].Rate), r.Tracks[1].Pass, r.Tracks[1].N, percent(r.Tracks[1].Rate))
	}
}

func (c Comparison) markdownCritical(b *strings.Builder) {
	fmt.Fprintf(b, "\n## Critical findings\n\nSubmissions with a critical failure, out of each track's submissions.\n\n| finding | %s (of %d) | %s (of %d) |\n|---|---:|---:|\n| any critical finding | %d | %d |\n",
		md(c.Tracks[0]), c.Submissions[0], md(c.Tracks[1]), c.Submissions[1], c.Critical.Any[0], c.Critical.Any[1])
	for _, r := range c.Critical.Findings {
		fmt.Fprintf(b, "| %s | %d | %d |\n", md(r.ID), r.Submissions[0], r.Submissions[1])
	}
}

func (c Comparison) markdownRationale(b *strings.Builder) {
	r := c.Rationale
	if r == nil {
		return
	}
	fmt.Fprintf(b, "\n## Rationales (%s track)\n\n%d of the %d submissions on the %s track have a RATIONALE.md that says, with a reason, what of the assistant's draft was accepted, modified or rejected, for at least one of the three; the table counts each.\n\n| kind | submissions |\n|---|---:|\n",
		md(r.Track), r.WithRationale, r.Submissions, md(r.Track))
	for _, k := range r.Kinds {
		fmt.Fprintf(b, "| %s | %d of %d |\n", k.Kind, k.Submissions, r.Submissions)
	}
	for _, k := range r.Kinds {
		if len(k.Said) == 0 {
			continue
		}
		fmt.Fprintf(b, "\nWhat the rationales say was %s:\n\n", k.Kind)
		for _, s := range k.Said {
			fmt.Fprintf(b, "- **%s**: %s\n", md(s.Candidate), md(s.Text))
		}
	}
}
