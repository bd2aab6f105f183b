package store

import (
	"encoding/json"
	"strconv"
	"strings"
)

// parseMeasured reads a finding's measured numbers as stored: a flat JSON object of numbers,
// as json.Marshal wrote it. Reading a cohort parses hundreds of thousands of them, and
// encoding/json took a third of a cohort read, so the common shape (keys without escapes,
// commas or colons; numbers as JSON writes them) is parsed here and anything else goes to
// encoding/json, which decides.
func parseMeasured(s string) (map[string]float64, error) {
	body, opened := strings.CutPrefix(s, "{")
	body, closed := strings.CutSuffix(body, "}")
	if !opened || !closed || !plainASCII(body) {
		return unmarshalMeasured(s)
	}
	if body == "" {
		return map[string]float64{}, nil
	}
	pairs := strings.Split(body, ",")
	m := make(map[string]float64, len(pairs))
	for _, pair := range pairs {
		key, num, ok := strings.Cut(pair, ":")
		if !ok || len(key) < 2 || key[0] != '"' || key[len(key)-1] != '"' ||
			strings.Contains(key[1:len(key)-1], `"`) || !jsonNumber(num) {
			return unmarshalMeasured(s)
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return unmarshalMeasured(s)
		}
		m[key[1:len(key)-1]] = v
	}
	return m, nil
}

func unmarshalMeasured(s string) (map[string]float64, error) {
	var m map[string]float64
	err := json.Unmarshal([]byte(s), &m)
	return m, err
}

// jsonNumber reports whether s is a number as JSON writes one:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	digits := func() int {
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		return n
	}
	n := digits()
	if n == 0 || (n > 1 && s[0] == '0') {
		return false
	}
	s = s[n:]
	if rest, ok := strings.CutPrefix(s, "."); ok {
		if s = rest; digits() == 0 {
			return false
		}
		s = s[digits():]
	}
	if len(s) > 0 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
			s = s[1:]
		}
		if digits() == 0 {
			return false
		}
		s = s[digits():]
	}
	return s == ""
}

// plainASCII reports whether s holds printable ASCII only, without a backslash or a space:
// nothing that JSON escapes, replaces or skips.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
