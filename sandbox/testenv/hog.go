package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// HogEnv is the variable that asks the tests that support it (grader/grading's TestStability,
// sandbox/noise) to keep one core busy with unrelated work while they run: a stand-in for a
// slower or shared machine.
const HogEnv = "GRADER_STABILITY_HOG"

// WantHog reports whether HogEnv is set to 1.
func WantHog() bool { return os.Getenv(HogEnv) == "1" }

// Hog is a process that keeps one core busy (`yes` writing to /dev/null) until it is stopped.
type Hog struct {
	cmd   *exec.Cmd
	start time.Time
	once  sync.Once
	usage HogUsage
	err   error
}

// HogUsage is what a hog burnt: its CPU time over its wall time (about 1 for a core kept busy).
type HogUsage struct {
	CPU, Wall time.Duration
}

// Share is CPU over wall time.
func (u HogUsage) Share() float64 {
	if u.Wall <= 0 {
		return 0
	}
	return float64(u.CPU) / float64(u.Wall)
}

// StartHog starts a hog. It dies with the process that started it (a test killed by its
// timeout leaves no hog behind); Stop ends it sooner.
func StartHog() (*Hog, error) {
	bin, err := exec.LookPath("yes")
	if err != nil {
		return nil, fmt.Errorf("CPU hog: %w", err)
	}
	cmd := exec.Command(bin)
	// Stdout stays nil: exec connects it to the null device. Pdeathsig kills the hog if this
	// process dies without stopping it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start CPU hog: %w", err)
	}
	return &Hog{cmd: cmd, start: time.Now()}, nil
}

// Stop kills the hog by its pid, waits for it and says what it burnt. It is idempotent.
func (h *Hog) Stop() (HogUsage, error) {
	h.once.Do(func() {
		if err := h.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			h.err = fmt.Errorf("stop CPU hog: %w", err)
		}
		_ = h.cmd.Wait() // "signal: killed" is how it ends
		h.usage = HogUsage{Wall: time.Since(h.start)}
		if st := h.cmd.ProcessState; st != nil {
			h.usage.CPU = st.UserTime() + st.SystemTime()
		}
	})
	return h.usage, h.err
}

// CPUHog keeps one core busy until the test ends: the hog is stopped in the test's cleanup,
// whether it passed, failed or was skipped, and what it burnt is logged.
func CPUHog(t testing.TB) *Hog {
	t.Helper()
	h, err := StartHog()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		u, err := h.Stop()
		if err != nil {
			t.Error(err)
		}
		t.Logf("CPU hog: %.1f s of CPU over %.1f s (%.0f %% of a core)", u.CPU.Seconds(), u.Wall.Seconds(), 100*u.Share())
	})
	return h
}
