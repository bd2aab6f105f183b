package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
)

// Labels on everything a run creates.
const (
	LabelApp   = "itsm-grader"       // "1"
	LabelRun   = "itsm-grader.run"   // the run id
	LabelRole  = "itsm-grader.role"  // "mock" or "candidate"
	LabelOwner = "itsm-grader.owner" // host:pid:start of the grader process that made it
)

// owner identifies this grader process, so a prune leaves other live graders' runs alone.
var owner = func() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), procStart(os.Getpid()))
}()

// procStart is a process's start time in clock ticks (field 22 of /proc/PID/stat), so a reused
// pid is not mistaken for the process that made a container.
func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		f := strings.Fields(s[i+1:])
		if len(f) > 19 {
			return f[19]
		}
	}
	return ""
}

// ownerAlive reports whether the grader process named by an owner label still runs (on another
// host it cannot tell, and assumes so).
func ownerAlive(label string) bool {
	parts := strings.SplitN(label, ":", 3)
	if len(parts) != 3 {
		return false
	}
	host, _ := os.Hostname()
	if parts[0] != host {
		return true
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil {
		return false
	}
	return procStart(pid) == parts[2] && parts[2] != ""
}

func (s *Sandbox) labels(runID, role string) map[string]string {
	return map[string]string{LabelApp: "1", LabelRun: runID, LabelRole: role, LabelOwner: owner}
}

// PruneReport says what a prune removed.
type PruneReport struct {
	Containers, Volumes, Cgroups int
}

// Prune removes what grader processes that are gone left behind: containers, volumes and run
// cgroups. With all, it removes every grader object, live runs included.
func (s *Sandbox) Prune(ctx context.Context, all bool) (PruneReport, error) {
	var rep PruneReport
	var errs []error
	f := filters.NewArgs(filters.Arg("label", LabelApp+"=1"))
	live := map[string]bool{}
	cs, err := s.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return rep, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range cs {
		if !all && ownerAlive(c.Labels[LabelOwner]) {
			live[c.Labels[LabelRun]] = true
			continue
		}
		err := s.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID[:12], err))
			continue
		}
		rep.Containers++
	}
	vs, err := s.cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return rep, errors.Join(append(errs, fmt.Errorf("list volumes: %w", err))...)
	}
	for _, v := range vs.Volumes {
		if !all && (ownerAlive(v.Labels[LabelOwner]) || live[v.Labels[LabelRun]]) {
			live[v.Labels[LabelRun]] = true
			continue
		}
		if err := s.cli.VolumeRemove(ctx, v.Name, true); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
			continue
		}
		rep.Volumes++
	}
	for _, id := range runCgroups() {
		if live[id] {
			continue
		}
		if err := removeCgroup(id); err == nil {
			rep.Cgroups++
		}
	}
	return rep, errors.Join(errs...)
}
