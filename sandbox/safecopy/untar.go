package safecopy

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// TarOptions shape an extraction.
type TarOptions struct {
	// Caps bound the archive as it is read: every entry seen counts against MaxFiles (entries
	// under a SkipDirs folder too: a stream cannot skip them unread), the bytes actually
	// written against MaxBytes, and each entry's depth after stripping against MaxDepth.
	Caps Caps
	// StripComponents drops this many leading folders from every name (1 for npm's
	// "package/"); an entry left with no name, like the top folder itself, is skipped.
	StripComponents int
	// SkipLinks skips symbolic and hard links (reporting each) rather than refusing the
	// archive: npm's own extractor drops links from package tarballs.
	SkipLinks bool
}

// Untar extracts a tar stream (the caller gunzips it if need be) into dst, which it creates
// (dst must not exist; its parent must). Only regular files and folders are written: links are
// refused with ErrNotRegular (or skipped, with SkipLinks), and devices, FIFOs and every other
// kind are refused. A name that is absolute, holds a ".." component, a backslash or NUL is
// refused with ErrBadEntry, as is a file where a folder already is, or the reverse. A file that
// appears twice is overwritten. Missing parent folders are made. Modes are normalised: folders
// 0755, files 0644 (0755 when any exec bit is set). Every write goes through an os.Root on
// dst. On an error dst is removed, so a refused archive leaves nothing behind.
func Untar(r io.Reader, dst string, opts TarOptions) (rep Report, err error) {
	x := &extraction{opts: opts, caps: opts.Caps.withDefaults(), skip: opts.Caps.skipSet(), skipped: map[string]bool{}}
	if x.to, err = makeTree(dst); err != nil {
		return rep, fmt.Errorf("make extraction root: %w", err)
	}
	defer func() {
		err = errors.Join(err, x.to.close())
		if err != nil {
			err = errors.Join(err, os.RemoveAll(dst))
		}
		rep = x.rep
	}()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return x.rep, nil
		}
		if err != nil {
			return x.rep, fmt.Errorf("read archive: %w", err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return x.rep, err
		}
	}
}

// extraction is one Untar under way.
type extraction struct {
	opts    TarOptions
	caps    Caps
	skip    map[string]bool
	to      *tree
	seen    int
	skipped map[string]bool // SkipDirs folders already reported
	rep     Report
}

// entry handles one header: counts it, checks its name, and writes, skips or refuses it.
func (x *extraction) entry(hdr *tar.Header, data io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // archive-wide metadata (git archive's commit id), not an entry
	}
	x.seen++
	if x.seen > x.caps.MaxFiles {
		return fmt.Errorf("%w: more than %d entries", ErrOverCap, x.caps.MaxFiles)
	}
	parts, err := entryName(hdr.Name, x.opts.StripComponents)
	if err != nil || parts == nil {
		return err
	}
	rel := strings.Join(parts, "/")
	if len(parts) > x.caps.MaxDepth {
		return fmt.Errorf("%w: %s is nested deeper than %d directories", ErrOverCap, rel, x.caps.MaxDepth)
	}
	if x.skipDir(parts, hdr.Typeflag == tar.TypeDir) {
		return nil
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.dir(rel)
	case tar.TypeReg:
		return x.file(rel, hdr, data)
	case tar.TypeSymlink, tar.TypeLink:
		return x.link(rel, hdr.Typeflag)
	default:
		return notRegular(rel, tarKind(hdr.Typeflag))
	}
}

// entryName checks an entry's name and returns its components after stripping, or nil when
// none are left.
func entryName(name string, strip int) ([]string, error) {
	switch {
	case name == "":
		return nil, fmt.Errorf("an entry has no name: %w", ErrBadEntry)
	case strings.ContainsAny(name, "\\\x00"):
		return nil, fmt.Errorf("%q holds a backslash or NUL: %w", name, ErrBadEntry)
	case strings.HasPrefix(name, "/"):
		return nil, fmt.Errorf("%s is an absolute name: %w", name, ErrBadEntry)
	}
	var parts []string
	for part := range strings.SplitSeq(name, "/") {
		switch part {
		case "", ".":
		case "..":
			return nil, fmt.Errorf("%s climbs with \"..\": %w", name, ErrBadEntry)
		default:
			parts = append(parts, part)
		}
	}
	if len(parts) <= strip {
		return nil, nil
	}
	return parts[strip:], nil
}

// skipDir reports whether the entry lies in (or is) a folder named in SkipDirs, reporting each
// such folder once.
func (x *extraction) skipDir(parts []string, isDir bool) bool {
	last := len(parts) - 1
	if isDir {
		last++
	}
	for i := range last {
		if !x.skip[parts[i]] {
			continue
		}
		folder := strings.Join(parts[:i+1], "/")
		if !x.skipped[folder] {
			x.skipped[folder] = true
			x.rep.Skipped = append(x.rep.Skipped, Skipped{Path: folder, Reason: parts[i] + " folders are left out"})
		}
		return true
	}
	return false
}

func (x *extraction) dir(rel string) error {
	if err := x.to.mkdirAll(rel); err != nil {
		return err
	}
	x.rep.Entries++
	return nil
}

// file writes one regular file, refusing it from its declared size when that alone passes the
// byte cap, and counting the bytes that actually arrive otherwise.
func (x *extraction) file(rel string, hdr *tar.Header, data io.Reader) error {
	left := x.caps.MaxBytes - x.rep.Bytes
	if hdr.Size > left {
		return fmt.Errorf("%w: %s (%d bytes) passes the cap of %d bytes", ErrOverCap, rel, hdr.Size, x.caps.MaxBytes)
	}
	if err := x.to.mkdirAll(parentOf(rel)); err != nil {
		return err
	}
	n, err := x.to.writeFile(rel, filePerm(fs.FileMode(hdr.Mode&0o777)), data, left, false)
	x.rep.Bytes += n
	if err != nil {
		return err
	}
	x.rep.Entries++
	return nil
}

func (x *extraction) link(rel string, flag byte) error {
	kind := "a symbolic link"
	if flag == tar.TypeLink {
		kind = "a hard link"
	}
	if !x.opts.SkipLinks {
		return notRegular(rel, kind)
	}
	x.rep.Skipped = append(x.rep.Skipped, Skipped{Path: rel, Reason: kind + " (links are not extracted)"})
	return nil
}

// parentOf is the folder holding rel ("." at the top).
func parentOf(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return "."
}

// tarKind names a tar entry type that is neither a file, a folder nor a link.
func tarKind(flag byte) string {
	switch flag {
	case tar.TypeChar:
		return "a character device"
	case tar.TypeBlock:
		return "a block device"
	case tar.TypeFifo:
		return "a FIFO"
	default:
		return fmt.Sprintf("an archive entry of type %q", flag)
	}
}
