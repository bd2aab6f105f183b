package deps

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// exactVersion is semver.org's grammar of one version: no range, no "v" prefix, no tag.
var exactVersion = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// maxVersionLength bounds a version string (npm's semver refuses longer ones too).
const maxVersionLength = 256

// isExactVersion reports whether v is one exact semver version.
func isExactVersion(v string) bool {
	return len(v) <= maxVersionLength && exactVersion.MatchString(v)
}

// tarballPath is where the tarball of name@version lies below the configured registry's root.
// With no resolved URL (npm's omit-lockfile-registry-resolved) it is npm's own layout,
// "<name>/-/<basename>-<version>.tgz". With one, resolved must be an http(s) URL whose path
// ends in "/<name>/-/<file>.tgz", and only that tail is kept: the host resolved names is never
// contacted. git, file and other URLs are refused.
func tarballPath(name, version, resolved string) (string, error) {
	if resolved == "" {
		return name + "/-/" + baseName(name) + "-" + version + ".tgz", nil
	}
	u, err := url.Parse(resolved)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("resolved %q is not a registry tarball URL: only registry packages can be installed (git, file and other sources are refused)", resolved)
	}
	marker := "/" + name + "/-/"
	at := strings.LastIndex(u.Path, marker)
	if at < 0 || !validTarballFile(u.Path[at+len(marker):]) {
		return "", fmt.Errorf("resolved %q is not a registry tarball of %s (want …/%s/-/<file>.tgz)", resolved, name, name)
	}
	return u.Path[at+1:], nil
}

// baseName is a package name without its scope: "@s/b" gives "b".
func baseName(name string) string {
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// validTarballFile reports whether file is a plain tarball file name: "<something>.tgz" made
// of package-name characters and "+", no "/", not starting with ".".
func validTarballFile(file string) bool {
	stem, ok := strings.CutSuffix(file, ".tgz")
	if !ok || stem == "" || stem[0] == '.' {
		return false
	}
	for i := range len(stem) {
		if !isNameChar(stem[i]) && stem[i] != '+' {
			return false
		}
	}
	return true
}

// validTarball reports whether a Package's Tarball is "<name>/-/<file>.tgz" with a valid
// name and file: checked again before a download, whoever built the Package.
func validTarball(tarball string) bool {
	name, file, ok := strings.Cut(tarball, "/-/")
	return ok && validName(name) && validTarballFile(file)
}
