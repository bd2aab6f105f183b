//go:build unix

package intake

import (
	"os/exec"
	"syscall"
)

// inOwnGroup starts cmd in a process group of its own and kills the whole group when its
// context ends: git's helpers (remote-https, index-pack) die with it.
func inOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
