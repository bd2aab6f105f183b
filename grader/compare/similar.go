package compare

import (
	"fmt"
	"strings"
)

// SimilarPair is two submissions of the cohort, or a submission and a known AI draft, whose code
// looks alike (grader/similarity): a signal for the interviewer, never a verdict or a score.
type SimilarPair struct {
	Left  string `json:"left"`
	Right string `json:"right"`
	// Draft says Right is a known AI draft, not a candidate.
	Draft      bool    `json:"draft,omitempty"`
	Similarity float64 `json:"similarity"`
	// LongestTokens is the longest shared passage, in tokens.
	LongestTokens int `json:"longestTokens"`
	// Fragments are the longest shared passages, side by side.
	Fragments []SimilarFragment `json:"fragments,omitempty"`
}

// SimilarFragment is one shared passage: where it lies on each side and its text there.
type SimilarFragment struct {
	Left  Excerpt `json:"left"`
	Right Excerpt `json:"right"`
}

// Excerpt is lines From to To of a file, and their text (cleaned, capped).
type Excerpt struct {
	File string `json:"file"`
	From int    `json:"from"`
	To   int    `json:"to"`
	Text string `json:"text,omitempty"`
}

// Caps of what a comparison shows of similar code.
const (
	maxSimilarPairs     = 200
	maxFragmentsShown   = 5
	maxExcerptLines     = 60
	maxExcerptLineChars = 200
)

// cleanSimilar caps and cleans the pairs (names and code are the candidates').
func cleanSimilar(pairs []SimilarPair) []SimilarPair {
	if len(pairs) > maxSimilarPairs {
		pairs = pairs[:maxSimilarPairs]
	}
	out := make([]SimilarPair, 0, len(pairs))
	for _, p := range pairs {
		p.Left, p.Right = clean(p.Left, maxName), clean(p.Right, maxName)
		p.Similarity = round6(p.Similarity)
		if len(p.Fragments) > maxFragmentsShown {
			p.Fragments = p.Fragments[:maxFragmentsShown]
		}
		frags := make([]SimilarFragment, len(p.Fragments))
		for i, f := range p.Fragments {
			frags[i] = SimilarFragment{Left: cleanExcerpt(f.Left), Right: cleanExcerpt(f.Right)}
		}
		p.Fragments = frags
		out = append(out, p)
	}
	return out
}

func cleanExcerpt(e Excerpt) Excerpt {
	e.File = clean(e.File, maxName)
	lines := strings.Split(e.Text, "\n")
	if len(lines) > maxExcerptLines {
		lines = append(lines[:maxExcerptLines], fmt.Sprintf("… %d more lines", len(lines)-maxExcerptLines))
	}
	for i, l := range lines {
		lines[i] = clean(l, maxExcerptLineChars)
	}
	e.Text = strings.Join(lines, "\n")
	return e
}

func (c Comparison) markdownSimilar(b *strings.Builder) {
	if len(c.Similar) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## Similar code\n\nA signal for the interviewer, never a verdict or a score: pairs at or above %.2f similarity (shared fingerprints of the code with identifiers, literals and comments normalised away). The HTML page shows the passages side by side.\n\n| left | right | similarity | longest passage (tokens) | passages |\n|---|---|---|---|---|\n", c.SimilarityThreshold)
	for _, p := range c.Similar {
		right := md(p.Right)
		if p.Draft {
			right += " (known AI draft)"
		}
		var where []string
		for _, f := range p.Fragments {
			where = append(where, fmt.Sprintf("%s:%d-%d ~ %s:%d-%d", md(f.Left.File), f.Left.From, f.Left.To, md(f.Right.File), f.Right.From, f.Right.To))
		}
		fmt.Fprintf(b, "| %s | %s | %.2f | %d | %s |\n", md(p.Left), right, p.Similarity, p.LongestTokens, strings.Join(where, "; "))
	}
}
