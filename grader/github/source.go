// Package github takes submissions from candidates' GitHub repositories: it names a
// repository (github.com/OWNER/REPO[@REF], https://github.com/OWNER/REPO[.git], the same on a
// GitHub Enterprise host), authenticates with a token, as a GitHub App or anonymously,
// resolves a ref to a commit SHA, downloads the tarball at that SHA and extracts it through
// sandbox/safecopy, after checking that the archive's pax header names the commit asked for.
// Rate limits (a 403 secondary limit, a 429) are waited out, bounded and cancellable, never
// hammered. Given to intake (Options.Remote, Check, IsGit), it makes intake accept
// GitHub sources wherever a source is taken.
package github

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// PublicHost is the web host of github.com repositories.
const PublicHost = "github.com"

// Source names a repository on GitHub (or a GitHub Enterprise host) and, optionally, a ref.
type Source struct {
	Host  string // the web host the repository was named on, as in github.com
	Owner string
	Repo  string
	Ref   string // a branch, a tag or a commit; empty for the default branch
}

// String is the source written as host/owner/repo[@ref], which ParseSource reads back.
func (s Source) String() string {
	out := s.Host + "/" + s.Owner + "/" + s.Repo
	if s.Ref != "" {
		out += "@" + s.Ref
	}
	return out
}

// FullName is owner/repo.
func (s Source) FullName() string { return s.Owner + "/" + s.Repo }

var (
	// ownerName is a GitHub login or organisation: letters, digits and inner hyphens (inner
	// underscores too, for Enterprise managed users' handle_shortcode), at most 39 characters.
	ownerName = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,37}[A-Za-z0-9])?$`)
	// repoName is a repository name: letters, digits, '.', '-' and '_', at most 100 characters.
	repoName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// ErrNotGitHub is returned by ParseSource for a source not written as a repository of the host.
var ErrNotGitHub = errors.New("not a GitHub repository")

// Claims reports whether source is written as a repository of host (github.com when empty):
// host/... or https://host/... . A claimed source may still be malformed: ParseSource says how.
func Claims(source, host string) bool {
	host = hostOr(host)
	lower := strings.ToLower(source)
	return strings.HasPrefix(lower, host+"/") || strings.HasPrefix(lower, "https://"+host+"/")
}

// ParseSource reads host/OWNER/REPO[@REF] or https://host/OWNER/REPO[.git] (host is github.com
// when empty; a GitHub Enterprise host otherwise). Owner and repository names are checked
// strictly, and so is the ref, which is later put in URL paths.
func ParseSource(source, host string) (Source, error) {
	host = hostOr(host)
	if !Claims(source, host) {
		return Source{}, fmt.Errorf("%q: %w on %s (give %s/OWNER/REPO[@REF] or https://%s/OWNER/REPO)", redacted(source), ErrNotGitHub, host, host, host)
	}
	if strings.HasPrefix(strings.ToLower(source), "https://") {
		return parseURL(source, host)
	}
	rest := source[len(host)+1:]
	path, ref, hasRef := strings.Cut(rest, "@")
	if hasRef {
		if err := CheckRef(ref); err != nil {
			return Source{}, fmt.Errorf("%q: %w", source, err)
		}
		if ref == "" {
			return Source{}, fmt.Errorf("%q: nothing after '@' (give a branch, a tag or a commit, or leave '@' out for the default branch)", source)
		}
	}
	src, err := ownerRepo(path)
	if err != nil {
		return Source{}, fmt.Errorf("%q: %w", source, err)
	}
	src.Host, src.Ref = host, ref
	return src, nil
}

// parseURL reads https://host/OWNER/REPO[.git][/].
func parseURL(source, host string) (Source, error) {
	u, err := url.Parse(source)
	switch {
	case err != nil:
		return Source{}, fmt.Errorf("%q: %w", source, err)
	case u.User != nil:
		return Source{}, fmt.Errorf("%q: credentials in the URL are not accepted (set GITHUB_TOKEN or a GitHub App)", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return Source{}, fmt.Errorf("%q: a repository URL has no query or fragment (give https://%s/OWNER/REPO, and the ref with --ref)", source, host)
	case !strings.EqualFold(u.Host, host):
		return Source{}, fmt.Errorf("%q: %w on %s", source, ErrNotGitHub, host)
	}
	src, err := ownerRepo(strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/"))
	if err != nil {
		return Source{}, fmt.Errorf("%q: %w (give https://%s/OWNER/REPO, and the ref with --ref)", source, err, host)
	}
	src.Host = host
	return src, nil
}

// ownerRepo reads OWNER/REPO[.git].
func ownerRepo(path string) (Source, error) {
	owner, repo, ok := strings.Cut(path, "/")
	if !ok || strings.Contains(repo, "/") {
		return Source{}, fmt.Errorf("%q is not OWNER/REPO", path)
	}
	repo = strings.TrimSuffix(repo, ".git")
	if !ownerName.MatchString(owner) {
		return Source{}, fmt.Errorf("owner %q: a GitHub owner is 1 to 39 letters, digits or inner hyphens", owner)
	}
	if !repoName.MatchString(repo) || repo == "." || repo == ".." {
		return Source{}, fmt.Errorf("repository %q: a repository name is 1 to 100 letters, digits, '.', '-' or '_'", repo)
	}
	return Source{Owner: owner, Repo: repo}, nil
}

// CheckRef admits a ref git itself would admit (git check-ref-format's rules) and nothing
// that could change the URL path it is put in. An empty ref (the default branch) is fine.
func CheckRef(ref string) error {
	if ref == "" {
		return nil
	}
	if len(ref) > 255 {
		return fmt.Errorf("ref %.40q...: longer than 255 bytes", ref)
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return fmt.Errorf("ref %q: a ref may not hold control characters, spaces or any of ~^:?*[\\", ref)
		}
	}
	switch {
	case strings.HasPrefix(ref, "-"), strings.HasPrefix(ref, "/"), strings.HasSuffix(ref, "/"), strings.HasSuffix(ref, "."):
		return fmt.Errorf("ref %q: a ref may not start with '-' or '/', nor end with '/' or '.'", ref)
	case strings.Contains(ref, ".."), strings.Contains(ref, "//"), strings.Contains(ref, "@{"), ref == "@":
		return fmt.Errorf("ref %q: a ref may not hold \"..\", \"//\" or \"@{\", nor be \"@\"", ref)
	}
	for part := range strings.SplitSeq(ref, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return fmt.Errorf("ref %q: no part of a ref starts with '.' or ends with \".lock\"", ref)
		}
	}
	return nil
}

// withRef gives src the ref flag when the source names none; a source and a flag naming two
// different refs is an error.
func withRef(src Source, ref string) (Source, error) {
	if err := CheckRef(ref); err != nil {
		return Source{}, err
	}
	switch {
	case ref == "" || ref == src.Ref:
	case src.Ref == "":
		src.Ref = ref
	default:
		return Source{}, fmt.Errorf("%s names ref %q and --ref names %q: give one", src, src.Ref, ref)
	}
	return src, nil
}

// redacted is source with any password in it masked, to be shown.
func redacted(source string) string {
	if u, err := url.Parse(source); err == nil && u.User != nil {
		return u.Redacted()
	}
	return source
}

func hostOr(host string) string {
	if host == "" {
		return PublicHost
	}
	return strings.ToLower(host)
}
