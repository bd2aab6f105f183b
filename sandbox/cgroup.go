package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CPU accounting. Each run's candidate gets its own parent cgroup, /itsm-grader/<run>. A
// container's cgroup disappears when it stops, but its CPU time stays charged to the parent, so
// reading the parent after the exit gives the exact total: no sampling, nothing lost at the end.
// This needs the engine on this host with the cgroupfs driver (as ensure-docker starts it); where
// that does not hold, CPU time is reported as unknown rather than guessed.

const cgroupRoot = "/sys/fs/cgroup"

// cgroupBase is the parent of all runs' cgroups.
const cgroupBase = "itsm-grader"

func cgroupParent(runID string) string { return "/" + cgroupBase + "/" + runID }

// readCPU returns the CPU time charged to a run's parent cgroup (cgroup v1 or v2).
func readCPU(runID string) (time.Duration, error) {
	v1 := filepath.Join(cgroupRoot, "cpuacct", cgroupBase, runID, "cpuacct.usage")
	if b, err := os.ReadFile(v1); err == nil {
		ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s: %w", v1, err)
		}
		return time.Duration(ns), nil
	}
	v2 := filepath.Join(cgroupRoot, cgroupBase, runID, "cpu.stat")
	f, err := os.Open(v2)
	if err != nil {
		return 0, fmt.Errorf("no CPU accounting for run %s: %w", runID, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "usage_usec "); ok {
			us, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse %s: %w", v2, err)
			}
			return time.Duration(us) * time.Microsecond, nil
		}
	}
	return 0, fmt.Errorf("no usage_usec in %s", v2)
}

// candidateCPUStat is the candidate container's cpu.stat, under its run's parent cgroup, and
// the unit of its throttled time (v1: nanoseconds; v2: microseconds).
func candidateCPUStat(runID, containerID string) (string, time.Duration) {
	v1 := filepath.Join(cgroupRoot, "cpu", cgroupBase, runID, containerID, "cpu.stat")
	if _, err := os.Stat(v1); err == nil {
		return v1, 1
	}
	return filepath.Join(cgroupRoot, cgroupBase, runID, containerID, "cpu.stat"), time.Microsecond
}

// removeCgroup removes a run's parent cgroup in every hierarchy (v1 controllers and v2).
func removeCgroup(runID string) error {
	dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", cgroupBase, runID))
	if st, err := os.Stat(filepath.Join(cgroupRoot, cgroupBase, runID)); err == nil && st.IsDir() {
		dirs = append(dirs, filepath.Join(cgroupRoot, cgroupBase, runID))
	}
	var errs []error
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// runCgroups lists the run ids that have a parent cgroup.
func runCgroups() []string {
	seen := map[string]bool{}
	var ids []string
	for _, pattern := range []string{filepath.Join(cgroupRoot, "*", cgroupBase, "*"), filepath.Join(cgroupRoot, cgroupBase, "*")} {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && st.IsDir() && !seen[filepath.Base(m)] {
				seen[filepath.Base(m)] = true
				ids = append(ids, filepath.Base(m))
			}
		}
	}
	return ids
}

// engineCgroupParent is where the engine puts a container's cgroup when no parent is given
// (the cgroupfs driver's default).
const engineCgroupParent = "docker"

// mockCgroupParent is the mock containers' parent cgroup, relative to a hierarchy's root.
func (s *Sandbox) mockCgroupParent() string {
	if s.mockParent != "" {
		return s.mockParent[1:]
	}
	return engineCgroupParent
}

// containerStats reads a running container's peak memory, CPU time and CPU throttling straight
// from its cgroup (v1, or v2 where the kernel keeps memory.peak). ok is false where the files are not
// there (a remote engine, the systemd driver): the caller then asks the engine, which on Docker
// 20.10 takes about half a second even for a one-shot read.
func containerStats(parent, id string) (MockStats, bool) {
	v1mem := filepath.Join(cgroupRoot, "memory", parent, id, "memory.max_usage_in_bytes")
	v1cpu := filepath.Join(cgroupRoot, "cpu", parent, id, "cpu.stat")
	if peak, err := readInt(v1mem); err == nil {
		st := MockStats{Known: true, PeakMemory: peak}
		if ns, err := readInt(filepath.Join(cgroupRoot, "cpuacct", parent, id, "cpuacct.usage")); err == nil {
			st.CPU = time.Duration(ns)
		}
		return withThrottling(st, v1cpu, 1)
	}
	v2 := filepath.Join(cgroupRoot, parent, id)
	if peak, err := readInt(filepath.Join(v2, "memory.peak")); err == nil {
		st := MockStats{Known: true, PeakMemory: peak}
		return withThrottling(st, filepath.Join(v2, "cpu.stat"), time.Microsecond)
	}
	return MockStats{}, false
}

// withThrottling adds cpu.stat's throttling counters (and, under v2, the CPU time); throttled
// time is in nanoseconds under v1 (throttled_time) and microseconds under v2 (throttled_usec,
// usage_usec).
func withThrottling(st MockStats, file string, unit time.Duration) (MockStats, bool) {
	f, err := os.Open(file)
	if err != nil {
		return MockStats{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "nr_throttled":
			st.ThrottledPeriods = n
		case "throttled_time", "throttled_usec":
			st.ThrottledTime = time.Duration(n) * unit
		case "usage_usec":
			st.CPU = time.Duration(n) * time.Microsecond
		}
	}
	return st, sc.Err() == nil
}

func readInt(file string) (int64, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
