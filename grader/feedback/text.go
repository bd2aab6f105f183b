package feedback

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// GitHub's limits on what feedback carries.
const (
	// MaxSummaryBytes is a check run's output.summary limit: 65,535 bytes, not characters
	// (the 422 reads "maximum bytesize").
	MaxSummaryBytes = 65535
	// MaxDescriptionBytes is a commit status's description limit: GitHub counts 140
	// characters; cutting at 140 bytes keeps under it whatever the characters are.
	MaxDescriptionBytes = 140
	// AnnotationsPerRequest is the Checks API's limit of annotations in one request.
	AnnotationsPerRequest = 50
	// maxAnnotationMessage and maxAnnotationTitle bound an annotation's text (GitHub allows
	// 64 KB a message; a finding's evidence is a sentence).
	maxAnnotationMessage = 4096
	maxAnnotationTitle   = 255
)

// cutUTF8 returns the longest prefix of s of at most n bytes that ends on a character
// boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ellipsize cuts s to n bytes on a character boundary, ending with "…" when it was cut.
func ellipsize(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	return cutUTF8(s, n-len(mark)) + mark
}

// oneLine makes text a single line: control characters and line breaks become spaces, runs of
// white space one space.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// fitSummary cuts a Markdown text to limit bytes. A cut text ends at a line boundary where one
// is near, closes a code fence left open and says it was cut and how long the whole was; the
// result is valid UTF-8 when md is.
func fitSummary(md string, limit int) (string, bool) {
	if len(md) <= limit {
		return md, false
	}
	budget := limit
	for {
		out := cutSummary(md, budget)
		if len(out) <= limit || budget <= 0 {
			return cutUTF8(out, limit), true
		}
		budget -= len(out) - limit
	}
}

// cutSummary keeps at most budget bytes of md, then closes an open fence and adds the note.
func cutSummary(md string, budget int) string {
	head := cutUTF8(md, budget)
	if nl := strings.LastIndexByte(head, '\n'); nl >= 0 && len(head)-nl < 4096 {
		head = head[:nl+1]
	}
	if fence := openFence(head); fence != "" {
		head = strings.TrimRight(head, "\n") + "\n" + fence + "\n"
	}
	return head + fmt.Sprintf("\n\n---\n*Cut at %d of %d bytes: GitHub limits a check run's summary to %d bytes. The whole report is the grading's report.md.*\n",
		len(head), len(md), MaxSummaryBytes)
}

// openFence returns the fence (its indentation and backticks) of a code block left open at
// the end of md, or "".
func openFence(md string) string {
	open := ""
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		run := len(trimmed) - len(strings.TrimLeft(trimmed, "`"))
		if run < 3 {
			continue
		}
		switch {
		case open == "":
			open = line[:len(line)-len(trimmed)] + trimmed[:run]
		case run >= len(strings.TrimLeft(open, " ")) && strings.Trim(trimmed, "` ") == "":
			open = ""
		}
	}
	return open
}
