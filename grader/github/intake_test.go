package github

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/itsm-grader/grader/grader/github/githubtest"
	"github.com/itsm-grader/grader/grader/intake"
	"github.com/stretchr/testify/require"
)

// TestIntakeTakesGitHubSources installs the GitHub intake and goes through intake's own
// functions, as grading and rosters do. Not parallel: it installs intake's Remote.
func TestIntakeTakesGitHubSources(t *testing.T) {
	f := newFixture(t)
	commit := sha("linked")
	top := githubtest.TopFolder("acme", "linked", commit)
	f.srv.AddRepo(&githubtest.Repo{Owner: "acme", Name: "linked", DefaultBranch: "main", Refs: map[string]string{"main": commit},
		Archives: map[string][]byte{commit: githubtest.Archive(commit, githubtest.Entry{Name: top + "/", Type: tar.TypeDir},
			githubtest.Entry{Name: top + "/index.ts", Type: tar.TypeSymlink, Linkname: "/etc/passwd"})}})
	cfg := f.config(t)
	cfg.Token = testToken

	require.False(t, intake.IsGit("github.com/acme/sync-client", nil), "without the Remote, a GitHub source is a folder name, as before")
	remote := NewIntake(f.client(t, cfg))

	require.True(t, intake.IsGit("github.com/acme/sync-client", remote), "a roster does not take it for a relative folder")
	require.True(t, intake.IsGit("https://github.com/acme/sync-client", remote))
	require.NoError(t, intake.Check("github.com/acme/sync-client@v1", "", remote))
	require.NoError(t, intake.Check("https://github.com/acme/sync-client", "v1", remote))
	require.ErrorContains(t, intake.Check("github.com/acme/sync-client@v1", "v2", remote), "give one")
	require.ErrorContains(t, intake.Check("github.com/acme", "", remote), "is not OWNER/REPO")
	require.ErrorContains(t, intake.Check("https://gitlab.com/acme/repo", "--upload-pack=x", remote), "may not start with '-'", "other URLs still go to git")

	work := t.TempDir()
	sub, err := intake.Fetch(context.Background(), "https://github.com/acme/sync-client", "v1", intake.Options{Workdir: work, Remote: remote})
	require.NoError(t, err)
	require.Equal(t, intake.Submission{Dir: filepath.Join(work, "submission"), Source: "https://github.com/acme/sync-client", Ref: "v1", Commit: f.v1}, *sub)
	got, err := os.ReadFile(filepath.Join(sub.Dir, "src", "index.ts"))
	require.NoError(t, err)
	require.Equal(t, "// v1\n", string(got))

	work = t.TempDir()
	_, err = intake.Fetch(context.Background(), "github.com/acme/linked", "", intake.Options{Workdir: work, Remote: remote})
	require.ErrorIs(t, err, intake.ErrRefused, "a link in the repository is the candidate's doing: a finding")
	require.ErrorContains(t, err, "index.ts is a symbolic link")

	folder := t.TempDir()
	t.Chdir(folder)
	require.NoError(t, os.MkdirAll(filepath.Join("github.com", "acme", "sync-client"), 0o755))
	require.False(t, intake.IsGit("github.com/acme/sync-client", remote), "an existing folder of that name is still a folder")
}
