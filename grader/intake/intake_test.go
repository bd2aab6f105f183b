package intake

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func run(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
}

// repo makes a local bare repository with two commits: v1 (tagged) and a later one.
func repo(t *testing.T) string {
	t.Helper()
	work := t.TempDir()
	run(t, work, "init", "-q", "-b", "main")
	require.NoError(t, os.MkdirAll(filepath.Join(work, "src"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(work, "src", "index.ts"), []byte("// v1\n"), 0o644))
	run(t, work, "add", ".")
	run(t, work, "commit", "-q", "-m", "v1")
	run(t, work, "tag", "v1")
	require.NoError(t, os.WriteFile(filepath.Join(work, "src", "index.ts"), []byte("// v2\n"), 0o644))
	run(t, work, "commit", "-q", "-am", "v2")
	bare := filepath.Join(t.TempDir(), "submission.git")
	run(t, work, "clone", "-q", "--bare", work, bare)
	return bare
}

func TestFetch(t *testing.T) {
	t.Parallel()
	bare := repo(t)
	folder := t.TempDir()
	cases := []struct {
		name, source, ref, want, err string
	}{
		{name: "a git repository at its head", source: "file://" + bare, want: "// v2\n"},
		{name: "a git repository at a tag", source: "file://" + bare, ref: "v1", want: "// v1\n"},
		{name: "a ref that does not exist", source: "file://" + bare, ref: "nope", err: "git checkout"},
		{name: "a folder", source: folder},
		{name: "a folder with a ref", source: folder, ref: "main", err: "not of a folder"},
		{name: "nothing there", source: filepath.Join(folder, "missing"), err: "not a folder or a git URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sub, err := Fetch(context.Background(), tc.source, tc.ref, t.TempDir())
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			if tc.want == "" {
				require.Equal(t, tc.source, sub.Dir)
				return
			}
			got, err := os.ReadFile(filepath.Join(sub.Dir, "src", "index.ts"))
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
			require.Len(t, sub.Commit, 40)
			require.NoDirExists(t, filepath.Join(sub.Dir, ".git"), "the history is not graded")
		})
	}
}
