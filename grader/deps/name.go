package deps

import "strings"

// maxNameLength is npm's limit on a package name (validate-npm-package-name).
const maxNameLength = 214

// validName reports whether name is a package name the registry can hold: "name" or
// "@scope/name", each part made of URL-safe characters only (npm requires
// encodeURIComponent(name) == name) and not starting with "." or "_" (which also rules out
// "." and ".."). Upper case is allowed: the registry still serves old names such as JSONStream.
func validName(name string) bool {
	if name == "" || len(name) > maxNameLength {
		return false
	}
	if scoped, ok := strings.CutPrefix(name, "@"); ok {
		scope, base, found := strings.Cut(scoped, "/")
		return found && validNamePart(scope) && validNamePart(base)
	}
	return validNamePart(name)
}

// validNamePart reports whether s is one "/"-free part of a package name.
func validNamePart(s string) bool {
	if s == "" || s[0] == '.' || s[0] == '_' {
		return false
	}
	for i := range len(s) {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// isNameChar reports whether c is left alone by encodeURIComponent: the characters a package
// name may hold. No "/", "\\", "%", ":" or space.
func isNameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-_.!~*'()", c) >= 0
}

// installedName returns the folder name a lockfile key installs to (its last package name),
// and whether the key is a chain of node_modules/<name> segments and nothing else:
// "node_modules/a/node_modules/@s/b" gives "@s/b"; "packages/a" (a workspace folder),
// "node_modules/../x" and "node_modules//x" are not such chains.
func installedName(key string) (string, bool) {
	segments := strings.Split(key, "/")
	var name string
	for i := 0; i < len(segments); {
		if segments[i] != "node_modules" || i+1 >= len(segments) {
			return "", false
		}
		name, i = segments[i+1], i+2
		if strings.HasPrefix(name, "@") {
			if i >= len(segments) {
				return "", false
			}
			name, i = name+"/"+segments[i], i+1
		}
		if !validName(name) {
			return "", false
		}
	}
	return name, name != ""
}
