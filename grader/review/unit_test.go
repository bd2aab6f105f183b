package review

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
)

func TestAuthLikeNames(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"sourceToken": true, "ITSM_TARGET_TOKEN": true, "api_key": true, "apiKey": true, "Authorization": true, "auth": true,
		"clientSecret": true, "password": true, "_authToken": true, "bearer": true,
		"tokenName": false, "AUTH_HEADER": false, "author": false, "tokenize": false, "secretEnv": false, "authUrl": false,
		"externalId": false, "idempotencyKey": false, "": false,
	} {
		require.Equal(t, want, authLike(name), name)
	}
	require.Equal(t, []string{"http", "server", "url"}, words("HTTPServerURL"))
	require.Equal(t, []string{"v2", "token"}, words("v2Token"))
}

func TestCredentialShapes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, value string
		want        bool
	}{
		{"x", "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", true},
		{"x", "Bearer eyJhbGciOiJIUzI1NiJ9abcdefghijklmnop", true},
		{"x", "sk_live_4f9a8b7c6d5e4f3a2b1c", true},
		{"x", "AKIAIOSFODNN7EXAMPLX", true},
		{"x", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlc2ln", true},
		{"x", "tgt_live_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c", true},
		{"sourceToken", "q8ZfK2mW9xLp4RtY7vB3", true},
		{"sys_id", "69e2c0fdc6cb40dcd8195e1f91512c2e", false},     // random, but not a credential's name
		{"sourceToken", "ITSM_SOURCE_TOKEN", false},               // a variable's name
		{"sourceToken", "your-token-here-0123456789", false},      // a placeholder
		{"sourceToken", "aaaaaaaaaaaaaaaaaaaa1", false},           // low entropy
		{"token", "https://example.test/a1b2c3d4e5f6g7h8", false}, // a URL
		{"password", "correct horse battery staple", false},       // words, spaces
		{"authToken", "${NPM_TOKEN}", false},                      // a reference
	} {
		require.Equal(t, c.want, credential(c.name, c.value) != "", "%s=%s", c.name, c.value)
	}
}

func TestMaskedShowsOnlyTheEnds(t *testing.T) {
	t.Parallel()
	require.Equal(t, "ghp_…[masked]…yzAB", masked("ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"))
	require.Equal(t, "[masked]", masked("short"))
	j := mask(finding.Judgement{Summary: "found ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", Evidence: []finding.Evidence{{Excerpts: []string{`t = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"`}}}},
		[]string{"ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"})
	require.NotContains(t, j.Summary, "0123456789")
	require.NotContains(t, j.Evidence[0].Excerpts[0], "0123456789")
}

func TestTrack(t *testing.T) {
	t.Parallel()
	for content, want := range map[string]string{
		"---\ntrack: ai\n---\nhello":         TrackAI,
		"---\nTrack: \"manual\"\n---\n":      TrackManual,
		"---\ntitle: x\n---\ntrack: ai\n":    TrackUnknown, // outside the front matter
		"track: ai\n":                        TrackUnknown, // no front matter
		"---\ntrack: copilot\n---\n":         TrackUnknown,
		"---\nname: x\ntrack:   ai  \n---\n": TrackAI,
	} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "SUBMISSION.md"), []byte(content), 0o644))
		require.Equal(t, want, Track(mustGather(t, dir)), content)
	}
	require.Equal(t, TrackUnknown, Track(mustGather(t, t.TempDir())))
	require.Equal(t, TrackUnknown, Track(nil))
}

func TestRationale(t *testing.T) {
	t.Parallel()
	good := `# Rationale
## Accepted
- The fetch-based transport, because it needs no dependency.
## Modified
- Added full jitter to the backoff so that clients do not retry in lockstep.
## Rejected
- The draft logged request headers, tokens included; removed because logs are shared.
`
	fails := []finding.Finding{{ID: "static.secret_logged", Verdict: finding.Fail, Summary: "console.debug receives cfg"}}
	for _, c := range []struct {
		name, track, doc string
		others           []finding.Finding
		want             finding.Verdict
	}{
		{"manual track", TrackManual, "", nil, finding.NA},
		{"unknown track", TrackUnknown, good, nil, finding.NA},
		{"no rationale", TrackAI, "", nil, finding.Fail},
		{"covers all three with reasons", TrackAI, good, nil, finding.Pass},
		{"no reasons", TrackAI, "## Accepted\n- the transport\n## Modified\n- the backoff\n## Rejected\n- the logging\n", nil, finding.Fail},
		{"nothing rejected", TrackAI, "## Accepted\n- the transport, because it is simple\n## Modified\n- the backoff, to avoid lockstep\n", nil, finding.Fail},
		{"claim contradicted by the code", TrackAI, good, fails, finding.Fail},
		{"an owned-up gap is not contradicted", TrackAI, strings.Replace(good, "Added full jitter to the backoff so that clients do not retry in lockstep",
			"Added an idempotency key per ticket so that a retried create cannot duplicate", 1) + "\nI did not add jitter to the backoff (a known issue).\n",
			[]finding.Finding{{ID: "backoff.jitter", Verdict: finding.Fail}}, finding.Pass},
		{"a claimed fix the runs contradict", TrackAI, good, []finding.Finding{{ID: "backoff.jitter", Verdict: finding.Fail}}, finding.Fail},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.doc != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "RATIONALE.md"), []byte(c.doc), 0o644))
			}
			f := Rationale(mustGather(t, dir), c.track, c.others)
			require.Equal(t, c.want, f.Verdict, f.Summary)
			require.Equal(t, "ai.rationale", f.ID)
		})
	}
}

func TestJoinRelatesAndNotesDisagreement(t *testing.T) {
	t.Parallel()
	fs := []finding.Finding{
		{ID: "tls.verification", Kind: finding.Measured, Verdict: finding.Pass, Summary: "verified"},
		{ID: "secrets.transport", Kind: finding.Measured, Verdict: finding.Pass, Summary: "headers only"},
		{ID: "static.tls_disabled", Kind: finding.Static, Verdict: finding.Fail, Summary: "switched off at src/config.ts:66"},
		{ID: "static.busy_wait", Kind: finding.Static, Verdict: finding.Pass, Summary: "no spin"},
		{ID: "wait.blocking", Kind: finding.Measured, Verdict: finding.Fail, Summary: "CPU while waiting"},
	}
	Join(fs)
	require.Len(t, fs[2].Related, 2)
	require.Equal(t, "tls.verification", fs[2].Related[0].ID)
	require.Contains(t, fs[2].Summary, "the runs never took this path: tls.verification passes")
	require.Equal(t, "static.tls_disabled", fs[0].Related[0].ID)
	require.Contains(t, fs[3].Summary, "yet wait.blocking fails")
}

func mustGather(t *testing.T, dir string) *Sources {
	t.Helper()
	src, err := Gather(dir)
	require.NoError(t, err)
	return src
}
