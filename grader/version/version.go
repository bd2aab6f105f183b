// Package version names the grader binary: a version set at link time
// (-ldflags "-X github.com/itsm-grader/grader/grader/version.Version=v1.2.3", as make build does
// from git describe), else the module version and VCS revision the Go toolchain recorded.
package version

import (
	"runtime/debug"
	"sync"
)

// Version is set at link time; empty means "read the build information".
var Version string

// Grader is the running grader's version, e.g. "v1.2.3", "devel+3f2a1c9d0e4b" or
// "devel+3f2a1c9d0e4b-dirty" (built from a tree with changes); "unknown" without build
// information.
var Grader = sync.OnceValue(func() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return fromBuildInfo(info)
})

func fromBuildInfo(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if v == "devel" || modified == "true" {
		v += "+" + rev
	}
	if modified == "true" {
		v += "-dirty"
	}
	return v
}
