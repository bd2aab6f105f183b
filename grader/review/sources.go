package review

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Sources are the submission's files the rules read besides the analyzer's facts: the package
// manifest and lockfile, the configuration files a credential may hide in, the size of the
// installed dependencies, and SUBMISSION.md and RATIONALE.md. Gather reads them once, when a
// grading is captured; they are kept with its evidence, so judging reads no file.
type Sources struct {
	PackageJSON      string       `json:"packageJson,omitempty"`
	PackageLock      string       `json:"packageLock,omitempty"`
	NodeModulesBytes int64        `json:"nodeModulesBytes"`
	ConfigFiles      []SourceFile `json:"configFiles,omitempty"`
	Submission       *SourceFile  `json:"submission,omitempty"`
	Rationale        *SourceFile  `json:"rationale,omitempty"`
}

// SourceFile is one file, relative to the submission's root. Skipped says why its content was
// not kept (over the size cap).
type SourceFile struct {
	Path    string `json:"path"`
	Data    string `json:"data,omitempty"`
	Skipped string `json:"skipped,omitempty"`
}

// maxManifestBytes caps package.json and the lockfile as kept.
const maxManifestBytes = 4 << 20

// Gather reads a submission's sources from its folder (the host's own copy, regular files and
// folders only). A file that is missing is left out; one over its cap is named and skipped.
func Gather(dir string) (*Sources, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("gather sources: %s is not a folder", dir)
	}
	s := &Sources{NodeModulesBytes: dirSize(filepath.Join(dir, "node_modules"))}
	s.PackageJSON = readCapped(filepath.Join(dir, "package.json"), maxManifestBytes)
	s.PackageLock = readCapped(filepath.Join(dir, "package-lock.json"), maxManifestBytes)
	s.ConfigFiles = gatherConfigFiles(dir)
	if s.Submission, err = gatherDoc(dir, "SUBMISSION.md"); err != nil {
		return nil, err
	}
	if s.Rationale, err = gatherDoc(dir, "RATIONALE.md"); err != nil {
		return nil, err
	}
	return s, nil
}

func readCapped(file string, limit int64) string {
	st, err := os.Lstat(file)
	if err != nil || !st.Mode().IsRegular() || st.Size() > limit {
		return ""
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	return string(data)
}

// gatherDoc reads a document at the submission's root, its name matched case-insensitively.
func gatherDoc(dir, name string) (*SourceFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("gather %s: %w", name, err)
	}
	for _, e := range entries {
		if !strings.EqualFold(e.Name(), name) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("gather %s: %w", name, err)
		}
		if info.Size() > maxDocBytes {
			return &SourceFile{Path: e.Name(), Skipped: fmt.Sprintf("%s is over %d KiB", name, maxDocBytes>>10)}, nil
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("gather %s: %w", name, err)
		}
		return &SourceFile{Path: e.Name(), Data: string(data)}, nil
	}
	return nil, nil
}

// doc is a gathered document's content, or why there is none.
func doc(f *SourceFile, name string) ([]byte, error) {
	switch {
	case f == nil:
		return nil, os.ErrNotExist
	case f.Skipped != "":
		return nil, errors.New(f.Skipped)
	}
	return []byte(f.Data), nil
}

// gatherConfigFiles keeps the .env, .npmrc, JSON and YAML files a credential may hide in.
func gatherConfigFiles(root string) []SourceFile {
	var out []SourceFile
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != root && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !configFile(d.Name()) || len(out) >= maxConfigFiles {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil || info.Size() > maxConfigFileBytes {
			out = append(out, SourceFile{Path: filepath.ToSlash(rel), Skipped: "over the size cap"})
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		out = append(out, SourceFile{Path: filepath.ToSlash(rel), Data: string(data)})
		return nil
	})
	return out
}
