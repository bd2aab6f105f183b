package deps

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// runtimeSections are the package.json sections whose packages are installed; each name in
// them must be locked. peerDependencies are installed too (npm 7+) and their specs checked,
// but npm ci does not require them at the top of the lockfile.
var runtimeSections = []string{"dependencies", "optionalDependencies"}

// specSections are the sections whose version specs must be registry specs. devDependencies
// are neither installed nor checked.
var specSections = []string{"dependencies", "optionalDependencies", "peerDependencies"}

// utf8BOM is stripped before parsing, as npm does.
var utf8BOM = []byte("\xef\xbb\xbf")

// dependency is one name of a runtime section of package.json.
type dependency struct {
	section string // "dependencies" or "optionalDependencies"
	name    string
}

// entry is how a refusal names it: "package.json dependencies.foo".
func (d dependency) entry() string {
	return "package.json " + d.section + "." + d.name
}

// readManifest checks package.json and returns its runtime dependencies, sorted by section
// then name. Keys are matched exactly (decoded through maps), as npm reads them: Go's
// case-insensitive struct matching would let "Dependencies" stand in for "dependencies".
func readManifest(raw []byte) ([]dependency, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimPrefix(raw, utf8BOM), &top); err != nil {
		return nil, refuse("package.json", "not valid JSON: %v", err)
	}
	if _, ok := top["workspaces"]; ok {
		return nil, refuse("package.json workspaces", "workspaces are local folders linked into node_modules: only registry packages can be installed")
	}
	var runtime []dependency
	for _, section := range specSections {
		specs, err := readSpecs(top, section)
		if err != nil {
			return nil, err
		}
		if slices.Contains(runtimeSections, section) {
			for _, name := range sortedKeys(specs) {
				runtime = append(runtime, dependency{section: section, name: name})
			}
		}
	}
	if raw, ok := top["overrides"]; ok {
		if err := checkOverride("package.json overrides", raw); err != nil {
			return nil, err
		}
	}
	return runtime, nil
}

// readSpecs reads one section and refuses any name that is not a package name and any spec
// that is not a registry spec.
func readSpecs(top map[string]json.RawMessage, section string) (map[string]string, error) {
	raw, ok := top[section]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var specs map[string]string
	if err := json.Unmarshal(raw, &specs); err != nil {
		return nil, refuse("package.json "+section, "not an object of name to version: %v", err)
	}
	for _, name := range sortedKeys(specs) {
		entry := "package.json " + section + "." + name
		if !validName(name) {
			return nil, refuse(entry, "%q is not a valid npm package name", name)
		}
		if problem := specProblem(specs[name]); problem != "" {
			return nil, refuse(entry, "%q is %s", specs[name], problem)
		}
	}
	return specs, nil
}

// checkOverride walks an overrides value: every string must be a registry spec or a
// "$name" reference to a direct dependency's spec; objects nest.
func checkOverride(entry string, raw json.RawMessage) error {
	var spec string
	if err := json.Unmarshal(raw, &spec); err == nil {
		if ref, ok := strings.CutPrefix(spec, "$"); ok && validName(ref) {
			return nil
		}
		if problem := specProblem(spec); problem != "" {
			return refuse(entry, "%q is %s", spec, problem)
		}
		return nil
	}
	var nested map[string]json.RawMessage
	if err := json.Unmarshal(raw, &nested); err != nil {
		return refuse(entry, "an override must be a version spec or an object of overrides")
	}
	for _, key := range sortedKeys(nested) {
		if err := checkOverride(entry+"."+key, nested[key]); err != nil {
			return err
		}
	}
	return nil
}

// sourcePrefixes name the spec forms that fetch from anywhere but the registry, with why
// they are refused. Matched on the lower-cased, trimmed spec.
var sourcePrefixes = []struct{ prefix, what string }{
	{"git+", "a git dependency"},
	{"git:", "a git dependency"},
	{"git@", "a git dependency"},
	{"github:", "a git dependency (GitHub)"},
	{"gitlab:", "a git dependency (GitLab)"},
	{"bitbucket:", "a git dependency (Bitbucket)"},
	{"gist:", "a git dependency (gist)"},
	{"http:", "a URL"},
	{"https:", "a URL"},
	{"file:", "a local file or folder"},
	{"link:", "a link to a local folder"},
	{"workspace:", "a workspace reference"},
	{"portal:", "a link to a local folder"},
	{"~/", "a path"},
	{"/", "a path"},
	{".", "a path"},
}

// specProblem says what a package.json version spec is when it is not a registry spec
// ("a git dependency: only registry packages can be installed"), or "" when it is one: a
// semver range, a dist-tag, or "npm:<name>[@<range>]".
func specProblem(spec string) string {
	spec = strings.TrimSpace(spec)
	if target, ok := strings.CutPrefix(spec, "npm:"); ok {
		return aliasProblem(target)
	}
	lower := strings.ToLower(spec)
	for _, p := range sourcePrefixes {
		if strings.HasPrefix(lower, p.prefix) {
			return p.what + ": only registry packages can be installed"
		}
	}
	if strings.Contains(spec, "/") {
		return "GitHub shorthand (user/repo) or a path: only registry packages can be installed"
	}
	return rangeProblem(spec)
}

// aliasProblem checks the target of "npm:<name>[@<range>]".
func aliasProblem(target string) string {
	name, version := target, ""
	if at := strings.LastIndexByte(target, '@'); at > 0 {
		name, version = target[:at], target[at+1:]
	}
	if !validName(name) {
		return "an npm: alias to an invalid package name"
	}
	if problem := rangeProblem(strings.TrimSpace(version)); problem != "" {
		return "an npm: alias whose version " + problem
	}
	return ""
}

// rangeProblem checks a semver range or dist-tag against an allow-list of characters
// (letters, digits, space, ". - + ^ ~ < > = | *"), and refuses what npm would still read as a
// file: a leading "." or a tarball name ("x.tgz", "x.tar.gz", "x.tar").
func rangeProblem(spec string) string {
	lower := strings.ToLower(spec)
	switch {
	case strings.HasPrefix(spec, "."):
		return "a path: only registry packages can be installed"
	case strings.HasSuffix(lower, ".tgz"), strings.HasSuffix(lower, ".tar"), strings.HasSuffix(lower, ".tar.gz"):
		return "a local tarball: only registry packages can be installed"
	}
	for i := range len(spec) {
		if !isRangeChar(spec[i]) {
			return "not a semver range, a dist-tag or an npm: alias"
		}
	}
	return ""
}

// isRangeChar reports whether c may appear in a semver range or a dist-tag.
func isRangeChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte(" .-+^~<>=|*", c) >= 0
}

// sortedKeys are a map's keys in order, for deterministic refusals.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
