// Package githubtest serves a fake GitHub REST API on loopback for tests, shaped like
// GitHub's: repositories with refs and tarballs (git archive's pax header and top folder),
// token and GitHub App authentication (the App's JWT checked against its key, installation
// tokens minted), the archive answered with a 302 to a second, codeload-like host or with a
// 200 as GitHub does for installation tokens, faults queued per request (a 403 secondary rate
// limit with Retry-After, a 429), and every request recorded. Transport refuses every host but
// loopback. Tests of other GitHub features add routes with Handle.
package githubtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// ArchiveMode says how the tarball request is answered.
type ArchiveMode int

const (
	// ArchiveAsGitHub answers an installation token with 200 and the archive, anyone else
	// with a 302 to the codeload host, as GitHub does.
	ArchiveAsGitHub ArchiveMode = iota
	// ArchiveRedirect always answers with a 302 to the codeload host.
	ArchiveRedirect
	// ArchiveDirect always answers with 200 and the archive.
	ArchiveDirect
)

// Repo is a repository the server holds.
type Repo struct {
	Owner, Name   string
	DefaultBranch string
	Private       bool
	Refs          map[string]string // branch or tag name → commit SHA
	Archives      map[string][]byte // commit SHA → gzip tarball
	Installation  int64             // the App installation holding it; 0 when not installed
}

// Request is a request the server received.
type Request struct {
	Host          string // "api" or "codeload"
	Method        string
	Path          string // as sent, escaped; API paths start with /api/v3
	RawQuery      string
	Authorization string
	At            time.Time
}

// Response is a canned answer, queued with Queue.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// SecondaryRateLimit is GitHub's 403 for a secondary rate limit, with Retry-After.
func SecondaryRateLimit(retryAfterSeconds int) Response {
	return Response{
		Status: http.StatusForbidden,
		Header: http.Header{"Retry-After": {fmt.Sprint(retryAfterSeconds)}, "Content-Type": {"application/json"}},
		Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",` +
			`"documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`,
	}
}

// TooManyRequests is a 429 with Retry-After, which go-github v60 reports as a plain error.
func TooManyRequests(retryAfterSeconds int) Response {
	return Response{
		Status: http.StatusTooManyRequests,
		Header: http.Header{"Retry-After": {fmt.Sprint(retryAfterSeconds)}, "Content-Type": {"application/json"}},
		Body:   `{"message":"Too many requests","documentation_url":"https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"}`,
	}
}

// Server is the fake GitHub: the REST API under /api/v3/ (GitHub Enterprise's layout, so a
// client given API.URL as its API root reaches it) and the codeload host.
type Server struct {
	API      *httptest.Server
	Codeload *httptest.Server
	api      *http.ServeMux

	mu             sync.Mutex
	repos          map[string]*Repo // lowercased owner/repo
	tokens         map[string]bool  // personal tokens accepted
	installTokens  map[string]int64 // installation token → installation
	codeloadTokens map[string]string
	faults         map[string][]Response // "METHOD /path" (without /api/v3) → answers to come
	requests       []Request
	app            *App
	mode           ArchiveMode
}

// NewServer starts the fake on loopback; it is closed when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{api: http.NewServeMux(), repos: map[string]*Repo{}, tokens: map[string]bool{},
		installTokens: map[string]int64{}, codeloadTokens: map[string]string{}, faults: map[string][]Response{}}
	s.routes()
	s.API = httptest.NewServer(s.recorded("api", s.faulty(s.api)))
	t.Cleanup(s.API.Close)
	codeload := http.NewServeMux()
	codeload.HandleFunc("GET /{owner}/{repo}/legacy.tar.gz/{sha}", s.codeload)
	s.Codeload = httptest.NewServer(s.recorded("codeload", codeload))
	t.Cleanup(s.Codeload.Close)
	return s
}

func (s *Server) routes() {
	s.Handle("GET /repos/{owner}/{repo}", s.repository)
	s.Handle("GET /repos/{owner}/{repo}/commits/{ref...}", s.commit)
	s.Handle("GET /repos/{owner}/{repo}/tarball/{ref...}", s.tarball)
	s.Handle("GET /repos/{owner}/{repo}/installation", s.installation)
	s.Handle("POST /app/installations/{id}/access_tokens", s.accessToken)
}

// Handle adds an API route; pattern is a ServeMux pattern without the /api/v3 prefix, as in
// "POST /repos/{owner}/{repo}/check-runs".
func (s *Server) Handle(pattern string, handler http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.api.HandleFunc(method+" /api/v3"+path, handler)
}

// AddRepo adds (or replaces) a repository.
func (s *Server) AddRepo(r *Repo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[strings.ToLower(r.Owner+"/"+r.Name)] = r
}

// AddToken makes token a personal token that reads every repository.
func (s *Server) AddToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = true
}

// SetApp makes app the GitHub App whose JWTs the server accepts.
func (s *Server) SetApp(app *App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app = app
}

// SetArchiveMode says how tarball requests are answered.
func (s *Server) SetArchiveMode(m ArchiveMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// Queue makes the next requests to "METHOD path" (an API path without /api/v3, escaped as
// sent, as in "GET /repos/o/r/tarball/<sha>") get responses, one each, before the route
// answers again.
func (s *Server) Queue(method, path string, responses ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := method + " " + path
	s.faults[key] = append(s.faults[key], responses...)
}

// Requests is every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// recorded records every request to host before h answers it.
func (s *Server) recorded(host string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Host: host, Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Authorization: r.Header.Get("Authorization"), At: time.Now()})
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// faulty answers from the queue when a response is queued for the request.
func (s *Server) faulty(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + strings.TrimPrefix(r.URL.EscapedPath(), "/api/v3")
		s.mu.Lock()
		queued := s.faults[key]
		var answer *Response
		if len(queued) > 0 {
			answer, s.faults[key] = &queued[0], queued[1:]
		}
		s.mu.Unlock()
		if answer == nil {
			h.ServeHTTP(w, r)
			return
		}
		for k, v := range answer.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(answer.Status)
		_, _ = w.Write([]byte(answer.Body))
	})
}

// CallerKind is who a request authenticates as.
type CallerKind int

// The kinds of caller.
const (
	Anonymous CallerKind = iota
	PersonalToken
	InstallationToken
	AppJWT
)

// Caller is who sent a request.
type Caller struct {
	Kind         CallerKind
	Installation int64 // for an InstallationToken
}

// Caller reads who sent r; ok is false (and a 401 is written) for credentials not accepted.
func (s *Server) Caller(w http.ResponseWriter, r *http.Request) (Caller, bool) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return Caller{Kind: Anonymous}, true
	}
	scheme, token, _ := strings.Cut(auth, " ")
	s.mu.Lock()
	personal, installation, app := s.tokens[token], s.installTokens[token], s.app
	s.mu.Unlock()
	switch {
	case scheme != "Bearer" && scheme != "token":
	case personal:
		return Caller{Kind: PersonalToken}, true
	case installation != 0:
		return Caller{Kind: InstallationToken, Installation: installation}, true
	case app != nil && strings.Count(token, ".") == 2:
		if err := app.verifyJWT(token, time.Now()); err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded: " + err.Error()})
			return Caller{}, false
		}
		return Caller{Kind: AppJWT}, true
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
	return Caller{}, false
}

// Repo is the repository r names if its caller may read it; otherwise a 401 or 404 is
// written (GitHub answers 404 for a private repository one cannot see) and ok is false.
func (s *Server) Repo(w http.ResponseWriter, r *http.Request) (*Repo, Caller, bool) {
	caller, ok := s.Caller(w, r)
	if !ok {
		return nil, caller, false
	}
	s.mu.Lock()
	repo := s.repos[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]
	s.mu.Unlock()
	switch {
	case repo == nil:
	case caller.Kind == AppJWT:
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "A JSON web token cannot be used for this resource"})
		return nil, caller, false
	case caller.Kind == PersonalToken, !repo.Private,
		caller.Kind == InstallationToken && caller.Installation == repo.Installation:
		return repo, caller, true
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
	return nil, caller, false
}

func (s *Server) repository(w http.ResponseWriter, r *http.Request) {
	repo, _, ok := s.Repo(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": 1, "name": repo.Name, "full_name": repo.Owner + "/" + repo.Name, "private": repo.Private,
		"default_branch": repo.DefaultBranch, "owner": map[string]any{"login": repo.Owner},
	})
}

var hexPrefix = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// resolve is the commit ref names in repo: a branch or tag, HEAD, refs/heads/x or
// refs/tags/x, or a commit SHA (or its abbreviation) the repository holds.
func (repo *Repo) resolve(ref string) (string, bool) {
	if ref == "HEAD" {
		ref = repo.DefaultBranch
	}
	for _, name := range []string{ref, strings.TrimPrefix(ref, "refs/heads/"), strings.TrimPrefix(ref, "refs/tags/")} {
		if sha, ok := repo.Refs[name]; ok {
			return sha, true
		}
	}
	if !hexPrefix.MatchString(ref) {
		return "", false
	}
	for sha := range repo.Archives {
		if strings.HasPrefix(sha, ref) {
			return sha, true
		}
	}
	return "", false
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request) {
	repo, _, ok := s.Repo(w, r)
	if !ok {
		return
	}
	ref := r.PathValue("ref")
	sha, found := repo.resolve(ref)
	switch {
	case !found:
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "No commit found for SHA: " + ref,
			"documentation_url": "https://docs.github.com/rest/commits/commits#get-a-commit"})
	case r.Header.Get("If-None-Match") == `"`+sha+`"`:
		w.WriteHeader(http.StatusNotModified)
	case r.Header.Get("Accept") == "application/vnd.github.v3.sha":
		w.Header().Set("Content-Type", "application/vnd.github.v3.sha; charset=utf-8")
		w.Header().Set("ETag", `"`+sha+`"`)
		_, _ = w.Write([]byte(sha))
	default:
		writeJSON(w, http.StatusOK, map[string]any{"sha": sha})
	}
}

func (s *Server) tarball(w http.ResponseWriter, r *http.Request) {
	repo, caller, ok := s.Repo(w, r)
	if !ok {
		return
	}
	sha, found := repo.resolve(r.PathValue("ref"))
	if !found || repo.Archives[sha] == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	s.mu.Lock()
	direct := s.mode == ArchiveDirect || s.mode == ArchiveAsGitHub && caller.Kind == InstallationToken
	s.mu.Unlock()
	if direct {
		serveArchive(w, repo, sha)
		return
	}
	location := fmt.Sprintf("%s/%s/%s/legacy.tar.gz/%s", s.Codeload.URL, repo.Owner, repo.Name, sha)
	if repo.Private {
		token := randomHex(16)
		s.mu.Lock()
		s.codeloadTokens[token] = repo.Owner + "/" + repo.Name + "/" + sha
		s.mu.Unlock()
		location += "?token=" + token
	}
	http.Redirect(w, r, location, http.StatusFound)
}

// codeload serves an archive the API redirected to; a private repository's needs the
// short-lived token the redirect carried, and nothing else.
func (s *Server) codeload(w http.ResponseWriter, r *http.Request) {
	owner, name, sha := r.PathValue("owner"), r.PathValue("repo"), r.PathValue("sha")
	s.mu.Lock()
	repo := s.repos[strings.ToLower(owner+"/"+name)]
	granted := s.codeloadTokens[r.URL.Query().Get("token")] == owner+"/"+name+"/"+sha
	s.mu.Unlock()
	if repo == nil || repo.Archives[sha] == nil || repo.Private && !granted {
		http.NotFound(w, r)
		return
	}
	serveArchive(w, repo, sha)
}

func serveArchive(w http.ResponseWriter, repo *Repo, sha string) {
	w.Header().Set("Content-Type", "application/x-gzip")
	w.Header().Set("Content-Disposition", "attachment; filename="+TopFolder(repo.Owner, repo.Name, sha)+".tar.gz")
	_, _ = w.Write(repo.Archives[sha])
}

func (s *Server) installation(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.Caller(w, r)
	if !ok {
		return
	}
	if caller.Kind != AppJWT {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded"})
		return
	}
	s.mu.Lock()
	repo, appID := s.repos[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))], s.app.ID
	s.mu.Unlock()
	if repo == nil || repo.Installation == 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": repo.Installation, "app_id": appID,
		"account": map[string]any{"login": repo.Owner}, "target_type": "Organization"})
}

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.Caller(w, r)
	if !ok {
		return
	}
	var id int64
	if _, err := fmt.Sscan(r.PathValue("id"), &id); err != nil || caller.Kind != AppJWT || !s.installed(id) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	token := "ghs_" + randomHex(18)
	s.mu.Lock()
	s.installTokens[token] = id
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"token": token, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"permissions": map[string]string{"contents": "read", "metadata": "read", "checks": "write", "statuses": "write"}})
}

// installed reports whether some repository is in installation id.
func (s *Server) installed(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, repo := range s.repos {
		if repo.Installation == id {
			return true
		}
	}
	return false
}

// InstallationTokens is how many installation tokens were minted.
func (s *Server) InstallationTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.installTokens)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
