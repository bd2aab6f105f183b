package githubtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"time"
)

// Entry is one member of a test archive, written raw so that it can lie as no tar.Writer
// would let it.
type Entry struct {
	Name     string // the full name in the archive, top folder included
	Type     byte   // tar.TypeReg when zero
	Body     string
	Mode     int64 // 0644 (0755 for a folder) when zero
	Linkname string
	// DeclaredSize, when not zero, is the size the header declares instead of len(Body): a
	// header that lies (the body runs on into where the next header should be, or stops short).
	DeclaredSize int64
}

// TopFolder is the folder GitHub puts a tarball's content in: OWNER-REPO-SHORTSHA.
func TopFolder(owner, repo, sha string) string { return owner + "-" + repo + "-" + sha[:7] }

// Tarball is GitHub's tarball of commit sha holding files (slash-separated name to content):
// git archive's pax global header whose comment is the commit, the top folder, each folder
// before its files, sorted, gzipped, the tar padded to git archive's 10 KiB records.
func Tarball(owner, repo, sha string, files map[string]string) []byte {
	top := TopFolder(owner, repo, sha)
	entries := []Entry{{Name: top + "/", Type: tar.TypeDir}}
	made := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		for _, folder := range parents(name) {
			if !made[folder] {
				made[folder] = true
				entries = append(entries, Entry{Name: top + "/" + folder + "/", Type: tar.TypeDir})
			}
		}
		entries = append(entries, Entry{Name: top + "/" + name, Body: files[name]})
	}
	return Archive(sha, entries...)
}

// Archive is a gzip tarball of entries, after a pax global header whose comment is comment
// (none when comment is empty), as raw blocks.
func Archive(comment string, entries ...Entry) []byte {
	var out bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err := WriteTar(gz, comment, entries...); err != nil {
		panic(err) // writing to memory fails only on a header no tar can hold: a test's mistake
	}
	if err := gz.Close(); err != nil {
		panic(err)
	}
	return out.Bytes()
}

// WriteTar writes the uncompressed tar of Archive to w.
func WriteTar(w io.Writer, comment string, entries ...Entry) error {
	cw := &countingWriter{w: w}
	if comment != "" {
		global := &tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": comment}}
		if err := writeHeader(cw, global); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if err := writeEntry(cw, e); err != nil {
			return err
		}
	}
	end := 1024 + (10240-(cw.n+1024)%10240)%10240 // two zero blocks, then padding to a record
	_, err := cw.Write(make([]byte, end))
	return err
}

// writeEntry writes e's header as declared and its body as it is, padded to a block.
func writeEntry(w io.Writer, e Entry) error {
	hdr := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Linkname: e.Linkname, Size: int64(len(e.Body)),
		ModTime: time.Unix(1_700_000_000, 0), Uname: "root", Gname: "root"}
	if hdr.Typeflag == 0 {
		hdr.Typeflag = tar.TypeReg
	}
	if hdr.Mode == 0 {
		hdr.Mode = 0o644
		if hdr.Typeflag == tar.TypeDir {
			hdr.Mode = 0o755
		}
	}
	if hdr.Typeflag != tar.TypeReg {
		hdr.Size = 0
	}
	if e.DeclaredSize != 0 {
		hdr.Size = e.DeclaredSize
	}
	if err := writeHeader(w, hdr); err != nil {
		return err
	}
	if _, err := io.WriteString(w, e.Body); err != nil {
		return err
	}
	_, err := w.Write(make([]byte, (512-len(e.Body)%512)%512))
	return err
}

// writeHeader writes hdr's blocks (with any pax extended header, or a global header's
// records) and nothing else: the body is the caller's to write, as long as it likes.
func writeHeader(w io.Writer, hdr *tar.Header) error {
	var blocks bytes.Buffer
	if err := tar.NewWriter(&blocks).WriteHeader(hdr); err != nil {
		return fmt.Errorf("tar header %q: %w", hdr.Name, err)
	}
	// A global header's records are padded by the next header tar.Writer would write.
	blocks.Write(make([]byte, (512-blocks.Len()%512)%512))
	_, err := w.Write(blocks.Bytes())
	return err
}

type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// parents are the folders above name, outermost first.
func parents(name string) []string {
	var out []string
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		out = append(out, dir)
	}
	slices.Reverse(out)
	return out
}
