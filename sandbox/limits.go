package sandbox

import (
	"fmt"
	"time"
)

// Limits bound one candidate run. Every field has a default (DefaultLimits) chosen for the
// exercise: a client that syncs 28 tickets needs far less of everything, so hitting a limit is
// itself a finding, never a measurement error.
type Limits struct {
	// Wall is the longest the candidate may run; then it is killed and the run marked TimedOut.
	// Default 90 s: the brief's budget is 30 s per request, and a scenario is sized to finish well
	// inside this; a scenario may set its own.
	Wall time.Duration
	// MemoryBytes caps memory with no swap. Default 512 MiB: Node 24 with a small client uses
	// under 100 MiB; a memory bomb is stopped long before it troubles the host.
	MemoryBytes int64
	// CPUs is the CPU quota. Default 1: one core, so a busy loop shows as about 1 s of CPU per
	// second of wall time, and eight runs in parallel cannot starve the mock.
	CPUs float64
	// Pids caps processes and threads. Default 256: Node starts about a dozen threads; a fork
	// bomb stops at the cap.
	Pids int64
	// TmpBytes is the size of the tmpfs at /tmp, the only writable place. Default 16 MiB.
	TmpBytes int64
	// TmpInodes caps how many files, directories and links /tmp can hold (tmpfs nr_inodes; /tmp
	// itself is one). Default 4096: a client needs a handful of files and a tool (the TypeScript
	// analyzer, the bundler) a few thousand at most. Without it tmpfs allows one inode for every
	// two pages of the host's RAM, and each empty file costs kernel memory that TmpBytes does
	// not count.
	TmpInodes int64
	// NoFile caps open file descriptors. Default 1024.
	NoFile int64
	// FileBytes caps the size of any one file written (RLIMIT_FSIZE). Default 16 MiB.
	FileBytes int64
	// OutputBytes is how much of stdout and of stderr is kept; the rest is counted and dropped.
	// Default 1 MiB each.
	OutputBytes int
	// JournalBytes caps the mock's journal read back. Default 64 MiB (50,000 requests).
	JournalBytes int
	// TmpFileBytes is how much of each file left in /tmp is kept. Default 64 KiB.
	TmpFileBytes int
}

// DefaultLimits are the limits in force where a caller sets none.
func DefaultLimits() Limits {
	return Limits{
		Wall:         90 * time.Second,
		MemoryBytes:  512 << 20,
		CPUs:         1,
		Pids:         256,
		TmpBytes:     16 << 20,
		TmpInodes:    4096,
		NoFile:       1024,
		FileBytes:    16 << 20,
		OutputBytes:  1 << 20,
		JournalBytes: 64 << 20,
		TmpFileBytes: 64 << 10,
	}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.Wall == 0 {
		l.Wall = d.Wall
	}
	if l.MemoryBytes == 0 {
		l.MemoryBytes = d.MemoryBytes
	}
	if l.CPUs == 0 {
		l.CPUs = d.CPUs
	}
	if l.Pids == 0 {
		l.Pids = d.Pids
	}
	if l.TmpBytes == 0 {
		l.TmpBytes = d.TmpBytes
	}
	if l.TmpInodes == 0 {
		l.TmpInodes = d.TmpInodes
	}
	if l.NoFile == 0 {
		l.NoFile = d.NoFile
	}
	if l.FileBytes == 0 {
		l.FileBytes = d.FileBytes
	}
	if l.OutputBytes == 0 {
		l.OutputBytes = d.OutputBytes
	}
	if l.JournalBytes == 0 {
		l.JournalBytes = d.JournalBytes
	}
	if l.TmpFileBytes == 0 {
		l.TmpFileBytes = d.TmpFileBytes
	}
	return l
}

func (l Limits) validate() error {
	switch {
	case l.Wall < 0, l.MemoryBytes < 0, l.CPUs < 0, l.Pids < 0, l.TmpBytes < 0, l.TmpInodes < 0, l.NoFile < 0,
		l.FileBytes < 0, l.OutputBytes < 0, l.JournalBytes < 0, l.TmpFileBytes < 0:
		return fmt.Errorf("limits must not be negative: %+v", l)
	case l.MemoryBytes != 0 && l.MemoryBytes < 32<<20:
		return fmt.Errorf("memory limit %d bytes is below the 32 MiB Node needs to start", l.MemoryBytes)
	}
	return nil
}
