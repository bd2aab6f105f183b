//go:build unix

package safecopy

import (
	"io/fs"
	"syscall"
)

// OpenNoFollow are the open flags for a file surveyed as regular: should it have been swapped
// for a link or a FIFO since, the open fails or returns at once instead of following it or
// blocking.
const OpenNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// links is how many names a file has.
func links(info fs.FileInfo) uint64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
