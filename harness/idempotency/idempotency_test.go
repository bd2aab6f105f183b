package idempotency

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, raw, want, err string
	}{
		{"absent", "", "", ""},
		{"bare", "abc-123", "abc-123", ""},
		{"structured-field string", `"abc-123"`, "abc-123", ""},
		{"escaped quote inside", `"a\"b"`, `a"b`, ""},
		{"surrounding spaces", "  abc  ", "abc", ""},
		{"unterminated", `"abc`, "", "unterminated"},
		{"empty quoted", `""`, "", "1 to 255"},
		{"too long", strings.Repeat("k", 256), "", "1 to 255"},
		{"longest allowed", strings.Repeat("k", 255), strings.Repeat("k", 255), ""},
		{"control character", "a\x01b", "", "printable"},
		{"non-ASCII", "ключ", "", "printable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKey(tc.raw)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestDigestComparesJSONValues(t *testing.T) {
	t.Parallel()
	require.Equal(t, Digest([]byte(`{"a":1,"b":"x"}`)), Digest([]byte("{ \"b\": \"x\",\n \"a\": 1 }")))
	require.NotEqual(t, Digest([]byte(`{"a":1}`)), Digest([]byte(`{"a":2}`)))
	require.NotEqual(t, Digest([]byte(`{"a":1.0}`)), Digest([]byte(`{"a":1}`)), "numbers keep their spelling")
	require.NotEqual(t, Digest([]byte("not json")), Digest([]byte("not  json")))
}

func TestStoreLifecycle(t *testing.T) {
	t.Parallel()
	s := NewStore()
	d, _ := s.Begin("k", "d1")
	require.Equal(t, Proceed, d)
	d, _ = s.Begin("k", "d1")
	require.Equal(t, InFlight, d)
	d, _ = s.Begin("k", "d2")
	require.Equal(t, Mismatch, d)
	s.Complete("k", Response{Status: 201, Header: http.Header{"Location": {"/x"}}, Body: []byte("b")})
	d, resp := s.Begin("k", "d1")
	require.Equal(t, Replay, d)
	require.Equal(t, 201, resp.Status)
	resp.Header.Set("Location", "changed")
	_, again := s.Begin("k", "d1")
	require.Equal(t, "/x", again.Header.Get("Location"), "replays are copies")

	d, _ = s.Begin("v", "d1")
	require.Equal(t, Proceed, d)
	s.Release("v")
	d, _ = s.Begin("v", "d2")
	require.Equal(t, Proceed, d, "a released key is free again")
	require.Equal(t, "in_flight", InFlight.String())
}
