package secrets

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFindAndRedact(t *testing.T) {
	t.Parallel()
	tok := New("src_abcdefghijklmnopqrstuvwxyz0123", "tgt_ZYXWVUTSRQPONMLKJIHGFEDCBA9876+/")
	cases := []struct {
		name, haystack, token, form string
	}{
		{"plain", "Bearer src_abcdefghijklmnopqrstuvwxyz0123", "source", "plain"},
		{"url-encoded", "?t=" + url.QueryEscape(tok.Target), "target", "url-encoded"},
		{"base64", base64.StdEncoding.EncodeToString([]byte(tok.Source)), "source", "base64"},
		{"partial", "…ghijklmnopqrst…", "source", "partial"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			leaks := tok.Find(tc.haystack, "x")
			require.Len(t, leaks, 1)
			require.Equal(t, tc.token, leaks[0].Token)
			require.Equal(t, tc.form, leaks[0].Form)
			red := tok.Redact(tc.haystack)
			require.Empty(t, tok.Find(red, "x"), "nothing of the token survives redaction: %q", red)
			require.Empty(t, tok.Fragments(red), "no fragment of the token survives redaction: %q", red)
			require.Contains(t, red, "[REDACTED-"+tc.token+"-token")
		})
	}
	require.Empty(t, tok.Find("a perfectly ordinary log line with src_ and tgt_ prefixes", "x"))
}

func TestIdentify(t *testing.T) {
	t.Parallel()
	tok := New("", "")
	require.True(t, strings.HasPrefix(tok.Source, "src_"))
	require.Equal(t, "source", tok.Identify("Bearer "+tok.Source).Token)
	require.Equal(t, "target", tok.Identify("bearer  "+tok.Target).Token)
	require.Equal(t, "none", tok.Identify("").Token)
	u := tok.Identify("Bearer guess")
	require.Equal(t, "unknown", u.Token)
	require.Len(t, u.Fingerprint, 16)
	require.Equal(t, u.Fingerprint, tok.Identify("Bearer guess").Fingerprint, "stable within a run")
	require.True(t, BearerIs("Bearer "+tok.Target, tok.Target))
	require.False(t, BearerIs("Basic "+tok.Target, tok.Target))
	require.False(t, BearerIs("Bearer ", ""))
}
