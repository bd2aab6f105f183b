package sandbox

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// File is one entry the candidate left in /tmp, read from a tar stream as data: nothing on the
// host follows a link the candidate made or writes where the candidate could.
type File struct {
	Path       string // relative to /tmp
	Type       string // "file", "dir", "symlink", "hardlink", "other"
	Size       int64
	Mode       int64
	LinkTarget string `json:",omitempty"`
	Data       []byte `json:",omitempty"` // regular files: the first bytes, up to the cap
	Truncated  bool   `json:",omitempty"`
}

// maxTmpEntries caps how many entries of /tmp are reported.
const maxTmpEntries = 1000

// readTmpTar parses the tar of the candidate's /tmp (as the mock container sees it). keep is how
// much of each regular file is kept.
func readTmpTar(r io.Reader, keep int) ([]File, bool, error) {
	tr := tar.NewReader(r)
	var files []File
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, false, nil
		}
		if err != nil {
			return files, false, fmt.Errorf("read /tmp archive: %w", err)
		}
		rel := tmpRelative(h.Name)
		if rel == "" {
			continue // the directory itself
		}
		if len(files) == maxTmpEntries {
			return files, true, nil
		}
		f := File{Path: rel, Size: h.Size, Mode: h.Mode & 0o7777, Type: tarType(h.Typeflag), LinkTarget: h.Linkname}
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(io.LimitReader(tr, int64(keep)))
			if err != nil {
				return files, false, fmt.Errorf("read %s from /tmp archive: %w", rel, err)
			}
			f.Data, f.Truncated = data, h.Size > int64(len(data))
		}
		files = append(files, f)
	}
}

// tmpRelative strips the archive's top directory ("candidate-tmp/") from a name.
func tmpRelative(name string) string {
	name = path.Clean("/" + name)
	_, rest, _ := strings.Cut(strings.TrimPrefix(name, "/"), "/")
	return rest
}

func tarType(t byte) string {
	switch t {
	case tar.TypeReg:
		return "file"
	case tar.TypeDir:
		return "dir"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hardlink"
	default:
		return "other"
	}
}
