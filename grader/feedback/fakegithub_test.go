package feedback_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/require"
)

// The fake GitHub API: the three write endpoints feedback uses, answering as GitHub does, with
// faults scripted per request, and a record of every request it received.

const testToken = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"

// seen is one request the fake received.
type seen struct {
	Method, Path, Auth string
	Body               []byte
	At                 time.Time
}

// fault answers one request instead of the fake's normal answer.
type fault func(w http.ResponseWriter)

type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	requests []seen
	faults   []fault // consumed one a request, in order
	nextID   int64
	inFlight int
	peak     int
	// tokenOnly makes the fake answer check runs as GitHub answers a personal token: 403.
	tokenOnly bool
	// hold, when set, is called inside each request (with the lock released) before it is
	// answered.
	hold func(r *http.Request)
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, nextID: 4000}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// client is a go-github client for the fake, authenticated like an App installation, whose
// transport refuses any address that is not loopback.
func (f *fakeGitHub) client(t *testing.T) *github.Client {
	t.Helper()
	c := github.NewClient(&http.Client{Transport: loopbackOnly(), Timeout: 30 * time.Second}).WithAuthToken(testToken)
	base, err := url.Parse(f.srv.URL + "/")
	require.NoError(t, err)
	c.BaseURL = base
	return c
}

func (f *fakeGitHub) script(faults ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

func (f *fakeGitHub) seen() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.requests...)
}

func (f *fakeGitHub) peakInFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peak
}

var (
	createCheckRun = regexp.MustCompile(`^/repos/[^/]+/[^/]+/check-runs$`)
	updateCheckRun = regexp.MustCompile(`^/repos/[^/]+/[^/]+/check-runs/(\d+)$`)
	createStatus   = regexp.MustCompile(`^/repos/[^/]+/[^/]+/statuses/[0-9a-f]{40}$`)
)

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, seen{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body, At: time.Now()})
	f.inFlight++
	f.peak = max(f.peak, f.inFlight)
	var next fault
	if len(f.faults) > 0 {
		next, f.faults = f.faults[0], f.faults[1:]
	}
	hold, tokenOnly := f.hold, f.tokenOnly
	f.nextID++
	id := f.nextID
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if hold != nil {
		hold(r)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4990")
	w.Header().Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(time.Hour).Unix()))
	switch {
	case next != nil:
		next(w)
	case r.Method == http.MethodPost && createCheckRun.MatchString(r.URL.Path) && tokenOnly,
		r.Method == http.MethodPatch && updateCheckRun.MatchString(r.URL.Path) && tokenOnly:
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"You must authenticate via a GitHub App.","documentation_url":"https://docs.github.com/rest/checks/runs#create-a-check-run","status":"403"}`)
	case r.Method == http.MethodPost && createCheckRun.MatchString(r.URL.Path):
		f.answerCheckRun(w, http.StatusCreated, id, body)
	case r.Method == http.MethodPatch && updateCheckRun.MatchString(r.URL.Path):
		var runID int64
		fmt.Sscan(updateCheckRun.FindStringSubmatch(r.URL.Path)[1], &runID)
		f.answerCheckRun(w, http.StatusOK, runID, body)
	case r.Method == http.MethodPost && createStatus.MatchString(r.URL.Path):
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d,"url":"%s","state":"success","context":"itsm-grader"}`, id, r.URL.Path)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
	}
}

// answerCheckRun answers a check run's create or update with the run, as GitHub does (the
// fields feedback reads).
func (f *fakeGitHub) answerCheckRun(w http.ResponseWriter, status int, id int64, body []byte) {
	var in struct {
		Name    string `json:"name"`
		HeadSHA string `json:"head_sha"`
		Status  string `json:"status"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		io.WriteString(w, `{"message":"Problems parsing JSON"}`)
		return
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"id": id, "name": in.Name, "head_sha": in.HeadSHA, "status": in.Status})
}

// secondaryLimit is GitHub's 403 for a secondary rate limit.
func secondaryLimit(retryAfter string) fault {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
	}
}

// plainSecondaryLimit is a 403 with Retry-After whose body lacks the documentation URL go-github
// v60 recognises: v60 reports it as a plain *ErrorResponse.
func plainSecondaryLimit(retryAfter string) fault {
	return func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", retryAfter)
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"You have exceeded a secondary rate limit."}`)
	}
}

// bareSecondaryLimit is a secondary limit's 403 with neither Retry-After nor X-RateLimit-Reset:
// GitHub then asks for a wait of at least a minute.
func bareSecondaryLimit() fault {
	return func(w http.ResponseWriter) {
		w.Header().Del("X-RateLimit-Reset")
		secondaryLimit("")(w)
	}
}

// tooManyRequests is a 429, with Retry-After or X-RateLimit-Reset.
func tooManyRequests(header, value string) fault {
	return func(w http.ResponseWriter) {
		w.Header().Set(header, value)
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"message":"Too Many Requests"}`)
	}
}

// primaryLimit is the 403 of an exhausted hourly budget, resetting at reset.
func primaryLimit(reset time.Time) fault {
	return func(w http.ResponseWriter) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(reset.Unix()))
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"API rate limit exceeded for installation ID 2311213.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`)
	}
}

// loopbackOnly is a transport that refuses any host that is not a loopback address: by the
// URL's host before a request is made, and again at the socket before connecting.
func loopbackOnly() http.RoundTripper {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: loopbackControl}
	tr := &http.Transport{DialContext: dialer.DialContext, Proxy: nil, MaxIdleConnsPerHost: 4}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if ip := net.ParseIP(r.URL.Hostname()); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("refused a request to %s: not loopback", r.URL.Host)
		}
		return tr.RoundTrip(r)
	})
}

// loopbackControl refuses to connect a socket to an address that is not loopback.
func loopbackControl(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %s: %w", address, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refused to connect to %s: not loopback", address)
	}
	return nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTheTestTransportNeverLeavesLoopback(t *testing.T) {
	t.Parallel()
	f := newFakeGitHub(t)
	c := f.client(t)
	for _, u := range []string{"http://192.0.2.1/repos/o/r/check-runs", "https://api.github.com/repos/o/r/check-runs", "http://localhost.example/", "http://[2001:db8::1]/"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		require.NoError(t, err)
		_, err = c.Client().Do(req)
		require.ErrorContains(t, err, "not loopback", u)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+"/zen", nil)
	require.NoError(t, err)
	resp, err := c.Client().Do(req)
	require.NoError(t, err, "the fake on loopback is reachable")
	resp.Body.Close()
	require.Len(t, f.seen(), 1, "only the loopback request arrived")
}

func TestTheSocketGuardRefusesAnythingButLoopback(t *testing.T) {
	t.Parallel()
	cases := []struct {
		address string
		allowed bool
	}{
		{"127.0.0.1:443", true},
		{"127.3.2.1:80", true},
		{"[::1]:443", true},
		{"192.0.2.1:443", false},
		{"10.0.0.1:80", false},
		{"[2001:db8::1]:443", false},
		{"api.github.com:443", false},
	}
	for _, tc := range cases {
		err := loopbackControl("tcp", tc.address, nil)
		if tc.allowed {
			require.NoError(t, err, tc.address)
		} else {
			require.ErrorContains(t, err, "not loopback", tc.address)
		}
	}
}
