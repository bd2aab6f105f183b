package safecopy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
)

// entry is one surveyed file or folder, by slash-separated path relative to the source.
type entry struct {
	rel  string
	dir  bool
	mode fs.FileMode
	size int64
}

// Copy copies the folder src into dst (which must not exist, and whose parent must). src must
// hold regular files and folders only: a symbolic link (wherever it points), a hard link (a
// file with more than one name), a device, a FIFO or a socket is refused with ErrNotRegular,
// and a tree over a cap with ErrOverCap, both before anything is written. Folders named in
// caps.SkipDirs are left out and reported. Folders are made 0755 and files 0644 (0755 when
// executable), so a container user can read them. Each source file is opened inside src
// without following a link and checked again against the survey; each write goes through an
// os.Root on dst. On an error dst is removed.
func Copy(src, dst string, caps Caps) (Report, error) {
	caps = caps.withDefaults()
	entries, rep, err := survey(src, caps)
	if err != nil {
		return rep, err
	}
	if err := copyEntries(src, dst, entries); err != nil {
		return rep, err
	}
	rep.Entries = len(entries)
	return rep, nil
}

// copyEntries writes the surveyed entries of src into a new dst, removing dst if it fails.
func copyEntries(src, dst string, entries []entry) (err error) {
	from, err := os.OpenRoot(src)
	if err != nil {
		return fmt.Errorf("open copy source: %w", err)
	}
	defer from.Close()
	to, err := makeTree(dst)
	if err != nil {
		return fmt.Errorf("make copy root: %w", err)
	}
	defer func() {
		err = errors.Join(err, to.close())
		if err != nil {
			err = errors.Join(err, os.RemoveAll(dst))
		}
	}()
	for _, e := range entries {
		if e.dir {
			err = to.mkdir(e.rel)
		} else {
			err = copyFile(from, to, e)
		}
		if err != nil {
			return fmt.Errorf("copy %s: %w", e.rel, err)
		}
	}
	return nil
}

// copyFile opens the source inside its root without following a link (it may have been
// swapped since the survey; O_NONBLOCK so a FIFO swapped in cannot hang the open), checks it is
// still the regular, single-named file of the surveyed size, and copies exactly that size.
func copyFile(from *os.Root, to *tree, e entry) error {
	in, err := from.OpenFile(e.rel, os.O_RDONLY|OpenNoFollow, 0)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if !st.Mode().IsRegular() || st.Size() != e.size || links(st) > 1 {
		return errors.New("changed since it was surveyed")
	}
	n, err := to.writeFile(e.rel, filePerm(e.mode), in, e.size, true)
	if err == nil && n != e.size {
		err = errors.New("changed since it was surveyed")
	}
	return err
}

// surveyor walks a source tree without following links, refusing what is not a regular file
// or folder and checking the caps as it goes.
type surveyor struct {
	root    *os.Root
	caps    Caps
	skip    map[string]bool
	rep     Report
	entries []entry
}

// survey walks src and returns its entries (each folder before what it holds), or the first
// refusal. It stops at the first entry over a cap, never listing more of a huge folder than
// it needs.
func survey(src string, caps Caps) ([]entry, Report, error) {
	if st, err := os.Lstat(src); err != nil || !st.IsDir() {
		return nil, Report{}, fmt.Errorf("copy source %s is not a directory", src)
	}
	root, err := os.OpenRoot(src)
	if err != nil {
		return nil, Report{}, fmt.Errorf("open copy source: %w", err)
	}
	defer root.Close()
	s := &surveyor{root: root, caps: caps, skip: caps.skipSet()}
	err = s.walk(".", 0)
	return s.entries, s.rep, err
}

// walk lists one folder in batches, visiting each entry (and descending into folders) as it
// goes.
func (s *surveyor) walk(dir string, depth int) error {
	f, err := s.root.Open(dir)
	if err != nil {
		return fmt.Errorf("survey %s: %w", dir, err)
	}
	defer f.Close()
	for {
		batch, err := f.ReadDir(256)
		for _, d := range batch {
			if verr := s.visit(path.Join(dir, d.Name()), d, depth+1); verr != nil {
				return verr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("survey %s: %w", dir, err)
		}
	}
}

// visit checks one entry against the rules and the caps, records it, and descends into it
// when it is a folder.
func (s *surveyor) visit(rel string, d fs.DirEntry, depth int) error {
	if d.IsDir() && s.skip[d.Name()] {
		s.rep.Skipped = append(s.rep.Skipped, Skipped{Path: rel, Reason: d.Name() + " folders are left out"})
		return nil
	}
	if depth > s.caps.MaxDepth {
		return fmt.Errorf("%w: %s is nested deeper than %d directories", ErrOverCap, rel, s.caps.MaxDepth)
	}
	if len(s.entries) >= s.caps.MaxFiles {
		return fmt.Errorf("%w: more than %d files and directories", ErrOverCap, s.caps.MaxFiles)
	}
	if d.IsDir() {
		s.entries = append(s.entries, entry{rel: rel, dir: true})
		return s.walk(rel, depth)
	}
	if !d.Type().IsRegular() {
		return notRegular(rel, kindOf(d.Type()))
	}
	info, err := d.Info()
	if err != nil {
		return fmt.Errorf("survey %s: %w", rel, err)
	}
	if !info.Mode().IsRegular() {
		return notRegular(rel, kindOf(info.Mode()))
	}
	if n := links(info); n > 1 {
		return notRegular(rel, fmt.Sprintf("a hard link (one of %d names of the same file)", n))
	}
	s.rep.Bytes += info.Size()
	if s.rep.Bytes > s.caps.MaxBytes {
		return fmt.Errorf("%w: more than %d bytes", ErrOverCap, s.caps.MaxBytes)
	}
	s.entries = append(s.entries, entry{rel: rel, mode: info.Mode(), size: info.Size()})
	return nil
}
