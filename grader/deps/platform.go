package deps

import (
	"encoding/json"
	"fmt"
	"strings"
)

// runtimePlatform is where a candidate's code runs: the runtime image is Debian (glibc) on
// x64 Linux. npm skips an optional package whose os, cpu or libc excludes it.
var runtimePlatform = struct{ os, cpu, libc string }{os: "linux", cpu: "x64", libc: "glibc"}

// stringList is a lockfile field npm accepts as a string or a list of strings ("os", "cpu").
type stringList []string

// UnmarshalJSON accepts "x", ["x", "y"] and null.
func (l *stringList) UnmarshalJSON(raw []byte) error {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*l = many
	return nil
}

// runsOn reports whether an entry's os, cpu and libc lists allow the runtime platform.
func (e lockEntry) runsOn() bool {
	return listAllows(e.os, runtimePlatform.os) &&
		listAllows(e.cpu, runtimePlatform.cpu) &&
		listAllows(e.libc, runtimePlatform.libc)
}

// platform describes an entry's restrictions for a refusal: "os [darwin] cpu [arm64]".
func (e lockEntry) platform() string {
	var parts []string
	for _, field := range []struct {
		name string
		list stringList
	}{{"os", e.os}, {"cpu", e.cpu}, {"libc", e.libc}} {
		if len(field.list) > 0 {
			parts = append(parts, fmt.Sprintf("%s %v", field.name, []string(field.list)))
		}
	}
	return strings.Join(parts, " ")
}

// listAllows is npm-install-checks' checkList: a value passes when it matches none of the
// negated entries ("!darwin") and at least one of the others, if there are any; ["any"] and
// an empty list allow everything.
func listAllows(list stringList, value string) bool {
	if len(list) == 1 && list[0] == "any" {
		return true
	}
	negated, matched := 0, false
	for _, entry := range list {
		if excluded, ok := strings.CutPrefix(entry, "!"); ok {
			negated++
			if excluded == value {
				return false
			}
			continue
		}
		matched = matched || entry == value
	}
	return matched || negated == len(list)
}
