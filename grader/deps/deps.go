// Package deps plans and downloads a submission's npm dependencies without npm on the host.
//
// It reads package.json and the lockfile in Go (Read, Plan), accepts only registry packages
// pinned by an exact version and an integrity hash, and downloads their tarballs from the
// grader's configured registry (Fetcher), never from a host the candidate names, under caps,
// verifying each tarball against its integrity before it enters a cache keyed by that hash.
// Nothing of a candidate's package runs here; laying the tarballs out as node_modules happens
// elsewhere, inside a sandbox container.
package deps

import "fmt"

// Package is one registry package to install, from the lockfile.
type Package struct {
	Path      string // lockfile key: "node_modules/p-retry", "node_modules/a/node_modules/@s/b"
	Name      string // registry name (the lockfile entry's "name" for npm: aliases, else from Path)
	Version   string // exact semver version
	Integrity string // the SRI hash that will be verified, strongest algorithm only ("sha512-…")
	Tarball   string // path of the tarball below the registry root, e.g. "p-retry/-/p-retry-9.0.0.tgz"
}

// Refusal is a submission's dependency that the grader will not install: a build.contract finding
// naming the entry. It implements error.
type Refusal struct {
	Entry  string // "package.json dependencies.foo", "package-lock.json node_modules/x", …
	Reason string
}

// Error reads "entry: reason".
func (r *Refusal) Error() string {
	return r.Entry + ": " + r.Reason
}

// refuse builds a Refusal of entry with a formatted reason.
func refuse(entry, format string, args ...any) *Refusal {
	return &Refusal{Entry: entry, Reason: fmt.Sprintf(format, args...)}
}
