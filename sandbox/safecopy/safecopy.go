// Package safecopy copies an untrusted directory tree (a submission, a bundle) without ever
// following a link out of it, after checking documented caps on its size: a tree over the caps
// is refused before a single byte is copied. Judge0's sandbox escapes (CVE-2024-28185,
// CVE-2024-28189) came through symlinks in submissions; this is the guard against that class.
package safecopy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Caps bound a tree.
type Caps struct {
	// MaxFiles counts every entry (files, directories, links). Default 5,000: a TypeScript
	// client with its lockfile-installed dependencies stays far below.
	MaxFiles int
	// MaxBytes is the total size of regular files. Default 100 MiB.
	MaxBytes int64
	// MaxDepth is the deepest directory nesting. Default 40.
	MaxDepth int
}

// DefaultCaps are the caps where a caller sets none.
func DefaultCaps() Caps { return Caps{MaxFiles: 5000, MaxBytes: 100 << 20, MaxDepth: 40} }

func (c Caps) withDefaults() Caps {
	d := DefaultCaps()
	if c.MaxFiles == 0 {
		c.MaxFiles = d.MaxFiles
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.MaxDepth == 0 {
		c.MaxDepth = d.MaxDepth
	}
	return c
}

// ErrOverCap is returned (wrapped) when a tree exceeds a cap.
var ErrOverCap = errors.New("tree exceeds a cap")

// Skipped is an entry left out of the copy, and why.
type Skipped struct {
	Path   string
	Reason string
}

// Report says what was copied.
type Report struct {
	Entries int
	Bytes   int64
	Skipped []Skipped
}

type entry struct {
	rel  string
	mode fs.FileMode
	size int64
	link string // symlink target, kept only when it stays inside the tree
}

// Copy copies src into dst (which must not exist). Symlinks whose target stays inside src are
// recreated as symlinks; any other symlink, and any device, pipe or socket, is skipped and
// reported. Directories are made 0755 and files 0644 (0755 when executable), so a container
// user can read them.
func Copy(src, dst string, caps Caps) (Report, error) {
	caps = caps.withDefaults()
	entries, rep, err := survey(src, caps)
	if err != nil {
		return rep, err
	}
	if err := os.Mkdir(dst, 0o755); err != nil {
		return rep, fmt.Errorf("make copy root: %w", err)
	}
	if err := os.Chmod(dst, 0o755); err != nil {
		return rep, fmt.Errorf("make copy root: %w", err)
	}
	for _, e := range entries {
		if err := place(src, dst, e); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// survey walks src without following links and checks the caps before anything is copied.
func survey(src string, caps Caps) ([]entry, Report, error) {
	var (
		rep     Report
		entries []entry
	)
	root, err := filepath.Abs(src)
	if err != nil {
		return nil, rep, fmt.Errorf("resolve %s: %w", src, err)
	}
	if st, err := os.Lstat(root); err != nil || !st.IsDir() {
		return nil, rep, fmt.Errorf("copy source %s is not a directory", src)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		if depth := strings.Count(rel, string(filepath.Separator)) + 1; depth > caps.MaxDepth {
			return fmt.Errorf("%w: %s is nested deeper than %d directories", ErrOverCap, rel, caps.MaxDepth)
		}
		rep.Entries++
		if rep.Entries > caps.MaxFiles {
			return fmt.Errorf("%w: more than %d files and directories", ErrOverCap, caps.MaxFiles)
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", rel, err)
		}
		e, skip := classify(root, p, rel, info)
		if skip != "" {
			rep.Skipped = append(rep.Skipped, Skipped{Path: rel, Reason: skip})
			return nil
		}
		rep.Bytes += e.size
		if rep.Bytes > caps.MaxBytes {
			return fmt.Errorf("%w: more than %d bytes", ErrOverCap, caps.MaxBytes)
		}
		entries = append(entries, e)
		return nil
	})
	return entries, rep, err
}

func classify(root, p, rel string, info fs.FileInfo) (entry, string) {
	e := entry{rel: rel, mode: info.Mode()}
	switch {
	case info.Mode().IsRegular():
		e.size = info.Size()
	case info.IsDir():
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return e, "unreadable symlink"
		}
		if !inside(root, filepath.Dir(p), target) {
			return e, "symlink out of the tree: " + target
		}
		e.link = target
	default:
		return e, "not a regular file, directory or symlink"
	}
	return e, ""
}

// inside reports whether a link target, read relative to dir, stays within root (lexically: the
// copy recreates the link, never reads through it).
func inside(root, dir, target string) bool {
	if filepath.IsAbs(target) {
		return false
	}
	resolved := filepath.Clean(filepath.Join(dir, target))
	return resolved == root || strings.HasPrefix(resolved, root+string(filepath.Separator))
}

func place(src, dst string, e entry) error {
	to := filepath.Join(dst, e.rel)
	switch {
	case e.mode.IsDir():
		if err := os.Mkdir(to, 0o755); err != nil {
			return fmt.Errorf("copy %s: %w", e.rel, err)
		}
		return os.Chmod(to, 0o755)
	case e.link != "":
		if err := os.Symlink(e.link, to); err != nil {
			return fmt.Errorf("copy %s: %w", e.rel, err)
		}
		return nil
	default:
		return copyFile(filepath.Join(src, e.rel), to, e)
	}
}

// copyFile opens the source without following a link (it may have been swapped for one since
// the survey) and copies at most the surveyed size.
func copyFile(from, to string, e entry) error {
	in, err := os.OpenFile(from, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("copy %s: %w", e.rel, err)
	}
	defer in.Close()
	if st, err := in.Stat(); err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("copy %s: changed since it was surveyed", e.rel)
	}
	perm := os.FileMode(0o644)
	if e.mode&0o111 != 0 {
		perm = 0o755
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("copy %s: %w", e.rel, err)
	}
	_, err = io.Copy(out, io.LimitReader(in, e.size))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(to, perm)
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", e.rel, err)
	}
	return nil
}
