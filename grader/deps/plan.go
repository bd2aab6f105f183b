package deps

import (
	"encoding/json"
	"errors"
	"fmt"
)

// lockEntry is what the plan reads of one entry of a lockfile's "packages" map.
type lockEntry struct {
	name, version, resolved, integrity         string
	link, dev, optional, devOptional, inBundle bool
	os, cpu, libc                              stringList
}

// Plan is the pure function behind Read (bytes in, packages out), for tests. lock is nil when
// the submission has no lockfile; lockName is its file name, used to name refused entries.
// The packages are sorted by Path, so a parent folder comes before what is nested in it.
func Plan(packageJSON []byte, lockName string, lock []byte) ([]Package, error) {
	runtime, err := readManifest(packageJSON)
	if err != nil {
		return nil, err
	}
	if lock == nil {
		if len(runtime) == 0 {
			return nil, nil
		}
		return nil, refuse(runtime[0].entry(), "dependencies are declared but there is no package-lock.json: run npm install (npm 7 or later) and commit the lockfile")
	}
	entries, err := readLock(lockName, lock)
	if err != nil {
		return nil, err
	}
	if err := checkLocked(runtime, lockName, entries); err != nil {
		return nil, err
	}
	return planPackages(lockName, entries)
}

// readLock checks the lockfile's version and decodes its "packages" map (the only part read;
// v2's legacy "dependencies" is ignored), refusing a key that is not a node_modules chain or
// an entry that does not decode.
func readLock(lockName string, raw []byte) (map[string]lockEntry, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, refuse(lockName, "not valid JSON: %v", err)
	}
	if err := checkLockVersion(lockName, top["lockfileVersion"]); err != nil {
		return nil, err
	}
	var packages map[string]json.RawMessage
	if raw, ok := top["packages"]; ok {
		if err := json.Unmarshal(raw, &packages); err != nil {
			return nil, refuse(lockName+" packages", "not an object: %v", err)
		}
	}
	entries := make(map[string]lockEntry, len(packages))
	for _, key := range sortedKeys(packages) {
		if key == "" {
			continue // the project itself
		}
		if _, ok := installedName(key); !ok {
			return nil, refuse(lockName+" "+key, "not a node_modules/<name> path: a workspace or local folder, only registry packages can be installed")
		}
		e, err := decodeEntry(packages[key])
		if err != nil {
			return nil, refuse(lockName+" "+key, "not a valid lockfile entry: %v", err)
		}
		entries[key] = e
	}
	return entries, nil
}

// checkLockVersion accepts lockfileVersion 2 and 3, the ones npm 7 and later write.
func checkLockVersion(lockName string, raw json.RawMessage) error {
	entry := lockName + " lockfileVersion"
	if raw == nil {
		return refuse(entry, "missing: npm 7 or later writes lockfileVersion 2 or 3; run npm install with npm 7+ and commit the lockfile")
	}
	var version int
	if err := json.Unmarshal(raw, &version); err != nil || (version != 2 && version != 3) {
		return refuse(entry, "is %s: npm 7 or later writes 2 or 3; run npm install with npm 7+ and commit the lockfile", raw)
	}
	return nil
}

// decodeEntry reads a lockfile entry by its exact keys, as npm does (Go's struct decoding
// would also match "Resolved" or "RESOLVED").
func decodeEntry(raw json.RawMessage) (lockEntry, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return lockEntry{}, err
	}
	var e lockEntry
	err := errors.Join(
		field(fields, "name", &e.name), field(fields, "version", &e.version),
		field(fields, "resolved", &e.resolved), field(fields, "integrity", &e.integrity),
		field(fields, "link", &e.link), field(fields, "dev", &e.dev),
		field(fields, "optional", &e.optional), field(fields, "devOptional", &e.devOptional),
		field(fields, "inBundle", &e.inBundle),
		field(fields, "os", &e.os), field(fields, "cpu", &e.cpu), field(fields, "libc", &e.libc),
	)
	return e, err
}

// field decodes fields[key] into dst when it is there.
func field(fields map[string]json.RawMessage, key string, dst any) error {
	raw, ok := fields[key]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%q: %w", key, err)
	}
	return nil
}

// checkLocked is npm ci's in-sync rule: each runtime dependency of package.json is at the top
// of the lockfile's node_modules, and not as a development dependency.
func checkLocked(runtime []dependency, lockName string, entries map[string]lockEntry) error {
	for _, dep := range runtime {
		e, ok := entries["node_modules/"+dep.name]
		if !ok {
			return refuse(dep.entry(), "not locked: run npm install and commit the lockfile (%s has no node_modules/%s)", lockName, dep.name)
		}
		if e.dev {
			return refuse(dep.entry(), "locked as a development dependency: run npm install and commit the lockfile")
		}
	}
	return nil
}

// planPackages turns the entries into the packages to download, in key order.
func planPackages(lockName string, entries map[string]lockEntry) ([]Package, error) {
	var pkgs []Package
	for _, key := range sortedKeys(entries) {
		pkg, install, err := planEntry(lockName+" "+key, key, entries[key])
		if err != nil {
			return nil, err
		}
		if install {
			pkgs = append(pkgs, pkg)
		}
	}
	return pkgs, nil
}

// planEntry applies the rules to one entry: whether it is installed and from which tarball.
func planEntry(entry, key string, e lockEntry) (Package, bool, error) {
	switch {
	case e.link:
		return Package{}, false, refuse(entry, "a link to a local folder: only registry packages can be installed")
	case e.dev:
		return Package{}, false, nil // runtime dependencies only, as npm ci --omit=dev
	case e.inBundle:
		return Package{}, false, nil // ships inside its parent's tarball
	case !e.runsOn() && (e.optional || e.devOptional):
		return Package{}, false, nil // npm skips an optional package made for another platform
	case !e.runsOn():
		return Package{}, false, refuse(entry, "requires %s; the grader runs on linux x64 glibc and only an optional dependency may be for another platform", e.platform())
	}
	name, _ := installedName(key)
	if e.name != "" {
		if !validName(e.name) {
			return Package{}, false, refuse(entry, "name %q is not a valid npm package name", e.name)
		}
		name = e.name // an npm: alias is installed under one name and fetched by another
	}
	if !isExactVersion(e.version) {
		return Package{}, false, refuse(entry, "version %q is not an exact semver version", e.version)
	}
	sum, err := parseIntegrity(e.integrity)
	if err != nil {
		return Package{}, false, refuse(entry, "%v", err)
	}
	tarball, err := tarballPath(name, e.version, e.resolved)
	if err != nil {
		return Package{}, false, refuse(entry, "%v", err)
	}
	return Package{Path: key, Name: name, Version: e.version, Integrity: sum.String(), Tarball: tarball}, true, nil
}
