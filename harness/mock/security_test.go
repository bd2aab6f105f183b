package mock

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/harness/journal"
)

// TestTokensOutOfPlaceAreJournaledButNeverStored sends the run's tokens where they do not
// belong; the journal must name each leak and must not contain either secret in any form.
func TestTokensOutOfPlaceAreJournaledButNeverStored(t *testing.T) {
	t.Parallel()
	srv := startMock(t, noFaults)
	source, target := srv.Tokens()
	c := client(5 * time.Second)
	send := func(method, path string, hdr map[string]string, body string) {
		req, err := http.NewRequest(method, srv.URL(HTTP)+path, strings.NewReader(body))
		require.NoError(t, err)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	cases := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		body   string
		want   journal.Leak
		auth   string
	}{
		{"token in the query", "GET", "/api/now/table/incident?token=" + source, map[string]string{"Authorization": "Bearer " + source}, "", journal.Leak{Token: "source", Where: "query", Form: "plain"}, "source"},
		{"token inside a URL-encoded query value", "GET", "/api/now/table/incident?t=" + url.QueryEscape(source+"/"), nil, "", journal.Leak{Token: "source", Where: "query", Form: "plain"}, "none"},
		{"token in the path", "GET", "/api/now/table/incident/" + target, nil, "", journal.Leak{Token: "target", Where: "path", Form: "plain"}, "none"},
		{"token in another header", "POST", "/v1/tickets", map[string]string{"X-Api-Key": target}, "{}", journal.Leak{Token: "target", Where: "header:X-Api-Key", Form: "plain"}, "none"},
		{"base64 token in a Basic header", "GET", "/api/now/table/incident", map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(target))}, "", journal.Leak{Token: "target", Where: "authorization", Form: "base64"}, "unknown"},
		{"source token sent to the target", "POST", "/v1/tickets", map[string]string{"Authorization": "Bearer " + source}, "{}", journal.Leak{Token: "source", Where: "authorization", Form: "plain"}, "source"},
		{"part of the token in the body", "POST", "/v1/tickets", map[string]string{"Authorization": "Bearer " + target}, `{"note":"` + target[4:20] + `"}`, journal.Leak{Token: "target", Where: "body", Form: "partial"}, "target"},
	}
	for _, tc := range cases {
		send(tc.method, tc.path, tc.hdr, tc.body)
	}
	clean := []struct{ method, path, auth string }{
		{"GET", "/api/now/table/incident", source},
		{"POST", "/v1/tickets", target},
	}
	for _, cl := range clean {
		send(cl.method, cl.path, map[string]string{"Authorization": "Bearer " + cl.auth, "Content-Type": "application/json"}, "{}")
	}
	l := journaled(t, srv, len(cases)+len(clean))
	for i, tc := range cases {
		r := l.Requests[i]
		require.Contains(t, r.Leaks, tc.want, tc.name)
		require.Equal(t, tc.auth, r.Auth.Token, tc.name)
	}
	for i := range clean {
		require.Empty(t, l.Requests[len(cases)+i].Leaks, "a token in its own Authorization header is no leak")
	}
	var all bytes.Buffer
	_, err := l.WriteTo(&all)
	require.NoError(t, err)
	for _, tok := range []string{source, target} {
		for _, form := range []string{tok, url.QueryEscape(tok), base64.StdEncoding.EncodeToString([]byte(tok)), tok[4:16]} {
			require.NotContains(t, all.String(), form, "the journal stores no secret")
		}
	}
	require.Contains(t, all.String(), "[REDACTED-source-token]")
}

// TestTLSListeners: the trusted listener works for a client given the CA; the untrusted one is
// refused by a verifying client (journaled as a handshake failure) and reached only by a client
// that switched verification off (journaled with its listener and token).
func TestTLSListeners(t *testing.T) {
	t.Parallel()
	srv := startMock(t, noFaults)
	source, _ := srv.Tokens()
	ca := srv.trusted.Pool
	verifying := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca}, DisableKeepAlives: true}}
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}}

	resp, _, err := getPage(t, verifying, srv.URL(HTTPS), source, "")
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, 1, resp.ProtoMajor, "HTTP/1.1 only")
	require.Contains(t, resp.Header.Get("Link"), "<https://", "links keep the scheme")

	_, _, err = getPage(t, verifying, srv.URL(Untrusted), source, "")
	require.ErrorContains(t, err, "certificate")

	resp, _, err = getPage(t, insecure, srv.URL(Untrusted), source, "")
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)

	l := journaled(t, srv, 2)
	require.Equal(t, "https", l.Requests[0].Listener)
	require.Equal(t, "untrusted", l.Requests[1].Listener)
	require.Equal(t, "source", l.Requests[1].Auth.Token)
	require.Eventually(t, func() bool { return len(srv.Journal().TLSErrors) == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, "untrusted", srv.Journal().TLSErrors[0].Listener)
}

func TestClientEnvFollowsThePlan(t *testing.T) {
	t.Parallel()
	plain := startMock(t, noFaults).ClientEnv(HTTP)
	require.True(t, strings.HasPrefix(plain.SourceURL, "http://127.0.0.1:"))
	require.Equal(t, plain.SourceURL, plain.TargetURL)
	require.False(t, plain.NeedsCA)

	srv := startMock(t, "name: untrusted\ntarget_listener: untrusted\n")
	e := srv.ClientEnv(HTTP)
	require.Equal(t, srv.URL(Untrusted), e.TargetURL)
	require.True(t, e.NeedsCA)
}

func TestMetricsCountRequestsByEndpointStatusAndFault(t *testing.T) {
	t.Parallel()
	srv := startMock(t, `
name: metrics
rules:
  - endpoint: target.create
    attempts: [1]
    fault: {kind: status, status: 503}
`)
	c := client(5 * time.Second)
	for range 2 {
		_, _, err := postTicket(t, c, srv, golden(t, "INC0010001"), "")
		require.NoError(t, err)
	}
	journaled(t, srv, 2)
	rec := httpGet(t, srv.Metrics())
	require.Contains(t, rec, `itsm_mock_requests_total{endpoint="target.create",fault="status_503",status="503"} 1`)
	require.Contains(t, rec, `itsm_mock_requests_total{endpoint="target.create",fault="none",status="201"} 1`)
	require.Contains(t, rec, "itsm_mock_tickets_created_total 1")
}

func httpGet(t *testing.T, h http.Handler) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, w.Code)
	return w.Body.String()
}
