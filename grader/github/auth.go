package github

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v60/github"
)

// apiOnly sends credentials to the API host only. Anything else, above all the archive's
// redirect to codeload (whose URL carries its own short-lived token), goes without them:
// go-github's WithAuthToken and ghinstallation add theirs to every request, redirects included.
type apiOnly struct {
	scheme, host string
	authed       http.RoundTripper // adds the credentials
	plain        http.RoundTripper
}

func (t *apiOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == t.scheme && strings.EqualFold(req.URL.Host, t.host) {
		// A clone: ghinstallation's App transport sets headers on the request it is given.
		return t.authed.RoundTrip(req.Clone(req.Context()))
	}
	return t.plain.RoundTrip(req)
}

// bearer adds a token as GitHub documents it (apiOnly hands it a clone of the request).
type bearer struct {
	token string
	next  http.RoundTripper
}

func (t *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+t.token)
	return t.next.RoundTrip(req)
}

// appAuth authenticates as a GitHub App: a JWT client finds each repository's installation,
// and each installation gets its own client whose token ghinstallation mints and renews.
type appAuth struct {
	c   *Client
	id  int64
	key *rsa.PrivateKey
	jwt *gh.Client // the App itself, for Apps.FindRepositoryInstallation

	mu             sync.Mutex
	installationOf map[string]int64 // lowercased owner/repo → installation id
	clients        map[int64]*gh.Client
}

func newAppAuth(c *Client, cfg Config) (*appAuth, error) {
	if cfg.AppID <= 0 {
		return nil, errors.New("github: a GitHub App private key was given without its id (GITHUB_APP_ID)")
	}
	pemKey, err := readKey(cfg)
	if err != nil {
		return nil, err
	}
	key, err := parseKey(pemKey)
	if err != nil {
		return nil, err
	}
	a := &appAuth{c: c, id: cfg.AppID, key: key, installationOf: map[string]int64{}, clients: map[int64]*gh.Client{}}
	if a.jwt, err = c.newREST(a.appsTransport(c.base)); err != nil {
		return nil, err
	}
	return a, nil
}

// parseKey reads the App's PEM private key (PKCS #1, as GitHub issues it, or PKCS #8).
func parseKey(pemKey []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return nil, errors.New("github: the App's private key is not PEM")
	}
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("github: the App's private key: %w", err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("github: the App's private key is not an RSA key")
	}
	return key, nil
}

// appsTransport is a fresh JWT transport for the API root. Each installation gets its own:
// ghinstallation writes the BaseURL and Client of the App transport it refreshes through.
func (a *appAuth) appsTransport(base http.RoundTripper) *ghinstallation.AppsTransport {
	atr := ghinstallation.NewAppsTransportFromPrivateKey(base, a.id, a.key)
	atr.BaseURL = strings.TrimSuffix(a.c.apiRoot.String(), "/")
	return atr
}

// client is the installation client for src's repository, made once per installation.
func (a *appAuth) client(ctx context.Context, src Source) (*gh.Client, error) {
	id, err := a.installation(ctx, src)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if client, ok := a.clients[id]; ok {
		return client, nil
	}
	itr := ghinstallation.NewFromAppsTransport(a.appsTransport(a.c.base), id)
	client, err := a.c.newREST(itr)
	if err != nil {
		return nil, err
	}
	a.clients[id] = client
	return client, nil
}

// installation is the id of the App's installation on src's repository, asked once.
func (a *appAuth) installation(ctx context.Context, src Source) (int64, error) {
	name := strings.ToLower(src.FullName())
	a.mu.Lock()
	id, ok := a.installationOf[name]
	a.mu.Unlock()
	if ok {
		return id, nil
	}
	var inst *gh.Installation
	err := a.c.WaitOut(ctx, "find the App's installation on "+src.FullName(), func(ctx context.Context) (resp *gh.Response, err error) {
		inst, resp, err = a.jwt.Apps.FindRepositoryInstallation(ctx, src.Owner, src.Repo)
		return resp, err
	})
	var resp *gh.ErrorResponse
	if errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == http.StatusNotFound {
		return 0, fmt.Errorf("github: GitHub App %d is not installed on %s (install it on the repository or its owner): %w", a.id, src.FullName(), err)
	}
	if err != nil {
		return 0, fmt.Errorf("github: find GitHub App %d's installation on %s: %w", a.id, src.FullName(), err)
	}
	if inst.GetID() <= 0 {
		return 0, fmt.Errorf("github: find GitHub App %d's installation on %s: GitHub answered no installation id", a.id, src.FullName())
	}
	a.mu.Lock()
	a.installationOf[name] = inst.GetID()
	a.mu.Unlock()
	return inst.GetID(), nil
}

// Installation is the id of the App's installation on src's repository (0 when the client is
// not an App): feedback serializes its writes per installation.
func (c *Client) Installation(ctx context.Context, src Source) (int64, error) {
	if c.app == nil {
		return 0, nil
	}
	return c.app.installation(ctx, src)
}
