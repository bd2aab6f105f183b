// Command iouringprobe makes the three io_uring system calls once each and prints what the
// kernel answered, as one JSON object: {"io_uring_setup":"ok","io_uring_enter":"EBADF",...}.
// JavaScript cannot issue an arbitrary system call, so the sandbox's kernel tests build this
// (static, CGO_ENABLED=0) and run it in a container made like a candidate's.
//
// io_uring_setup gets a zeroed struct io_uring_params and one entry, which any kernel with
// io_uring accepts; io_uring_enter and io_uring_register get the descriptor -1, which the kernel
// answers with EBADF or EINVAL, so an EPERM from any of the three can only come from a seccomp
// filter.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// The io_uring system call numbers, the same on every architecture (the generic table's 425–427).
const (
	sysIOUringSetup    = 425
	sysIOUringEnter    = 426
	sysIOUringRegister = 427
)

// ioUringParams is struct io_uring_params (120 bytes), left zeroed: the kernel picks defaults.
type ioUringParams [120]byte

func main() {
	var params ioUringParams
	out := map[string]string{}
	fd, _, errno := syscall.RawSyscall(sysIOUringSetup, 1, uintptr(unsafe.Pointer(&params)), 0)
	out["io_uring_setup"] = outcome(errno)
	if errno == 0 {
		_ = syscall.Close(int(fd))
	}
	badFD := ^uintptr(0) // -1
	_, _, errno = syscall.RawSyscall6(sysIOUringEnter, badFD, 0, 0, 0, 0, 0)
	out["io_uring_enter"] = outcome(errno)
	_, _, errno = syscall.RawSyscall6(sysIOUringRegister, badFD, 0, 0, 0, 0, 0)
	out["io_uring_register"] = outcome(errno)
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "write the outcome:", err)
		os.Exit(1)
	}
}

// outcome names an errno the way the tests compare it: "ok", "EPERM", "EBADF", or the number.
func outcome(errno syscall.Errno) string {
	switch errno {
	case 0:
		return "ok"
	case syscall.EPERM:
		return "EPERM"
	case syscall.EBADF:
		return "EBADF"
	case syscall.ENOSYS:
		return "ENOSYS"
	case syscall.EINVAL:
		return "EINVAL"
	case syscall.EFAULT:
		return "EFAULT"
	default:
		return fmt.Sprintf("errno %d", int(errno))
	}
}
