package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// The runs' CPU weight. A run's timing is the measurement: a client's waits stretched because
// the machine was busy with something else are time the grader cannot tell from the client's
// own. Under the kernel's fair scheduler the candidates' parent cgroup and the mocks' each
// compete with each of the host's process groups as one entity, so on a busy machine all of a
// grading's runs together got no more CPU than one unrelated process, and a client warming up
// (Node's start, its first TLS handshakes, its first compiles) waited for it. Measured in
// sandbox/noise (README, "How noisy a run was"), whole suites of the monolith client, 3 runs at a
// time, with one core kept busy by a `yes` process: the first retries' waits stretched by 70 ms
// at the median, 209 ms at the 90th percentile and 506 ms at worst at the default weight (one
// grading in four measured backoff.growth warn); at 8 times it, by 24, 62 and 106 ms (none). A
// run cannot take more than its CPU quota (1 core for the candidate, 1 for the mock), so the
// weight decides who goes first, not who may take the machine.

// DefaultCPUShares is the weight Options.CPUShares defaults to: 8 times a host process's
// (cgroup v1 cpu.shares; 1024 is the kernel's default).
const DefaultCPUShares = 8192

// mockCgroupBase is the mocks' parent cgroup, beside the candidates' (cgroupBase), so both can be
// weighted without touching the engine's own parent of every other container.
const mockCgroupBase = "itsm-grader-mock"

// weigh sets the CPU weight of the candidates' and the mocks' parent cgroups, creating them
// where they do not exist yet (the engine would at the first run).
func weigh(shares int) error {
	var errs []error
	for _, base := range []string{cgroupBase, mockCgroupBase} {
		if err := weighGroup(base, shares); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// weighGroup writes one group's weight: cpu.shares under cgroup v1, else cpu.weight under v2
// (scaled: 1024 shares are a weight of 100).
func weighGroup(base string, shares int) error {
	v1 := filepath.Join(cgroupRoot, "cpu")
	if st, err := os.Stat(v1); err == nil && st.IsDir() {
		return writeWeight(filepath.Join(v1, base), "cpu.shares", strconv.Itoa(shares))
	}
	weight := min(max(shares*100/1024, 1), 10000)
	return writeWeight(filepath.Join(cgroupRoot, base), "cpu.weight", strconv.Itoa(weight))
}

func writeWeight(dir, file, value string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("CPU weight of %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0o644); err != nil {
		return fmt.Errorf("CPU weight of %s: %w", dir, err)
	}
	return nil
}

// readWeight reads back what weighGroup wrote (for tests and diagnostics).
func readWeight(base string) (int, error) {
	v1 := filepath.Join(cgroupRoot, "cpu")
	if st, err := os.Stat(v1); err == nil && st.IsDir() {
		n, err := readInt(filepath.Join(v1, base, "cpu.shares"))
		return int(n), err
	}
	n, err := readInt(filepath.Join(cgroupRoot, base, "cpu.weight"))
	return int(n), err
}
