package safecopy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
)

// tree writes into a destination folder through an os.Root, so no name, however it is spelled
// and whatever was swapped in meanwhile, resolves outside it. It only ever makes folders and
// regular files.
type tree struct {
	root *os.Root
	made map[string]bool // folders known to exist, by slash-separated relative path
	buf  []byte          // copy buffer, reused across files
}

// writerOnly hides an *os.File's ReadFrom, whose generic path allocates a 32 KiB buffer a call,
// so that io.CopyBuffer uses the tree's buffer.
type writerOnly struct{ io.Writer }

// makeTree creates dst (which must not exist, and whose parent must) as an empty folder
// readable by a container user, and opens it as a root.
func makeTree(dst string) (*tree, error) {
	if err := os.Mkdir(dst, 0o755); err != nil {
		return nil, fmt.Errorf("make %s: %w", dst, err)
	}
	root, err := openTree(dst)
	if err != nil {
		return nil, errors.Join(err, os.Remove(dst))
	}
	return root, nil
}

func openTree(dst string) (*tree, error) {
	if err := os.Chmod(dst, 0o755); err != nil {
		return nil, fmt.Errorf("make %s: %w", dst, err)
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dst, err)
	}
	return &tree{root: root, made: map[string]bool{".": true}}, nil
}

func (t *tree) close() error { return t.root.Close() }

// mkdir makes one folder (its parent must exist). A folder already there is fine; anything
// else there is a conflict.
func (t *tree) mkdir(rel string) error {
	if t.made[rel] {
		return nil
	}
	err := t.root.Mkdir(rel, 0o755)
	if errors.Is(err, fs.ErrExist) {
		if st, serr := t.root.Lstat(rel); serr == nil && st.IsDir() {
			t.made[rel] = true
			return nil
		}
		return fmt.Errorf("%s is a folder where a file already is: %w", rel, ErrBadEntry)
	}
	if err != nil {
		return placeErr(rel, err)
	}
	// The mode given to mkdir is masked by the umask; a container user must still read it.
	if err := t.root.Chmod(rel, 0o755); err != nil {
		return placeErr(rel, err)
	}
	t.made[rel] = true
	return nil
}

// mkdirAll makes rel and every missing folder above it.
func (t *tree) mkdirAll(rel string) error {
	if rel == "." || t.made[rel] {
		return nil
	}
	if err := t.mkdirAll(path.Dir(rel)); err != nil {
		return err
	}
	return t.mkdir(rel)
}

// writeFile writes r into rel with perm. With exclusive the file must be new (a copy); without,
// a file already there is overwritten (archives may hold a name twice) but a folder is a
// conflict. It copies at most limit bytes and reports how many it copied; more arriving than
// limit is an error wrapping ErrOverCap.
func (t *tree) writeFile(rel string, perm fs.FileMode, r io.Reader, limit int64, exclusive bool) (int64, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if exclusive {
		flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	out, err := t.root.OpenFile(rel, flags, perm)
	if err != nil {
		if errors.Is(err, syscall.EISDIR) {
			return 0, fmt.Errorf("%s is a file where a folder already is: %w", rel, ErrBadEntry)
		}
		return 0, placeErr(rel, err)
	}
	n, err := t.copy(out, &io.LimitedReader{R: r, N: limit + 1})
	if err == nil && n > limit {
		err = fmt.Errorf("%w: %s holds more than the %d bytes left under the cap", ErrOverCap, rel, limit)
	}
	if err == nil {
		// The umask may have narrowed perm at creation, and an overwritten file keeps its mode.
		err = out.Chmod(perm)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, ErrOverCap) {
		err = fmt.Errorf("write %s: %w", rel, err)
	}
	return n, err
}

// copy copies r into out: file to file through the kernel (copy_file_range), anything else
// through the reused buffer.
func (t *tree) copy(out *os.File, r *io.LimitedReader) (int64, error) {
	if _, ok := r.R.(*os.File); ok {
		return io.Copy(out, r)
	}
	if t.buf == nil {
		t.buf = make([]byte, 32<<10)
	}
	return io.CopyBuffer(writerOnly{out}, r, t.buf)
}

// placeErr words an error making rel: a name the file system cannot hold, or a file standing
// where a folder is needed, is the tree's doing (ErrBadEntry); anything else is the host's.
func placeErr(rel string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%s: a file stands where a folder is needed: %w", rel, ErrBadEntry)
	case errors.Is(err, syscall.ENAMETOOLONG):
		return fmt.Errorf("%s: name too long: %w", rel, ErrBadEntry)
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s: already exists: %w", rel, ErrBadEntry)
	default:
		return fmt.Errorf("write %s: %w", rel, err)
	}
}
