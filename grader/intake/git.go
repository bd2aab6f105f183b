package intake

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/itsm-grader/grader/sandbox/safecopy"
)

// emptyTree is the id of git's empty tree (SHA-1): `git archive` of it with pathspecs fails.
const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// hexRef is a ref that may be a commit id (or an abbreviation of one).
var hexRef = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

// fetchGit fetches ref of the repository at source into dir (through a bare repository beside
// it, removed afterwards) and returns the commit.
func fetchGit(ctx context.Context, source, ref, dir string, opts Options) (string, error) {
	if err := checkGitURL(source); err != nil {
		return "", err
	}
	if err := checkRef(ref); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, opts.GitTimeout, fmt.Errorf("over the time cap of %s", opts.GitTimeout))
	defer cancel()
	g := &git{dir: dir + ".git", caFile: opts.GitCAFile, maxBytes: opts.GitMaxBytes}
	defer os.RemoveAll(g.dir)
	if err := g.init(ctx); err != nil {
		return "", err
	}
	commit, err := g.fetch(ctx, source, ref)
	if err != nil {
		return "", err
	}
	if err := g.extract(ctx, commit, dir, opts.Caps); err != nil {
		return "", err
	}
	return commit, nil
}

// checkGitURL admits https:// URLs only, without credentials: http sends the code in clear,
// file reads the host, ssh and git@host:path run ssh with the host's keys, ext runs commands.
func checkGitURL(source string) error {
	u, err := url.Parse(source)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("git source %q: only https:// URLs are fetched (not http, ssh, file or git@host:path)", source)
	}
	if u.User != nil {
		return fmt.Errorf("git source %q: credentials in the URL are not accepted", u.Redacted())
	}
	return nil
}

// checkRef refuses a ref git could read as an option, and characters no ref name holds (a
// colon would make it a refspec writing a local ref).
func checkRef(ref string) error {
	if strings.HasPrefix(ref, "-") {
		return fmt.Errorf("ref %q: a ref may not start with '-'", ref)
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return fmt.Errorf("ref %q: a ref may not hold control characters, spaces or any of ~^:?*[\\", ref)
		}
	}
	return nil
}

// fetch fetches ref at depth 1 and resolves its commit. A commit id the server will not serve
// by id (it needs uploadpack.allowReachableSHA1InWant, or protocol v2) is found by fetching
// every branch and tag instead, under the same caps.
func (g *git) fetch(ctx context.Context, source, ref string) (string, error) {
	target := ref
	if target == "" {
		target = "HEAD"
	}
	err := g.fetchWatched(ctx, "--depth", "1", "--", source, target)
	if err == nil {
		return g.resolve(ctx, "FETCH_HEAD^{commit}")
	}
	if !hexRef.MatchString(ref) || errors.Is(err, ErrRefused) || ctx.Err() != nil {
		return "", err
	}
	if ferr := g.fetchWatched(ctx, "--", source, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"); ferr != nil {
		return "", errors.Join(err, ferr)
	}
	return g.resolve(ctx, ref+"^{commit}")
}

// extract lays the commit's tree out in dir from `git archive`, leaving out SkipDirs (git does,
// so a committed node_modules is never even streamed) and refusing links and anything over the
// caps, at which git archive is killed.
func (g *git) extract(ctx context.Context, commit, dir string, caps safecopy.Caps) error {
	tree, err := g.resolve(ctx, commit+"^{tree}")
	if err != nil {
		return err
	}
	args := []string{"archive", "--format=tar", commit}
	if tree != emptyTree { // an empty tree with pathspecs is an error; without, an empty archive
		args = append(args, "--", ".")
		for _, name := range caps.SkipDirs {
			if !strings.ContainsAny(name, `*?[\`) {
				args = append(args, ":(exclude,glob)**/"+name+"/**")
			}
		}
	}
	return g.archive(ctx, dir, caps, args...)
}
