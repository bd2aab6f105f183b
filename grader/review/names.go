package review

import (
	"strings"
	"unicode"
)

// words splits a name into lower-case words: camelCase, snake_case, kebab-case, dotted. It is
// the analyzer's split (analyzer.ts: words), so both sides agree on what a name says.
func words(name string) []string {
	var out []string
	rs := []rune(name)
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return out
}

var authWords = map[string]bool{
	"token": true, "tokens": true, "secret": true, "secrets": true, "password": true, "passwd": true,
	"passphrase": true, "apikey": true, "credential": true, "credentials": true, "bearer": true,
	"authorization": true, "auth": true, "authtoken": true,
}

// notAValue are last words that make an auth-like name talk about a credential rather than
// hold one (tokenName, AUTH_HEADER, secretEnv).
var notAValue = map[string]bool{
	"name": true, "names": true, "env": true, "var": true, "variable": true, "length": true, "len": true,
	"count": true, "size": true, "type": true, "kind": true, "label": true, "field": true, "header": true,
	"present": true, "set": true, "missing": true, "configured": true, "url": true, "path": true,
	"file": true, "prefix": true, "scheme": true, "source": true, "ok": true, "valid": true,
	"pattern": true, "regex": true, "chars": true, "re": true,
}

// authLike says whether a name holds a credential (sourceToken, api_key, Authorization).
func authLike(name string) bool {
	w := words(name)
	if len(w) == 0 {
		return false
	}
	hit := false
	for i, x := range w {
		if authWords[x] || (x == "api" && i+1 < len(w) && w[i+1] == "key") {
			hit = true
		}
	}
	return hit && !notAValue[w[len(w)-1]]
}
