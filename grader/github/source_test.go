package github

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSourceReadsTheWaysARepositoryIsNamed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, source, host string
		want               Source
	}{
		{name: "owner and repository", source: "github.com/acme/sync-client", want: Source{Host: "github.com", Owner: "acme", Repo: "sync-client"}},
		{name: "with a branch", source: "github.com/acme/sync-client@main", want: Source{Host: "github.com", Owner: "acme", Repo: "sync-client", Ref: "main"}},
		{name: "with a branch holding slashes", source: "github.com/acme/sync-client@feature/retry-v2", want: Source{Host: "github.com", Owner: "acme", Repo: "sync-client", Ref: "feature/retry-v2"}},
		{name: "with a commit", source: "github.com/a-b/c.d_e@0123456789abcdef0123456789abcdef01234567", want: Source{Host: "github.com", Owner: "a-b", Repo: "c.d_e", Ref: "0123456789abcdef0123456789abcdef01234567"}},
		{name: "with .git", source: "github.com/acme/sync-client.git", want: Source{Host: "github.com", Owner: "acme", Repo: "sync-client"}},
		{name: "the https URL", source: "https://github.com/acme/sync-client", want: Source{Host: "github.com", Owner: "acme", Repo: "sync-client"}},
		{name: "the clone URL", source: "https://github.com/acme/sync-client.git", want: Source{Host: "github.com", Owner: "acme", Repo: "sync-client"}},
		{name: "the URL with a trailing slash", source: "https://github.com/acme/sync-client/", want: Source{Host: "github.com", Owner: "acme", Repo: "sync-client"}},
		{name: "the host in capitals", source: "HTTPS://GitHub.com/Acme/Sync", want: Source{Host: "github.com", Owner: "Acme", Repo: "Sync"}},
		{name: "an Enterprise host", source: "ghe.example.com/team/repo@v1", host: "ghe.example.com", want: Source{Host: "ghe.example.com", Owner: "team", Repo: "repo", Ref: "v1"}},
		{name: "an Enterprise URL", source: "https://ghe.example.com/team/repo", host: "ghe.example.com", want: Source{Host: "ghe.example.com", Owner: "team", Repo: "repo"}},
		{name: "a managed user's handle", source: "github.com/jdoe_acme/repo", want: Source{Host: "github.com", Owner: "jdoe_acme", Repo: "repo"}},
		{name: "a dot repository", source: "github.com/acme/.github", want: Source{Host: "github.com", Owner: "acme", Repo: ".github"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSource(tc.source, tc.host)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			again, err := ParseSource(got.String(), tc.host)
			require.NoError(t, err, "String reads back")
			require.Equal(t, got, again)
		})
	}
}

func TestParseSourceRefusesWhatIsNotStrictlyARepository(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, source, host, want string }{
		{name: "another host", source: "gitlab.com/acme/repo", want: "not a GitHub repository"},
		{name: "an Enterprise source without its host configured", source: "ghe.example.com/acme/repo", want: "not a GitHub repository"},
		{name: "no repository", source: "github.com/acme", want: "is not OWNER/REPO"},
		{name: "a deeper path", source: "github.com/acme/repo/extra", want: "is not OWNER/REPO"},
		{name: "a tree URL", source: "https://github.com/acme/repo/tree/main", want: "is not OWNER/REPO"},
		{name: "an owner starting with a hyphen", source: "github.com/-acme/repo", want: "owner"},
		{name: "an owner of 40 characters", source: "github.com/" + strings.Repeat("a", 40) + "/repo", want: "owner"},
		{name: "an owner with a dot", source: "github.com/ac.me/repo", want: "owner"},
		{name: "a repository of dots", source: "github.com/acme/..", want: "repository"},
		{name: "a repository with a space", source: "github.com/acme/re po", want: "repository"},
		{name: "a repository with a percent", source: "github.com/acme/re%2fpo", want: "repository"},
		{name: "an empty ref", source: "github.com/acme/repo@", want: "nothing after '@'"},
		{name: "a ref climbing", source: "github.com/acme/repo@../../x", want: "\"..\""},
		{name: "a ref like an option", source: "github.com/acme/repo@-x", want: "may not start with '-'"},
		{name: "a ref with a colon", source: "github.com/acme/repo@a:b", want: "control characters"},
		{name: "a ref with a query", source: "github.com/acme/repo@main?x=1", want: "control characters"},
		{name: "a ref part starting with a dot", source: "github.com/acme/repo@a/.b", want: "starts with '.'"},
		{name: "credentials in the URL", source: "https://user:secret@github.com/acme/repo", want: "not a GitHub repository"},
		{name: "a query", source: "https://github.com/acme/repo?ref=main", want: "no query or fragment"},
		{name: "a fragment", source: "https://github.com/acme/repo#main", want: "no query or fragment"},
		{name: "plain http", source: "http://github.com/acme/repo", want: "not a GitHub repository"},
		{name: "ssh", source: "git@github.com:acme/repo.git", want: "not a GitHub repository"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSource(tc.source, tc.host)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "secret", "credentials are never echoed")
		})
	}
}

func TestWithRefJoinsTheFlagToTheSource(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, source, flag, want, err string
	}{
		{name: "the flag alone", source: "github.com/a/b", flag: "v1", want: "v1"},
		{name: "the source alone", source: "github.com/a/b@v1", want: "v1"},
		{name: "both the same", source: "github.com/a/b@v1", flag: "v1", want: "v1"},
		{name: "neither: the default branch", source: "github.com/a/b"},
		{name: "two different refs", source: "github.com/a/b@v1", flag: "v2", err: "give one"},
		{name: "a malformed flag", source: "github.com/a/b", flag: "a..b", err: "\"..\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src, err := ParseSource(tc.source, "")
			require.NoError(t, err)
			got, err := withRef(src, tc.flag)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got.Ref)
		})
	}
}

func TestWebHostFollowsTheAPI(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, given, api, want string }{
		{name: "the public API", want: "github.com"},
		{name: "an Enterprise Server", api: "https://ghe.example.com/api/v3/", want: "ghe.example.com"},
		{name: "an api. host", api: "https://api.acme.ghe.com/", want: "acme.ghe.com"},
		{name: "given", given: "GitHub.Example", api: "https://ghe.example.com/api/v3/", want: "github.example"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, err := url.Parse(tc.api)
			require.NoError(t, err)
			require.Equal(t, tc.want, webHostOf(tc.given, tc.api, root))
		})
	}
}
