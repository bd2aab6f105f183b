package github

import (
	"archive/tar"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/itsm-grader/grader/grader/intake"
	"github.com/itsm-grader/grader/sandbox/safecopy"
)

// ErrUnexpectedArchive is wrapped by the errors for an archive that is not what GitHub makes:
// not gzip, a malformed tar, no pax header naming the commit, or a commit other than the one
// resolved. That is the server's doing (or the network's), never the candidate's, so it is not
// an intake.ErrRefused: a grading stops with an error instead of a finding.
var ErrUnexpectedArchive = errors.New("GitHub's archive is not what was asked for")

// Limits bound one download and extraction.
type Limits struct {
	// Caps bound the extracted tree, counted as the archive is read (safecopy's defaults where
	// zero). node_modules and .git folders are always left out.
	Caps safecopy.Caps
	// MaxArchiveBytes caps the archive as downloaded and again as decompressed: what a
	// left-out node_modules holds is streamed too. Default 100 MiB.
	MaxArchiveBytes int64
	// Timeout caps the whole fetch; rate-limit waits may add up to MaxRateLimitWait. Default 2
	// minutes.
	Timeout time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxArchiveBytes <= 0 {
		l.MaxArchiveBytes = 100 << 20
	}
	if l.Timeout <= 0 {
		l.Timeout = 2 * time.Minute
	}
	l.Caps.SkipDirs = append(append([]string(nil), l.Caps.SkipDirs...), intake.SkippedDirs...)
	return l
}

// trailingMax is what may follow the tar's end marker: git archive pads to 10 KiB records.
const trailingMax = 1 << 20

// extractTarball lays out GitHub's gzip tarball of commit sha in dir, which it creates. The
// first entry must be the pax global header whose comment is sha; the top folder
// (OWNER-REPO-SHORTSHA/) is stripped whatever its name; safecopy.Untar writes regular files
// and folders only, through an os.Root, under the caps, counting bytes as they arrive. A
// refused tree wraps intake.ErrRefused; an archive GitHub would not make wraps
// ErrUnexpectedArchive. On an error dir is removed.
func extractTarball(body io.Reader, dir, sha string, lim Limits) (safecopy.Report, error) {
	download := &capReader{r: body, limit: lim.MaxArchiveBytes, what: "the download"}
	gz, err := gzip.NewReader(download)
	if err != nil {
		return safecopy.Report{}, overCap(fmt.Errorf("%w: not gzip: %w", ErrUnexpectedArchive, err), download)
	}
	defer gz.Close()
	gz.Multistream(false)
	stream := &capReader{r: gz, limit: lim.MaxArchiveBytes, what: "the decompressed archive"}
	head, err := checkPaxHeader(stream, sha)
	if err != nil {
		return safecopy.Report{}, overCap(err, stream, download)
	}
	rep, err := safecopy.Untar(io.MultiReader(head, stream), dir, safecopy.TarOptions{Caps: lim.Caps, StripComponents: 1})
	if err == nil {
		err = drainEnd(stream)
		if err != nil {
			err = errors.Join(err, os.RemoveAll(dir))
		}
	}
	return rep, overCap(classify(err), stream, download)
}

// checkPaxHeader reads the archive's first entry, which must be git archive's pax global
// header whose comment is sha, and returns the bytes it read, to be read again by the
// extraction (which passes over global headers).
func checkPaxHeader(stream io.Reader, sha string) (*bytes.Buffer, error) {
	head := &bytes.Buffer{}
	hdr, err := tar.NewReader(io.TeeReader(stream, head)).Next()
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: read the first entry: %w", ErrUnexpectedArchive, err)
	case hdr.Typeflag != tar.TypeXGlobalHeader:
		return nil, fmt.Errorf("%w: the first entry, %q, is not the pax global header naming the commit", ErrUnexpectedArchive, hdr.Name)
	case hdr.PAXRecords["comment"] != sha:
		return nil, fmt.Errorf("%w: the archive is of commit %.80q, not %s", ErrUnexpectedArchive, hdr.PAXRecords["comment"], sha)
	}
	return head, nil
}

// drainEnd reads what follows the end marker to the end of the gzip stream (which checks its
// checksum and length): padding only, and not much of it.
func drainEnd(stream io.Reader) error {
	n, err := io.Copy(io.Discard, io.LimitReader(stream, trailingMax+1))
	switch {
	case err != nil:
		return fmt.Errorf("%w: after the end of the archive: %w", ErrUnexpectedArchive, err)
	case n > trailingMax:
		return fmt.Errorf("%w: more than %d bytes after the end of the archive", ErrUnexpectedArchive, trailingMax)
	}
	return nil
}

// classify wraps a safecopy refusal (a link, a device, a name refused, a cap) in
// intake.ErrRefused, as intake does for a git archive, and a malformed gzip or tar stream in
// ErrUnexpectedArchive. Anything else (the network, the host's disk) stays a plain error.
func classify(err error) error {
	var corrupt flate.CorruptInputError
	switch {
	case err == nil, errors.Is(err, ErrUnexpectedArchive), errors.Is(err, errOverCap):
		return err
	case errors.Is(err, safecopy.ErrNotRegular), errors.Is(err, safecopy.ErrOverCap), errors.Is(err, safecopy.ErrBadEntry):
		return fmt.Errorf("%w: extract the repository: %w", intake.ErrRefused, err)
	case errors.Is(err, tar.ErrHeader), errors.Is(err, tar.ErrFieldTooLong), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		return fmt.Errorf("%w: malformed: %w", ErrUnexpectedArchive, err)
	}
	return fmt.Errorf("extract the repository: %w", err)
}

// overCap turns err into the cap's refusal when one of readers ran past its cap.
func overCap(err error, readers ...*capReader) error {
	for _, r := range readers {
		if err != nil && r.over {
			return fmt.Errorf("%w: %w: %s passes the cap of %d bytes", intake.ErrRefused, safecopy.ErrOverCap, r.what, r.limit)
		}
	}
	return err
}

// capReader reads at most limit bytes from r and fails past them, remembering that it did.
type capReader struct {
	r     io.Reader
	limit int64
	read  int64
	what  string
	over  bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, errOverCap
	}
	if c.read >= c.limit {
		// One byte more tells a stream that ends exactly at the cap from one that goes on.
		var one [1]byte
		if n, err := io.ReadFull(c.r, one[:]); n == 0 {
			return 0, err
		}
		c.over = true
		return 0, errOverCap
	}
	if room := c.limit - c.read; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

// errOverCap is what a capReader past its cap returns to its reader.
var errOverCap = errors.New("over the byte cap")
