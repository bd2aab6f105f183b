package deps

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/itsm-grader/grader/sandbox/safecopy"
)

// Size caps on what Read parses. The corpus' largest lockfile (heavy-deps, 83 entries) is
// 30 KiB and a lockfile of 2,000 packages about 1 MiB; 16 MiB leaves room for any real one
// while bounding the memory a hostile one takes. A package.json is a few KiB.
const (
	maxManifestBytes = 1 << 20
	maxLockBytes     = 16 << 20
)

// lockNames are the lockfiles npm reads, in its order: a shrinkwrap wins.
var lockNames = []string{"npm-shrinkwrap.json", "package-lock.json"}

// errMissing marks a file that is not in the submission.
var errMissing = errors.New("missing")

// Read finds and reads package.json and the lockfile (npm-shrinkwrap.json first, then
// package-lock.json) of a submission folder, with size caps, and plans the install.
// No lockfile and no runtime dependencies: nil, nil. Dependencies but no lockfile: a Refusal.
// Each file must be a regular file in dir itself: a symlink, folder, FIFO or device is
// refused without being opened for reading.
func Read(dir string) ([]Package, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open submission folder: %w", err)
	}
	defer root.Close()
	manifest, err := readCapped(root, "package.json", maxManifestBytes)
	if errors.Is(err, errMissing) {
		return nil, refuse("package.json", "missing: the submission must be an npm package")
	}
	if err != nil {
		return nil, err
	}
	for _, name := range lockNames {
		lock, err := readCapped(root, name, maxLockBytes)
		if errors.Is(err, errMissing) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return Plan(manifest, name, lock)
	}
	return Plan(manifest, "", nil)
}

// readCapped reads one regular file of root, at most limit bytes, whatever its size claims.
func readCapped(root *os.Root, name string, limit int64) ([]byte, error) {
	info, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", name, errMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		return nil, refuse(name, "not a regular file (%v): a submission holds regular files and folders only", info.Mode().Type())
	}
	// O_NOFOLLOW and O_NONBLOCK: should the file have been swapped for a link or a FIFO since
	// Lstat, the open fails or returns at once instead of following it or blocking.
	f, err := root.OpenFile(name, os.O_RDONLY|safecopy.OpenNoFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, refuse(name, "larger than the cap of %d MiB", limit>>20)
	}
	return data, nil
}
