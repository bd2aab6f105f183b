//go:build !unix

package safecopy

import "io/fs"

// OpenNoFollow is none: the grader grades on Linux only (its sandbox is Linux containers).
// Elsewhere the binary is built for `grader mock` and `grader kit`, which copy no submission.
const OpenNoFollow = 0

// links is not known here: one name.
func links(fs.FileInfo) uint64 { return 1 }
