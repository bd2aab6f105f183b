package checks

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxLine caps one line of candidate output quoted as evidence.
const maxLine = 240

// Clean makes one line of candidate output safe to quote (the run's tokens were redacted when
// it was captured): control and ANSI escape characters shown as \x.., bytes that are not UTF-8
// shown as \x.. too, and the length capped. Reports escape it again for their format (HTML,
// Markdown).
func Clean(s string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteRune(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069'):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
		if n++; n >= maxLine {
			b.WriteString("…")
			break
		}
	}
	return b.String()
}

// outputLines returns the candidate's stdout and stderr lines, without the driver's own
// result line.
func outputLines(o Observation) []string {
	var out []string
	for _, data := range []string{o.Stdout.Data, o.Stderr.Data} {
		for _, l := range strings.Split(data, "\n") {
			if strings.TrimSpace(l) != "" && (o.Marker == "" || !strings.HasPrefix(l, o.Marker)) {
				out = append(out, l)
			}
		}
	}
	return out
}

func tailLines(data string, n int) []string {
	ls := strings.Split(strings.TrimRight(data, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	var out []string
	for _, l := range ls {
		if strings.TrimSpace(l) != "" {
			out = append(out, Clean(l))
		}
	}
	return out
}

func killed(o Observation) string {
	switch {
	case o.Process.TimedOut:
		return fmt.Sprintf(", stopped at the scenario's %v budget", o.Budget)
	case o.Process.OOMKilled:
		return ", killed for using too much memory"
	}
	return ""
}
