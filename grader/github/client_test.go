package github

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/itsm-grader/grader/grader/github/githubtest"
	"github.com/stretchr/testify/require"
)

// TestNoRequestLeavesLoopback points the client, and a redirect, at hosts off loopback: the
// test transport refuses each before a connection is tried, and says so.
func TestNoRequestLeavesLoopback(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		api      func(f *fixture) string
		redirect string // where the archive request is redirected
	}{
		{name: "an API on a public address", api: func(*fixture) string { return "https://192.0.2.10/api/v3/" }},
		{name: "an API by name (not even looked up)", api: func(*fixture) string { return "https://ghe.example.com/api/v3/" }},
		{name: "an API on a private address", api: func(*fixture) string { return "https://10.1.2.3:8443/" }},
		{name: "the archive redirected off loopback", api: func(f *fixture) string { return f.srv.API.URL }, redirect: "http://198.51.100.7/acme/sync-client/legacy.tar.gz/x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			guard := &githubtest.Guard{}
			cfg := f.config(t)
			cfg.APIURL, cfg.Transport = tc.api(f), githubtest.Transport(guard)
			if tc.redirect != "" {
				f.srv.Queue(http.MethodGet, "/repos/acme/sync-client/tarball/"+f.main,
					githubtest.Response{Status: http.StatusFound, Header: http.Header{"Location": {tc.redirect}}})
			}
			_, err := f.client(t, cfg).Fetch(context.Background(), Source{Host: "github.com", Owner: "acme", Repo: "sync-client"}, filepath.Join(t.TempDir(), "s"), Limits{})
			require.ErrorIs(t, err, githubtest.ErrNotLoopback)
			require.EqualValues(t, 1, guard.Refused(), "exactly one connection was tried, and refused")
		})
	}
}

// TestRedirectsNeverDowngrade refuses a redirect from https to http (the archive's redirect
// carries a token for a private repository) and a sixth redirect.
func TestRedirectsNeverDowngrade(t *testing.T) {
	t.Parallel()
	req := func(raw string) *http.Request {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		return &http.Request{URL: u}
	}
	require.NoError(t, checkRedirect(req("https://codeload.github.com/a"), []*http.Request{req("https://api.github.com/x")}))
	require.NoError(t, checkRedirect(req("http://127.0.0.1:2/a"), []*http.Request{req("http://127.0.0.1:1/x")}))
	require.ErrorContains(t, checkRedirect(req("http://codeload.github.com/a"), []*http.Request{req("https://api.github.com/x")}), "from https to http refused")
	five := []*http.Request{req("https://a/1"), req("https://a/2"), req("https://a/3"), req("https://a/4"), req("https://a/5")}
	require.ErrorContains(t, checkRedirect(req("https://a/6"), five), "more than 5 redirects")
}

// TestConfigSaysWhatIsWrong covers the configurations refused and whom each client acts as.
func TestConfigSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	app := githubtest.NewApp(t, 7)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(app.Key)
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(keyFile, app.PEM, 0o600))
	cases := []struct {
		name     string
		cfg      Config
		err      string
		identity string
	}{
		{name: "nothing: anonymous", identity: "anonymous: public repositories only"},
		{name: "a token", cfg: Config{Token: "t"}, identity: "the token in GITHUB_TOKEN"},
		{name: "an App with its key file", cfg: Config{AppID: 7, PrivateKeyFile: keyFile}, identity: "GitHub App 7"},
		{name: "an App with a PKCS #8 key", cfg: Config{AppID: 7, PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})}, identity: "GitHub App 7"},
		{name: "a token and an App", cfg: Config{Token: "t", AppID: 7, PrivateKey: app.PEM}, err: "give one"},
		{name: "an App without its key", cfg: Config{AppID: 7}, err: "needs its private key"},
		{name: "a key without its App", cfg: Config{PrivateKey: app.PEM}, err: "without its id"},
		{name: "a key that is not PEM", cfg: Config{AppID: 7, PrivateKey: []byte("ssh-rsa AAAA")}, err: "not PEM"},
		{name: "a key file that is missing", cfg: Config{AppID: 7, PrivateKeyFile: filepath.Join(t.TempDir(), "nope.pem")}, err: "read the App's private key"},
		{name: "an API URL that is not a URL", cfg: Config{APIURL: "://x"}, err: "--github-api"},
		{name: "an API URL without a host", cfg: Config{APIURL: "ftp:/x"}, err: "give an https:// URL"},
		{name: "an API in clear off loopback", cfg: Config{APIURL: "http://ghe.example.com/api/v3/"}, err: "http only to a loopback address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tc.cfg)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Contains(t, c.Identity(), tc.identity)
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	cfg, err := ConfigFromEnv(env(map[string]string{"GITHUB_TOKEN": "ghp_x"}))
	require.NoError(t, err)
	require.Equal(t, Config{Token: "ghp_x"}, cfg)
	cfg, err = ConfigFromEnv(env(map[string]string{"GITHUB_APP_ID": "123", "GITHUB_APP_PRIVATE_KEY_FILE": "/k.pem"}))
	require.NoError(t, err)
	require.Equal(t, Config{AppID: 123, PrivateKeyFile: "/k.pem"}, cfg)
	_, err = ConfigFromEnv(env(map[string]string{"GITHUB_APP_ID": "my-app"}))
	require.ErrorContains(t, err, "numeric id")
}
