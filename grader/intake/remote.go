package intake

import (
	"context"
	"os"
)

// Remote takes sources that name a repository on a hosting service (grader/github's Intake for
// github.com/OWNER/REPO[@REF]) rather than a folder or a plain git URL. intake knows it through
// this interface only, so it does not depend on any service's client. It is given where it is
// used (Options.Remote, Check, IsGit), never installed process-wide: one process may serve
// teams with different credentials.
type Remote interface {
	// Claims reports whether source is written as one of the service's repositories.
	Claims(source string) bool
	// Check says, without the network, whether source and ref are well formed.
	Check(source, ref string) error
	// Fetch lays the repository at ref out in dir (which must not exist) under opts' caps
	// (SkippedDirs included) and time cap. Errors that are the submission's doing wrap
	// ErrRefused.
	Fetch(ctx context.Context, source, ref, dir string, opts Options) (*Submission, error)
}

// claimant is r when it claims source and no folder of that name exists.
func claimant(r Remote, source string) Remote {
	if r == nil || !r.Claims(source) {
		return nil
	}
	if st, err := os.Stat(source); err == nil && st.IsDir() {
		return nil
	}
	return r
}
