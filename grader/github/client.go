package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/itsm-grader/grader/grader/version"
)

// Config says how to reach GitHub and as whom.
type Config struct {
	// APIURL is the REST API root of a GitHub Enterprise Server (--github-api), for example
	// https://ghe.example.com/api/v3/ ("api/v3/" is added when missing, as go-github does).
	// Empty: https://api.github.com/.
	APIURL string
	// WebHost is the host repositories are named on (WebHost/OWNER/REPO). Empty: github.com
	// for the public API, else APIURL's host without a leading "api.".
	WebHost string
	// Token authenticates as its owner (GITHUB_TOKEN: a personal or fine-grained token).
	Token string
	// AppID with PrivateKey (PEM) or PrivateKeyFile authenticates as a GitHub App; the
	// installation is found per repository. A token and an App together are refused.
	AppID          int64
	PrivateKey     []byte
	PrivateKeyFile string
	// Transport carries every request, the App's token requests included (tests give a
	// loopback-only one). Default: a clone of http.DefaultTransport.
	Transport http.RoundTripper
	// MaxRateLimitWait bounds the time one operation spends waiting out rate limits before it
	// gives up with the limit's error. Default 3 minutes.
	MaxRateLimitWait time.Duration
	// Log gets a line for every rate-limit wait. Default: discarded.
	Log *slog.Logger
}

// ConfigFromEnv reads the credentials from the environment: GITHUB_TOKEN, or GITHUB_APP_ID
// with GITHUB_APP_PRIVATE_KEY_FILE. Neither: anonymous.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{Token: getenv("GITHUB_TOKEN"), PrivateKeyFile: getenv("GITHUB_APP_PRIVATE_KEY_FILE")}
	if id := getenv("GITHUB_APP_ID"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return Config{}, fmt.Errorf("GITHUB_APP_ID %q: give the App's numeric id", id)
		}
		cfg.AppID = n
	}
	return cfg, nil
}

// Client reads repositories through GitHub's REST API (go-github v60) as one identity: a
// token, a GitHub App (an installation client per repository), or nobody.
type Client struct {
	cfg     Config
	base    http.RoundTripper
	apiRoot *url.URL // the REST root, with its trailing slash
	webHost string
	rest    *gh.Client // anonymous or token: the client for every repository
	app     *appAuth   // nil unless authenticating as an App
	log     *slog.Logger
}

// NewClient makes a client from cfg. It sends nothing: credentials are first used, and so
// checked, by the first request.
func NewClient(cfg Config) (*Client, error) {
	if cfg.MaxRateLimitWait <= 0 {
		cfg.MaxRateLimitWait = 3 * time.Minute
	}
	c := &Client{cfg: cfg, base: cfg.Transport, log: cfg.Log}
	if c.base == nil {
		c.base = http.DefaultTransport.(*http.Transport).Clone()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	probe, err := c.newREST(nil)
	if err != nil {
		return nil, err
	}
	c.apiRoot = probe.BaseURL
	c.webHost = webHostOf(cfg.WebHost, cfg.APIURL, c.apiRoot)
	switch {
	case cfg.AppID != 0 || cfg.PrivateKeyFile != "" || len(cfg.PrivateKey) > 0:
		if cfg.Token != "" {
			return nil, errors.New("github: both a token (GITHUB_TOKEN) and a GitHub App are configured: give one")
		}
		c.app, err = newAppAuth(c, cfg)
		return c, err
	case cfg.Token != "":
		c.rest, err = c.newREST(&bearer{token: cfg.Token, next: c.base})
	default:
		c.rest = probe
	}
	return c, err
}

// newREST is a go-github client on the configured API root. Requests to the API host go
// through authed (a transport adding credentials over the base one) when it is not nil; any
// other host gets the base transport, without credentials.
func (c *Client) newREST(authed http.RoundTripper) (*gh.Client, error) {
	transport := c.base
	if authed != nil {
		transport = &apiOnly{scheme: c.apiRoot.Scheme, host: c.apiRoot.Host, authed: authed, plain: c.base}
	}
	client := gh.NewClient(&http.Client{Transport: transport, CheckRedirect: checkRedirect})
	client.UserAgent = "itsm-grader/" + version.Grader()
	if c.cfg.APIURL == "" {
		return client, nil
	}
	client, err := client.WithEnterpriseURLs(c.cfg.APIURL, c.cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("github: --github-api %q: %w", c.cfg.APIURL, err)
	}
	if !secureOrLoopback(client.BaseURL) {
		return nil, fmt.Errorf("github: --github-api %q: give an https:// URL (http only to a loopback address)", c.cfg.APIURL)
	}
	return client, nil
}

// secureOrLoopback admits https, and http to a loopback address only (credentials cross it).
func secureOrLoopback(u *url.URL) bool {
	if u.Host == "" {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	ip, err := netip.ParseAddr(u.Hostname())
	return u.Scheme == "http" && err == nil && ip.IsLoopback()
}

// checkRedirect follows at most 5 redirects and never from https to http (the archive's
// redirect carries a token for a private repository).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("more than 5 redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect from https to %s refused", req.URL.Scheme)
	}
	return nil
}

// webHostOf is the host repositories are named on: given, or github.com for the public API,
// or the Enterprise API's host without a leading "api.".
func webHostOf(given, apiURL string, root *url.URL) string {
	switch {
	case given != "":
		return strings.ToLower(given)
	case apiURL == "":
		return PublicHost
	default:
		return strings.TrimPrefix(strings.ToLower(root.Host), "api.")
	}
}

// WebHost is the host repositories are named on (github.com, or the Enterprise host).
func (c *Client) WebHost() string { return c.webHost }

// Identity says whom the client acts as, for the operator to read.
func (c *Client) Identity() string {
	switch {
	case c.app != nil:
		return fmt.Sprintf("GitHub App %d (the installation is found per repository)", c.cfg.AppID)
	case c.cfg.Token != "":
		return "the token in GITHUB_TOKEN"
	default:
		return "anonymous: public repositories only, 60 API requests an hour " +
			"(set GITHUB_TOKEN, or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY_FILE, for private repositories)"
	}
}

// REST is the go-github client authenticated for src's repository: the token's or the
// anonymous client, or the App's installation on that repository. Callers that write (check
// runs, statuses) wrap each call in WaitOut.
func (c *Client) REST(ctx context.Context, src Source) (*gh.Client, error) {
	if c.app == nil {
		return c.rest, nil
	}
	return c.app.client(ctx, src)
}

// DefaultBranch is the repository's default branch.
func (c *Client) DefaultBranch(ctx context.Context, src Source) (string, error) {
	client, err := c.REST(ctx, src)
	if err != nil {
		return "", err
	}
	var repo *gh.Repository
	err = c.WaitOut(ctx, "read "+src.FullName(), func(ctx context.Context) (resp *gh.Response, err error) {
		repo, resp, err = client.Repositories.Get(ctx, src.Owner, src.Repo)
		return resp, err
	})
	if err != nil {
		return "", c.explain(src, "read the repository", err)
	}
	if repo.GetDefaultBranch() == "" {
		return "", fmt.Errorf("github: %s has no default branch (an empty repository?)", src)
	}
	return repo.GetDefaultBranch(), nil
}

// commitID is a full commit SHA as GitHub writes it.
var commitID = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Resolve is the commit SHA src's ref names now (the default branch's head when src has no
// ref).
func (c *Client) Resolve(ctx context.Context, src Source) (string, error) {
	sha, _, err := c.resolve(ctx, src)
	return sha, err
}

// resolve returns the commit SHA and the ref it was resolved from (the default branch's name
// when src names none).
func (c *Client) resolve(ctx context.Context, src Source) (sha, ref string, err error) {
	ref = src.Ref
	if ref == "" {
		if ref, err = c.DefaultBranch(ctx, src); err != nil {
			return "", "", err
		}
	}
	if err := CheckRef(ref); err != nil {
		return "", "", fmt.Errorf("github: %s: default branch: %w", src, err)
	}
	client, err := c.REST(ctx, src)
	if err != nil {
		return "", "", err
	}
	err = c.WaitOut(ctx, "resolve "+src.String(), func(ctx context.Context) (resp *gh.Response, err error) {
		sha, resp, err = client.Repositories.GetCommitSHA1(ctx, src.Owner, src.Repo, ref, "")
		return resp, err
	})
	if err != nil {
		return "", "", c.explain(src, fmt.Sprintf("resolve ref %q", ref), err)
	}
	if sha = strings.TrimSpace(sha); !commitID.MatchString(sha) {
		return "", "", fmt.Errorf("github: resolve %s at %q: GitHub answered %.80q, not a commit SHA", src.FullName(), ref, sha)
	}
	return sha, ref, nil
}

// explain words an API error for the operator: what was not found, and why it may be.
func (c *Client) explain(src Source, op string, err error) error {
	var resp *gh.ErrorResponse
	if !errors.As(err, &resp) || resp.Response == nil {
		return fmt.Errorf("github: %s: %s: %w", src, op, err)
	}
	switch resp.Response.StatusCode {
	case http.StatusNotFound:
		hint := "check the owner and name"
		if c.app == nil && c.cfg.Token == "" {
			hint += "; a private repository needs GITHUB_TOKEN or a GitHub App (this client is anonymous)"
		}
		return fmt.Errorf("github: %s: %s: not found (%s): %w", src, op, hint, err)
	case http.StatusUnprocessableEntity:
		return fmt.Errorf("github: %s: %s: no such branch, tag or commit: %w", src, op, err)
	case http.StatusUnauthorized:
		return fmt.Errorf("github: %s: %s: the credentials were refused (%s): %w", src, op, c.Identity(), err)
	}
	return fmt.Errorf("github: %s: %s: %w", src, op, err)
}

// readKey is the App's private key, from the config or its file.
func readKey(cfg Config) ([]byte, error) {
	if len(cfg.PrivateKey) > 0 {
		return cfg.PrivateKey, nil
	}
	if cfg.PrivateKeyFile == "" {
		return nil, errors.New("github: a GitHub App needs its private key (GITHUB_APP_PRIVATE_KEY_FILE)")
	}
	key, err := os.ReadFile(cfg.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("github: read the App's private key: %w", err)
	}
	return key, nil
}
