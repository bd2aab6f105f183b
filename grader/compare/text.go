package compare

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Caps, in characters, on candidate-derived text.
const (
	maxName  = 120
	maxTrack = 40
	maxID    = 80
	maxText  = 300
)

// clean makes candidate-derived text safe to show anywhere: bytes that are not UTF-8, control
// characters, line and paragraph separators and bidirectional overrides are shown as \x..
// escapes, tabs become spaces, and the text is cut at limit characters with an ellipsis. (The
// same classes as the checks' cleaning of candidate output.)
func clean(s string, limit int) string {
	if plain(s, limit) {
		return s
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		if n == limit {
			b.WriteString("…")
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' ||
			(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069'):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
		n++
	}
	return b.String()
}

// plain says a text is printable ASCII within the limit: clean would return it unchanged.
func plain(s string, limit int) bool {
	if len(s) > limit {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
