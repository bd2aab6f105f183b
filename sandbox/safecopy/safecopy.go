// Package safecopy lays out untrusted trees on the host: it copies a folder (a submission, a
// bundle) and extracts a tar stream (a container's output, a git archive, an npm tarball).
// Either way the result holds regular files and folders only: a symbolic link, a hard link, a
// device, a FIFO or a socket is refused before anything is written, and every write goes
// through an os.Root opened on the destination, so no path can leave it. Documented caps on
// entries, bytes and depth are checked before a copy starts, and as an archive is read.
// Judge0's sandbox escapes (CVE-2024-28185, CVE-2024-28189) came through symlinks in
// submissions; a chain of links that each looked in-tree once let a write land on the host
// here too. A tree without links cannot be led anywhere.
package safecopy

import (
	"errors"
	"fmt"
	"io/fs"
)

// Caps bound a tree.
type Caps struct {
	// MaxFiles counts every entry (files and directories). Default 5,000: a TypeScript client
	// with its lockfile-installed dependencies stays far below.
	MaxFiles int
	// MaxBytes is the total size of regular files. Default 100 MiB.
	MaxBytes int64
	// MaxDepth is the deepest nesting of an entry (a/b/c.txt is 3 deep). Default 40.
	MaxDepth int
	// SkipDirs are folder names left out wherever they appear (callers pass node_modules and
	// .git: a committed node_modules is never graded, the lockfile says what is installed).
	// Copy neither counts nor descends into them; each is reported in Report.Skipped.
	SkipDirs []string
}

// DefaultCaps are the caps where a caller sets none.
func DefaultCaps() Caps { return Caps{MaxFiles: 5000, MaxBytes: 100 << 20, MaxDepth: 40} }

func (c Caps) withDefaults() Caps {
	d := DefaultCaps()
	if c.MaxFiles <= 0 {
		c.MaxFiles = d.MaxFiles
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = d.MaxDepth
	}
	return c
}

// skipSet is SkipDirs as a set.
func (c Caps) skipSet() map[string]bool {
	set := make(map[string]bool, len(c.SkipDirs))
	for _, name := range c.SkipDirs {
		set[name] = true
	}
	return set
}

// ErrOverCap is returned (wrapped) when a tree exceeds a cap.
var ErrOverCap = errors.New("tree exceeds a cap")

// ErrNotRegular is returned (wrapped, after the path and what it is) for an entry that is not a
// regular file or a folder: a symbolic link, a hard link, a device, a FIFO, a socket.
var ErrNotRegular = errors.New("a submission holds regular files and folders only")

// ErrBadEntry is returned (wrapped) for an archive entry whose name or place is refused: an
// absolute name, a name with "..", a backslash or NUL, a file where a folder is or the reverse.
var ErrBadEntry = errors.New("archive entry refused")

// Skipped is an entry left out of the copy, and why.
type Skipped struct {
	Path   string
	Reason string
}

// Report says what was copied or extracted.
type Report struct {
	Entries int   // files and folders written
	Bytes   int64 // bytes written to files
	Skipped []Skipped
}

// notRegular is the error for an entry of the kind named.
func notRegular(rel, kind string) error {
	return fmt.Errorf("%s is %s: %w", rel, kind, ErrNotRegular)
}

// kindOf names what a non-regular mode is, for the error.
func kindOf(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	case mode&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	default:
		return "neither a regular file nor a folder"
	}
}

// filePerm is the mode a copied or extracted file gets: 0755 when any exec bit is set, else
// 0644, so a container user can read it and nothing else carries over.
func filePerm(mode fs.FileMode) fs.FileMode {
	if mode&0o111 != 0 {
		return 0o755
	}
	return 0o644
}
