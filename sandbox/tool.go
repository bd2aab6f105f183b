package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
)

// ToolSpec is a one-off program run with no network at all and nothing writable but a small
// /tmp: the static review's TypeScript compiler on the runtime image's Node, or the grader's own
// bundler. It reads untrusted files (a submission's source), so it is contained like a
// candidate.
type ToolSpec struct {
	// Program is what runs: Node (the default) or the grader binary.
	Program Program
	// Mounts are host directories mounted read-only, each at its own absolute path.
	Mounts []Mount
	// Command follows the program: what node runs (e.g. ["/opt/analyzer/analyzer.mjs", ...]),
	// or the grader's arguments (e.g. ["bundle", "--work", "/tmp/work", ...]).
	Command []string
	// Limits bound the tool: a zero Limits takes ToolLimits, otherwise zero fields take
	// DefaultLimits.
	Limits Limits
}

// Program is the executable of a tool container.
type Program int

const (
	// NodeProgram is the runtime image's Node.js 24.
	NodeProgram Program = iota
	// GraderProgram is the static grader binary of the mock image (/grader).
	GraderProgram
)

// Mount is a read-only bind mount.
type Mount struct {
	Host      string
	Container string
}

// ToolResult is what a tool run produced.
type ToolResult struct {
	ExitCode  int
	OOMKilled bool
	TimedOut  bool
	Wall      time.Duration
	Stdout    Output
	Stderr    Output
}

// ToolLimits are the defaults of a tool run: a type-check of a small program takes about 2 s and
// 200 MiB on Node 24; these leave a wide margin and still stop a pathological input.
func ToolLimits() Limits {
	l := DefaultLimits()
	l.Wall = 120 * time.Second
	l.MemoryBytes = 1 << 30
	l.OutputBytes = 32 << 20
	return l
}

// reservedMounts are container paths a tool may not cover.
var reservedMounts = []string{"/", "/bin", "/etc", "/lib", "/lib64", "/usr", "/proc", "/sys", "/dev", "/tmp", "/run"}

func (s *ToolSpec) validate() error {
	var errs []error
	if len(s.Command) == 0 {
		errs = append(errs, errors.New("no tool command"))
	}
	if s.Program != NodeProgram && s.Program != GraderProgram {
		errs = append(errs, fmt.Errorf("unknown tool program %d", s.Program))
	}
	seen := map[string]bool{}
	for _, m := range s.Mounts {
		if st, err := os.Stat(m.Host); err != nil || !st.IsDir() || !filepath.IsAbs(m.Host) {
			errs = append(errs, fmt.Errorf("mount %q must be an existing absolute directory", m.Host))
		}
		c := path.Clean(m.Container)
		if !path.IsAbs(m.Container) || c != m.Container || strings.ContainsAny(c, ":,") {
			errs = append(errs, fmt.Errorf("mount point %q must be a clean absolute path", m.Container))
		}
		for _, r := range reservedMounts {
			if c == r || (r != "/" && strings.HasPrefix(c, r+"/")) {
				errs = append(errs, fmt.Errorf("mount point %q is reserved", m.Container))
			}
		}
		if seen[c] {
			errs = append(errs, fmt.Errorf("mount point %q given twice", c))
		}
		seen[c] = true
	}
	return errors.Join(errs...)
}

// Tool runs one tool container to completion (or its wall limit) and returns its output. The
// error is about the sandbox failing; a tool that crashes or times out is data in the result.
// Everything created is removed before Tool returns.
func (s *Sandbox) Tool(ctx context.Context, spec ToolSpec) (res *ToolResult, err error) {
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("tool spec: %w", err)
	}
	if s.runtimeImage == "" || s.mockImage == "" {
		return nil, errors.New("sandbox has no images: make it with New, not Connect")
	}
	release, err := s.slot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	lim := spec.Limits
	if lim == (Limits{}) {
		lim = ToolLimits()
	}
	if err := lim.validate(); err != nil {
		return nil, fmt.Errorf("tool spec: %w", err)
	}
	r := &run{sb: s, lim: lim.withDefaults(), id: newRunID(), res: &Result{}}
	defer func() { err = errors.Join(err, r.cleanup(ctx)) }()
	binds := make([]string, 0, len(spec.Mounts))
	for _, m := range spec.Mounts {
		binds = append(binds, m.Host+":"+m.Container+":ro")
	}
	pids := r.lim.Pids
	hc := hardened(&container.HostConfig{
		NetworkMode: "none",
		Binds:       binds,
		Tmpfs:       map[string]string{TmpDir: tmpfsOptions(r.lim)},
		Resources: container.Resources{
			Memory: r.lim.MemoryBytes, MemorySwap: r.lim.MemoryBytes, NanoCPUs: int64(r.lim.CPUs * 1e9), PidsLimit: &pids,
			Ulimits: []*container.Ulimit{
				{Name: "nofile", Soft: r.lim.NoFile, Hard: r.lim.NoFile},
				{Name: "core", Soft: 0, Hard: 0},
			},
		},
	})
	cfg := &container.Config{
		Image: s.runtimeImage, Cmd: spec.Command, User: "65534:65534", WorkingDir: TmpDir,
		Labels: s.labels(r.id, "tool"), AttachStdout: true, AttachStderr: true,
	}
	if spec.Program == GraderProgram {
		// The mock image is FROM scratch, with no /tmp: a working directory of /tmp would be
		// made by the engine under the tmpfs, which the tool's user then cannot write.
		cfg.Image, cfg.Entrypoint, cfg.WorkingDir = s.mockImage, []string{"/grader"}, "/"
	}
	id, err := r.create(ctx, cfg, hc, "tool")
	if err != nil {
		return nil, err
	}
	r.cand, err = attach(ctx, s.cli, id, r.lim.OutputBytes, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("attach tool: %w", err)
	}
	if err := s.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return nil, fmt.Errorf("start tool: %w", err)
	}
	if err := r.await(ctx, id); err != nil {
		return nil, err
	}
	r.cand.finish(drainTimeout)
	info, err := s.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("inspect tool: %w", err)
	}
	out := &ToolResult{ExitCode: info.State.ExitCode, OOMKilled: info.State.OOMKilled, TimedOut: r.res.TimedOut,
		Stdout: r.cand.out.Output(), Stderr: r.cand.errOut.Output()}
	started, err1 := time.Parse(time.RFC3339Nano, info.State.StartedAt)
	finished, err2 := time.Parse(time.RFC3339Nano, info.State.FinishedAt)
	if err1 == nil && err2 == nil && finished.After(started) {
		out.Wall = finished.Sub(started)
	}
	return out, nil
}
