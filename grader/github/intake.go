package github

import (
	"context"
	"fmt"
	"io"

	gh "github.com/google/go-github/v60/github"

	"github.com/itsm-grader/grader/grader/intake"
)

// Fetch lays src out in dir (which it creates; its parent must exist): it resolves src's ref
// to a commit SHA (the default branch's head when src names none), downloads the tarball at
// that SHA, checks that the archive names that commit, and extracts it under lim. The
// submission records the SHA as Commit and the ref resolved as Ref. Errors that are the
// repository's doing (a link, a device, over a cap) wrap intake.ErrRefused; an archive GitHub
// would not make wraps ErrUnexpectedArchive.
func (c *Client) Fetch(ctx context.Context, src Source, dir string, lim Limits) (*intake.Submission, error) {
	lim = lim.withDefaults()
	ctx, cancel := context.WithTimeoutCause(ctx, lim.Timeout+c.cfg.MaxRateLimitWait,
		fmt.Errorf("github: fetching %s took over the time cap of %s", src, lim.Timeout+c.cfg.MaxRateLimitWait))
	defer cancel()
	sha, ref, err := c.resolve(ctx, src)
	if err != nil {
		return nil, err
	}
	body, err := c.tarball(ctx, src, sha)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if _, err := extractTarball(body, dir, sha, lim); err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return nil, fmt.Errorf("github: %s at %s: %w (%w)", src, sha, cause, err)
		}
		return nil, fmt.Errorf("github: %s at %s: %w", src, sha, err)
	}
	return &intake.Submission{Dir: dir, Source: src.String(), Ref: ref, Commit: sha}, nil
}

// tarball opens the archive of the commit sha. It is a plain request through the client
// rather than Repositories.GetArchiveLink, which in v60 rejects the 200 GitHub answers an
// installation token with: BareDo follows the 302 to codeload and takes a 200 alike. The
// caller closes the body.
func (c *Client) tarball(ctx context.Context, src Source, sha string) (io.ReadCloser, error) {
	client, err := c.REST(ctx, src)
	if err != nil {
		return nil, err
	}
	var body io.ReadCloser
	err = c.WaitOut(ctx, "download "+src.FullName(), func(ctx context.Context) (*gh.Response, error) {
		req, err := client.NewRequest("GET", "repos/"+src.Owner+"/"+src.Repo+"/tarball/"+sha, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.BareDo(ctx, req)
		if err == nil {
			body = resp.Body
		}
		return resp, err
	})
	if err != nil {
		return nil, c.explain(src, "download the archive at "+sha, err)
	}
	return body, nil
}

// Intake takes GitHub repositories wherever intake takes a source: installed with
// given to intake (Options.Remote, Check, IsGit), it makes intake accept
// WEBHOST/OWNER/REPO[@REF] and https://WEBHOST/OWNER/REPO[.git] (WEBHOST is github.com, or
// the Enterprise host the client was made for).
type Intake struct{ client *Client }

// NewIntake is the intake.Remote for c.
func NewIntake(c *Client) *Intake { return &Intake{client: c} }

// Claims reports whether source is written as a repository of the client's host.
func (in *Intake) Claims(source string) bool { return Claims(source, in.client.WebHost()) }

// Check says, without the network, whether source and ref name a repository and a ref.
func (in *Intake) Check(source, ref string) error {
	_, err := in.source(source, ref)
	return err
}

// Fetch lays the repository out in dir under opts' caps: GitMaxBytes caps the archive,
// GitTimeout the fetch. The submission keeps source as the user wrote it.
func (in *Intake) Fetch(ctx context.Context, source, ref, dir string, opts intake.Options) (*intake.Submission, error) {
	src, err := in.source(source, ref)
	if err != nil {
		return nil, err
	}
	sub, err := in.client.Fetch(ctx, src, dir, Limits{Caps: opts.Caps, MaxArchiveBytes: opts.GitMaxBytes, Timeout: opts.GitTimeout})
	if err != nil {
		return nil, err
	}
	sub.Source = source
	return sub, nil
}

// source parses source and joins the --ref flag to it.
func (in *Intake) source(source, ref string) (Source, error) {
	src, err := ParseSource(source, in.client.WebHost())
	if err != nil {
		return Source{}, err
	}
	return withRef(src, ref)
}
