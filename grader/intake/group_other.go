//go:build !unix

package intake

import "os/exec"

// inOwnGroup leaves cmd as exec makes it: the grader grades on Linux only; elsewhere the binary
// is built for `grader mock` and `grader kit`.
func inOwnGroup(*exec.Cmd) {}
