package github

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itsm-grader/grader/grader/github/githubtest"
	"github.com/stretchr/testify/require"
)

// TestFetchTakesTheArchiveAtTheResolvedSHA fetches from the fake GitHub, the archive served
// as a 302 to the codeload host and as a 200, at the default branch, a branch, a tag and
// commits, and checks what was asked for, what was sent and what was laid out.
func TestFetchTakesTheArchiveAtTheResolvedSHA(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		mode      githubtest.ArchiveMode
		anonymous bool
		source    string
		ref       string // the --ref flag
		want      func(f *fixture) (commit, ref string)
		file      string // src/index.ts
	}{
		{name: "the default branch, redirected to codeload", mode: githubtest.ArchiveRedirect, source: "github.com/acme/sync-client",
			want: func(f *fixture) (string, string) { return f.main, "main" }, file: submissionFiles["src/index.ts"]},
		{name: "the default branch, answered with 200", mode: githubtest.ArchiveDirect, source: "github.com/acme/sync-client",
			want: func(f *fixture) (string, string) { return f.main, "main" }, file: submissionFiles["src/index.ts"]},
		{name: "a branch with a slash", mode: githubtest.ArchiveRedirect, source: "github.com/acme/sync-client@feature/retry",
			want: func(f *fixture) (string, string) { return f.feature, "feature/retry" }, file: "// feature\n"},
		{name: "a tag, anonymously", mode: githubtest.ArchiveRedirect, anonymous: true, source: "https://github.com/acme/sync-client.git", ref: "v1",
			want: func(f *fixture) (string, string) { return f.v1, "v1" }, file: "// v1\n"},
		{name: "a full commit SHA, answered with 200", mode: githubtest.ArchiveDirect, source: "github.com/acme/sync-client@" + sha("v1"),
			want: func(f *fixture) (string, string) { return f.v1, f.v1 }, file: "// v1\n"},
		{name: "an abbreviated commit SHA", mode: githubtest.ArchiveRedirect, source: "github.com/acme/sync-client@" + sha("feature")[:10],
			want: func(f *fixture) (string, string) { return f.feature, sha("feature")[:10] }, file: "// feature\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.srv.SetArchiveMode(tc.mode)
			cfg := f.config(t)
			if !tc.anonymous {
				cfg.Token = testToken
			}
			c := f.client(t, cfg)
			src, err := ParseSource(tc.source, "")
			require.NoError(t, err)
			src, err = withRef(src, tc.ref)
			require.NoError(t, err)
			dir := filepath.Join(t.TempDir(), "submission")
			sub, err := c.Fetch(context.Background(), src, dir, Limits{})
			require.NoError(t, err)
			commit, ref := tc.want(f)
			require.Equal(t, commit, sub.Commit, "the SHA is recorded")
			require.Equal(t, ref, sub.Ref)
			require.Equal(t, dir, sub.Dir)
			got, err := os.ReadFile(filepath.Join(dir, "src", "index.ts"))
			require.NoError(t, err)
			require.Equal(t, tc.file, string(got))

			archive := apiRequests(f.srv, "api", "/tarball/")
			require.Len(t, archive, 1)
			require.Equal(t, "/api/v3/repos/acme/sync-client/tarball/"+commit, archive[0].Path, "the archive is asked for at the SHA, not the ref")
			wantAuth := "Bearer " + testToken
			if tc.anonymous {
				wantAuth = ""
			}
			for _, r := range apiRequests(f.srv, "api", "/") {
				require.Equal(t, wantAuth, r.Authorization, "%s %s", r.Method, r.Path)
			}
			codeload := apiRequests(f.srv, "codeload", "/")
			if tc.mode == githubtest.ArchiveDirect {
				require.Empty(t, codeload)
				return
			}
			require.Len(t, codeload, 1)
			require.Equal(t, "/acme/sync-client/legacy.tar.gz/"+commit, codeload[0].Path)
			require.Empty(t, codeload[0].Authorization, "credentials never go to the redirect's host")
		})
	}
}

// TestFetchLaysOutTheTreeSafely checks the tree: the top folder stripped, node_modules left
// out, fixed modes, nothing else.
func TestFetchLaysOutTheTreeSafely(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.client(t, f.config(t))
	dir := filepath.Join(t.TempDir(), "submission")
	_, err := c.Fetch(context.Background(), Source{Host: "github.com", Owner: "acme", Repo: "sync-client"}, dir, Limits{})
	require.NoError(t, err)
	got := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		info, err := d.Info()
		require.NoError(t, err)
		rel, _ := filepath.Rel(dir, path)
		got[filepath.ToSlash(rel)] = info.Mode().String()
		return nil
	}))
	require.Equal(t, map[string]string{
		".": "drwxr-xr-x", "package.json": "-rw-r--r--", "SUBMISSION.md": "-rw-r--r--",
		"src": "drwxr-xr-x", "src/index.ts": "-rw-r--r--", "src/lib": "drwxr-xr-x", "src/lib/retry.ts": "-rw-r--r--",
		"docs": "drwxr-xr-x", "docs/deep": "drwxr-xr-x", "docs/deep/er": "drwxr-xr-x", "docs/deep/er/notes": "drwxr-xr-x",
		"docs/deep/er/notes/a.txt": "-rw-r--r--",
	}, got, "the top folder is stripped and node_modules left out")
}

// TestFetchAsAGitHubApp finds the installation with the App's JWT, mints an installation
// token, and reads a private repository with it; GitHub answers the archive with 200.
func TestFetchAsAGitHubApp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := githubtest.NewApp(t, 4242)
	f.srv.SetApp(app)
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	require.NoError(t, os.WriteFile(keyFile, app.PEM, 0o600))
	cfg := f.config(t)
	cfg.AppID, cfg.PrivateKeyFile = app.ID, keyFile
	c := f.client(t, cfg)
	src := Source{Host: "github.com", Owner: "acme", Repo: "private-client"}
	for i := range 2 {
		dir := filepath.Join(t.TempDir(), "submission")
		sub, err := c.Fetch(context.Background(), src, dir, Limits{})
		require.NoError(t, err, "fetch %d", i)
		require.Equal(t, f.privateMain, sub.Commit)
		require.Equal(t, "trunk", sub.Ref)
		got, err := os.ReadFile(filepath.Join(dir, "src", "index.ts"))
		require.NoError(t, err)
		require.Equal(t, "// private\n", string(got))
	}
	lookups := apiRequests(f.srv, "api", "/repos/acme/private-client/installation")
	require.Len(t, lookups, 1, "the installation is looked up once")
	require.True(t, strings.HasPrefix(lookups[0].Authorization, "Bearer ey"), "the lookup is signed as the App: %q", lookups[0].Authorization)
	minted := apiRequests(f.srv, "api", "/app/installations/77/access_tokens")
	require.Len(t, minted, 1, "the installation token is minted once and reused")
	require.True(t, strings.HasPrefix(minted[0].Authorization, "Bearer ey"))
	var tokens []string
	for _, r := range apiRequests(f.srv, "api", "/repos/acme/private-client") {
		if !strings.HasSuffix(r.Path, "/installation") {
			tokens = append(tokens, r.Authorization)
		}
	}
	require.Len(t, tokens, 6, "two fetches of three requests: repository, commit, tarball")
	for _, auth := range tokens {
		require.Regexp(t, `^token ghs_[0-9a-f]{36}$`, auth, "the installation token is sent")
		require.Equal(t, tokens[0], auth)
	}
	require.Empty(t, apiRequests(f.srv, "codeload", "/"), "an installation token gets the archive with 200")
	require.Equal(t, 1, f.srv.InstallationTokens())
	id, err := c.Installation(context.Background(), src)
	require.NoError(t, err)
	require.EqualValues(t, 77, id)
}

// TestFetchSaysWhyItCannotReadARepository covers the errors an operator meets first.
func TestFetchSaysWhyItCannotReadARepository(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		config func(f *fixture, cfg *Config)
		source Source
		want   []string
	}{
		{name: "a private repository, anonymously", source: Source{Host: "github.com", Owner: "acme", Repo: "private-client"},
			want: []string{"not found", "this client is anonymous", "GITHUB_TOKEN"}},
		{name: "a repository that does not exist", config: func(_ *fixture, cfg *Config) { cfg.Token = testToken },
			source: Source{Host: "github.com", Owner: "acme", Repo: "nope"}, want: []string{"not found", "check the owner and name"}},
		{name: "a ref that does not exist", config: func(_ *fixture, cfg *Config) { cfg.Token = testToken },
			source: Source{Host: "github.com", Owner: "acme", Repo: "sync-client", Ref: "no-such-branch"}, want: []string{`resolve ref "no-such-branch"`, "no such branch, tag or commit"}},
		{name: "a token GitHub refuses", config: func(_ *fixture, cfg *Config) { cfg.Token = "ghp_revoked" },
			source: Source{Host: "github.com", Owner: "acme", Repo: "sync-client"}, want: []string{"the credentials were refused", "GITHUB_TOKEN", "401"}},
		{name: "an App not installed on the repository", config: func(f *fixture, cfg *Config) {
			app := githubtest.NewApp(t, 9)
			f.srv.SetApp(app)
			cfg.AppID, cfg.PrivateKey = app.ID, app.PEM
		}, source: Source{Host: "github.com", Owner: "acme", Repo: "sync-client"}, want: []string{"GitHub App 9 is not installed on acme/sync-client"}},
		{name: "an App whose key GitHub does not know", config: func(f *fixture, cfg *Config) {
			f.srv.SetApp(githubtest.NewApp(t, 9))
			cfg.AppID, cfg.PrivateKey = 9, githubtest.NewApp(t, 9).PEM
		}, source: Source{Host: "github.com", Owner: "acme", Repo: "private-client"}, want: []string{"find GitHub App 9's installation", "401", "could not be decoded"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			cfg := f.config(t)
			if tc.config != nil {
				tc.config(f, &cfg)
			}
			dir := filepath.Join(t.TempDir(), "submission")
			_, err := f.client(t, cfg).Fetch(context.Background(), tc.source, dir, Limits{})
			require.Error(t, err)
			for _, want := range tc.want {
				require.Contains(t, err.Error(), want)
			}
			require.NoDirExists(t, dir)
			require.Empty(t, apiRequests(f.srv, "api", "/tarball/"), "nothing is downloaded")
		})
	}
}

// TestFetchReadsWhatGitArchiveMakes serves archives made by the system's git archive, as
// GitHub makes them: a tree with an executable and a tree with a symbolic link.
func TestFetchReadsWhatGitArchiveMakes(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	f := newFixture(t)
	clean := gitArchive(t, "acme", "clean", func(work string) {
		writeFile(t, work, "src/index.ts", "export {}\n", 0o644)
		writeFile(t, work, "scripts/run.sh", "#!/bin/sh\n", 0o755)
	})
	linked := gitArchive(t, "acme", "linked", func(work string) {
		writeFile(t, work, "src/index.ts", "export {}\n", 0o644)
		require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(work, "src", "passwd.ts")))
	})
	for _, a := range []*githubtest.Repo{clean, linked} {
		f.srv.AddRepo(a)
	}
	c := f.client(t, f.config(t))

	dir := filepath.Join(t.TempDir(), "clean")
	sub, err := c.Fetch(context.Background(), Source{Host: "github.com", Owner: "acme", Repo: "clean"}, dir, Limits{})
	require.NoError(t, err)
	require.Equal(t, clean.Refs["main"], sub.Commit)
	info, err := os.Stat(filepath.Join(dir, "scripts", "run.sh"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o755), info.Mode().Perm(), "an executable stays executable, at a fixed mode")

	dir = filepath.Join(t.TempDir(), "linked")
	_, err = c.Fetch(context.Background(), Source{Host: "github.com", Owner: "acme", Repo: "linked"}, dir, Limits{})
	require.ErrorContains(t, err, "src/passwd.ts is a symbolic link")
	require.NoDirExists(t, dir)
}

// gitArchive commits what fill writes in a new repository and returns it as the fake's
// repository owner/name, its main branch served as `git archive --format=tar.gz` makes it.
func gitArchive(t *testing.T, owner, name string, fill func(work string)) *githubtest.Repo {
	t.Helper()
	work := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_AUTHOR_NAME=c", "GIT_AUTHOR_EMAIL=c@example.com", "GIT_COMMITTER_NAME=c", "GIT_COMMITTER_EMAIL=c@example.com"}
		out, err := cmd.Output()
		require.NoError(t, err, "git %v", args)
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	fill(work)
	git("add", "-A")
	git("commit", "-q", "-m", "submission")
	commit := git("rev-parse", "HEAD")
	archive := filepath.Join(t.TempDir(), "archive.tar.gz")
	git("archive", "--format=tar.gz", "--prefix="+githubtest.TopFolder(owner, name, commit)+"/", "-o", archive, commit)
	body, err := os.ReadFile(archive)
	require.NoError(t, err)
	return &githubtest.Repo{Owner: owner, Name: name, DefaultBranch: "main", Refs: map[string]string{"main": commit},
		Archives: map[string][]byte{commit: body}}
}

func writeFile(t *testing.T, root, rel, content string, mode fs.FileMode) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), mode))
}
