package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func gz(t *testing.T, text string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(text))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	p := filepath.Join(t.TempDir(), "evidence.json.gz")
	require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
	return p
}

func TestJudgeCommandLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no evidence", []string{"judge", "--out", "x"}, ExitUsage, "usage: grader judge"},
		{"no --out", []string{"judge", "e.json.gz"}, ExitUsage, "usage: grader judge"},
		{"evidence that is not there", []string{"judge", filepath.Join(t.TempDir(), "missing.json.gz"), "--out", t.TempDir()}, ExitFailure, "open evidence"},
		{"evidence that is not gzip", []string{"judge", func() string {
			p := filepath.Join(t.TempDir(), "e.json.gz")
			require.NoError(t, os.WriteFile(p, []byte("{}"), 0o644))
			return p
		}(), "--out", t.TempDir()}, ExitFailure, "read evidence"},
		{"evidence of a schema this grader does not read", []string{"judge", gz(t, `{"schemaVersion": 99}`), "--out", t.TempDir()}, ExitFailure, "schema version not supported: 99"},
		{"evidence with a field this grader does not know", []string{"judge", gz(t, `{"schemaVersion": 1, "surprise": true}`), "--out", t.TempDir()}, ExitFailure, `unknown field "surprise"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			require.Equal(t, tc.code, Run(context.Background(), Env{Args: tc.args, Stdout: &stdout, Stderr: &stderr}))
			require.Contains(t, stderr.String(), tc.err)
		})
	}
}
