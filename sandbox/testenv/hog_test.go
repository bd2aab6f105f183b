package testenv

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hogCPU reads a running process's CPU time from /proc/<pid>/stat (utime and stime, in clock
// ticks of 10 ms).
func hogCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, err := strconv.Atoi(f[11])
	require.NoError(t, err)
	stime, err := strconv.Atoi(f[12])
	require.NoError(t, err)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// TestAHogBurnsACoreUntilStopped: the hog runs flat out until it is stopped, and then is gone.
func TestAHogBurnsACoreUntilStopped(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	h, err := StartHog()
	require.NoError(t, err)
	pid := h.cmd.Process.Pid
	deadline := time.Now().Add(20 * time.Second)
	for hogCPU(t, pid) < 300*time.Millisecond {
		require.True(t, time.Now().Before(deadline), "the hog burnt under 0.3 s of CPU in 20 s")
		time.Sleep(20 * time.Millisecond) // polling the hog's progress, not waiting for readiness
	}
	u, err := h.Stop()
	require.NoError(t, err)
	require.GreaterOrEqual(t, u.CPU, 300*time.Millisecond)
	require.Greater(t, u.Share(), 0.2, "it kept a core busy (%v over %v)", u.CPU, u.Wall)
	again, err := h.Stop()
	require.NoError(t, err)
	require.Equal(t, u, again, "Stop is idempotent")
	require.True(t, errors.Is(syscall.Kill(pid, 0), syscall.ESRCH), "the hog is gone")
}
