package secrets

import (
	"fmt"
	"sort"
	"strings"
)

// A fragment is a piece of a token: at least FragmentMinLength characters of it, in order,
// holding at least FragmentMinRandom characters of its random part (what follows the fixed
// "src_" / "tgt_" prefix). "tgt_AbCd" is one; "tgt_AbC" (7 characters, 3 random) and "tgt_" are
// not. With the 4-character prefix, the 8 characters are what binds; the 4 random ones keep a
// token with a longer prefix from matching on its prefix alone.
//
// Why these minimums (measured by TestFragmentFalsePositives with SECRETS_MEASURE=2048): a
// token's random part is base64url, 6 bits a character. An 8-character window of it turns up by
// chance with probability 64^-8 = 2^-48 at a given place: over the 2 × 29 shortest windows of
// the two tokens and the 2^20 places of 1 MiB, about 2e-7 false fragments a MiB even in output
// that is itself random base64url (measured: none in 2048 MiB of it). A window that takes the
// prefix needs only its 4 random characters to match: 2^-24 at each place where the output
// prints "tgt_" and four base64url characters of its own. An honest client prints no "tgt_" at
// all (the prefix exists only in the token); output made of nothing but such strings (131,072
// of them a MiB) is the worst case: 2^17 × 2^-24 = 0.8 % of such MiB show a false fragment
// (measured: 19 of 2048 MiB, 0.93 %). Seven characters ("tgt_" and 3) would make it 2^-18 a
// place, 43 % of such MiB (measured: 890 of 2048, 43.5 %): 8 is the shortest that keeps even
// that worst case under 1 %.
const (
	FragmentMinLength = 8
	FragmentMinRandom = 4
)

// Fragment is the longest piece of one token found in a text.
type Fragment struct {
	// Token is "source" or "target".
	Token string
	// Length counts the token's characters found in a row; Random those of them from its
	// random part.
	Length int
	Random int
	// Whole says the token appeared whole (Length is then the token's length).
	Whole bool
}

// Fragments returns, for each token a piece of which appears in s, the longest such piece
// (ties: the one with more random characters), source first. A piece of PartialWindow
// characters or more is what Find reports as "partial"; Fragments also sees the shorter ones.
// Only the plain form is searched: Find covers the encoded ones.
func (t *Tokens) Fragments(s string) []Fragment {
	var out []Fragment
	for _, nt := range t.named() {
		best := match{}
		for _, m := range matches(s, nt[1], fragmentRule) {
			if m.length > best.length || (m.length == best.length && m.random > best.random) {
				best = m
			}
		}
		if best.length > 0 {
			out = append(out, Fragment{Token: nt[0], Length: best.length, Random: best.random, Whole: best.length == len(nt[1])})
		}
	}
	return out
}

// prefixLength is the length of a token's fixed prefix: "src_" and "tgt_" are 4 (any run of
// up to 8 lower-case letters and an underscore counts); a token without one has none.
func prefixLength(token string) int {
	for i := 0; i < len(token) && i <= 8; i++ {
		switch c := token[i]; {
		case c == '_' && i > 0:
			return i + 1
		case c < 'a' || c > 'z':
			return 0
		}
	}
	return 0
}

// rule is what makes a piece of a token a fragment; fragmentRule is the one in use (the
// measurement compares others).
type rule struct{ minLength, minRandom int }

var fragmentRule = rule{minLength: FragmentMinLength, minRandom: FragmentMinRandom}

// match is one maximal piece of a token found in a text: s[at:at+length] equals
// token[from:from+length].
type match struct {
	at, from, length, random int
}

// matches finds every maximal piece of token in s that is a fragment: each occurrence of a
// shortest qualifying window (FragmentMinLength characters ending FragmentMinRandom or more
// characters into the random part; every longer fragment contains one), extended left and
// right as far as s keeps following the token. An occurrence already inside a found piece is
// skipped, so repeated text costs one extension a piece.
func matches(s, token string, r rule) []match {
	p := prefixLength(token)
	first := max(r.minLength, p+r.minRandom)
	if token == "" || len(token) < first {
		return nil
	}
	var found []match
	var covered []bool // s's bytes inside a found piece; made at the first match
	for end := first; end <= len(token); end++ {
		window := token[end-r.minLength : end]
		for from := 0; ; {
			i := strings.Index(s[from:], window)
			if i < 0 {
				break
			}
			at := from + i
			from = at + 1
			if covered != nil && allCovered(covered[at:at+r.minLength]) {
				continue
			}
			m := extend(s, token, at, end-r.minLength, r.minLength)
			m.random = m.from + m.length - max(m.from, p)
			if covered == nil {
				covered = make([]bool, len(s))
			}
			for k := m.at; k < m.at+m.length; k++ {
				covered[k] = true
			}
			found = append(found, m)
		}
	}
	return found
}

func allCovered(c []bool) bool {
	for _, b := range c {
		if !b {
			return false
		}
	}
	return true
}

// extend grows the occurrence of token[from:from+n] at s[at:] to the longest run of s that
// follows the token on both sides.
func extend(s, token string, at, from, n int) match {
	left := 0
	for at-left > 0 && from-left > 0 && s[at-left-1] == token[from-left-1] {
		left++
	}
	right := n
	for at+right < len(s) && from+right < len(token) && s[at+right] == token[from+right] {
		right++
	}
	return match{at: at - left, from: from - left, length: left + right}
}

// span is a run of s to replace with one token's fragment marker.
type span struct {
	start, end int
	token      string
	best       match
}

// redactFragments replaces every fragment of either token with its marker. Both tokens'
// pieces are found in the same text before any is replaced, so one token's marker never cuts
// into the other's fragment.
func (t *Tokens) redactFragments(s string) string {
	var spans []span
	for _, nt := range t.named() {
		for _, m := range matches(s, nt[1], fragmentRule) {
			spans = append(spans, span{start: m.at, end: m.at + m.length, token: nt[0], best: m})
		}
	}
	if len(spans) == 0 {
		return s
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a].start < spans[b].start })
	merged := spans[:1]
	for _, sp := range spans[1:] {
		last := &merged[len(merged)-1]
		if sp.start > last.end || (sp.start == last.end && sp.token != last.token) {
			merged = append(merged, sp)
			continue
		}
		last.end = max(last.end, sp.end)
		if sp.best.length > last.best.length {
			last.best = sp.best
		}
	}
	var b strings.Builder
	prev := 0
	for _, sp := range merged {
		b.WriteString(s[prev:sp.start])
		b.WriteString(fragmentMarker(sp.token, sp.best.length, sp.best.random))
		prev = sp.end
	}
	b.WriteString(s[prev:])
	return b.String()
}

func wholeMarker(token string) string { return "[REDACTED-" + token + "-token]" }

func fragmentMarker(token string, length, random int) string {
	return fmt.Sprintf("[REDACTED-%s-token-fragment len=%d random=%d]", token, length, random)
}
