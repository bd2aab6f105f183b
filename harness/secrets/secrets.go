// Package secrets knows a run's two tokens and finds them where they do not belong: in a URL,
// in a header other than Authorization, in a body, or sent to the other API. It looks for the
// plain token and for its base64, URL-encoded and partial forms (Find), for shorter fragments
// down to 8 characters holding 4 random ones (Fragments, fragment.go), and redacts them all from
// anything that is stored. The tokens themselves never leave this package except to compare.
package secrets

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"

	"github.com/itsm-grader/grader/harness/journal"
)

// PartialWindow is the length of a token fragment Find reports as a partial leak (as bad as the
// whole token). Tokens are random; 12 characters of one appearing by chance is negligible.
// Shorter fragments are Fragments' (fragment.go).
const PartialWindow = 12

// Tokens are a run's two credentials.
type Tokens struct {
	Source string
	Target string
	salt   []byte
}

// NewToken makes a random token with a readable prefix.
func NewToken(prefix string) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the runtime treats this as fatal anyway
	}
	return prefix + "_" + base64.RawURLEncoding.EncodeToString(b)
}

// New returns tokens, generating any that is empty.
func New(source, target string) *Tokens {
	if source == "" {
		source = NewToken("src")
	}
	if target == "" {
		target = NewToken("tgt")
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	return &Tokens{Source: source, Target: target, salt: salt}
}

// Identify says which token an Authorization header value carries.
func (t *Tokens) Identify(authorization string) journal.Auth {
	if authorization == "" {
		return journal.Auth{Token: "none"}
	}
	scheme, cred, _ := strings.Cut(strings.TrimSpace(authorization), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case equal(cred, t.Source):
		return journal.Auth{Scheme: scheme, Token: "source"}
	case equal(cred, t.Target):
		return journal.Auth{Scheme: scheme, Token: "target"}
	}
	mac := hmac.New(sha256.New, t.salt)
	mac.Write([]byte(authorization))
	return journal.Auth{Scheme: capScheme(scheme), Token: "unknown", Fingerprint: hex.EncodeToString(mac.Sum(nil))[:16]}
}

func capScheme(s string) string {
	if len(s) > 20 || strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return "other"
	}
	return s
}

func equal(a, b string) bool {
	return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// BearerIs reports whether an Authorization header value is "Bearer <token>".
func BearerIs(authorization, token string) bool {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	return ok && strings.EqualFold(scheme, "Bearer") && equal(strings.TrimSpace(cred), token)
}

func (t *Tokens) named() [][2]string {
	return [][2]string{{"source", t.Source}, {"target", t.Target}}
}

// forms of a token, strongest evidence first.
func forms(token string) [][2]string {
	return [][2]string{
		{"plain", token},
		{"url-encoded", url.QueryEscape(token)},
		{"base64", base64.StdEncoding.EncodeToString([]byte(token))},
		{"base64", base64.RawURLEncoding.EncodeToString([]byte(token))},
	}
}

// Find returns the leaks of either token in s, found at where.
func (t *Tokens) Find(s, where string) []journal.Leak {
	if s == "" {
		return nil
	}
	var out []journal.Leak
	for _, nt := range t.named() {
		if form, ok := findForm(s, nt[1]); ok {
			out = append(out, journal.Leak{Token: nt[0], Where: where, Form: form})
		}
	}
	return out
}

func findForm(s, token string) (string, bool) {
	if token == "" {
		return "", false
	}
	for _, f := range forms(token) {
		if f[1] != "" && strings.Contains(s, f[1]) {
			return f[0], true
		}
	}
	for _, w := range windows(token) {
		if strings.Contains(s, w) {
			return "partial", true
		}
	}
	return "", false
}

func windows(token string) []string {
	if len(token) <= PartialWindow {
		return nil
	}
	out := make([]string, 0, len(token)-PartialWindow+1)
	for i := 0; i+PartialWindow <= len(token); i++ {
		out = append(out, token[i:i+PartialWindow])
	}
	return out
}

// Redact replaces every form of either token in s with a marker naming the token: whole forms
// of both tokens first ("[REDACTED-target-token]"), then every fragment (fragment.go) with a
// marker that also says how long it was and how many random characters it held
// ("[REDACTED-target-token-fragment len=8 random=4]"), so a verdict can still be read from
// the redacted text and no fragment of FragmentMinRandom random characters survives. Markers
// hold no quote, backslash or newline: redacted JSON stays JSON, lines stay lines.
func (t *Tokens) Redact(s string) string {
	for _, nt := range t.named() {
		if nt[1] != "" {
			for _, f := range forms(nt[1]) {
				s = strings.ReplaceAll(s, f[1], wholeMarker(nt[0]))
			}
		}
	}
	return t.redactFragments(s)
}
