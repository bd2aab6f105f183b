package static

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/itsm-grader/grader/grader/evidence"
)

// Caps of the code kept with the evidence: a client of the brief is a few hundred lines.
const (
	maxCodeFileBytes  = 256 << 10
	maxCodeTotalBytes = 1 << 20
)

// ReadCode reads the submission's TypeScript files (the host's own copy: regular files and
// folders only), node_modules and declaration files left out, as bytes under caps: a file over
// its cap, or past the total, is left out.
func ReadCode(dir string) ([]evidence.CodeFile, error) {
	var out []evidence.CodeFile
	total := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() || !isCode(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > maxCodeFileBytes || total+int(info.Size()) > maxCodeTotalBytes {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		total += len(data)
		out = append(out, evidence.CodeFile{Path: filepath.ToSlash(rel), Data: string(data)})
		return nil
	})
	return out, err
}

func isCode(name string) bool {
	if strings.HasSuffix(name, ".d.ts") {
		return false
	}
	switch filepath.Ext(name) {
	case ".ts", ".tsx", ".mts", ".cts":
		return true
	}
	return false
}
