// Package sandbox is the one place candidate code runs: Docker containers driven through the
// Engine API. A run is a mock container with network "none" and a candidate container that
// joins its network namespace, so the two share one loopback and nothing else: no bridge, no
// DNS, no host, no internet. The candidate runs as nobody on a read-only root with a size-capped
// /tmp, no capabilities, no new privileges, and limits on memory, CPU, processes, files and
// time. The sandbox knows how to start the mock binary and read its journal stream, not what a
// fault plan means.
package sandbox

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/docker/docker/client"

	"github.com/itsm-grader/grader/sandbox/images"
)

// Options configure a sandbox.
type Options struct {
	// NodeBinary is the Node.js 24 executable the runtime image is built from.
	NodeBinary string
	// GraderBinary is a static grader executable for the mock image.
	GraderBinary string
	// RuntimeImage, when set, is used as the candidate image instead of building one (for a user
	// with a registry, e.g. node:24-bookworm-slim); its entrypoint must run node.
	RuntimeImage string
	// MaxRuns caps the runs in flight across all callers of this sandbox (default 3): gradings
	// in parallel share the machine, and timing measurements need it not to be oversubscribed
	// (BenchmarkDrift: 8 runs on 2 cores triple the noise).
	MaxRuns int
	// StartGate staggers the runs' container starts: one run at a time creates and starts its
	// containers, and none while a run is inside the quiet window its Spec asks for
	// (Spec.Quiet). Off by default: with the runs weighted (CPUShares) and the backoff plan's
	// warm-up it adds little and costs time (gate.go has the figures).
	StartGate bool
	// CPUShares is the CPU weight of the runs' containers against the host's own processes
	// (weight.go): the cgroup v1 cpu.shares of the candidates' and the mocks' parent cgroups,
	// or the matching cgroup v2 cpu.weight. 0 takes DefaultCPUShares; -1 leaves the machine's
	// weights as they are. It needs the engine on this host with the cgroupfs driver.
	CPUShares int
	Logger    *slog.Logger
}

// Sandbox runs candidates. It is safe for concurrent use.
type Sandbox struct {
	cli          *client.Client
	log          *slog.Logger
	runtimeImage string
	mockImage    string
	cpuByCgroup  bool
	slots        chan struct{}
	gate         *startGate // nil without Options.StartGate
	mockParent   string     // the mocks' parent cgroup; empty: the engine's
}

// New connects to the engine (negotiating the API version), removes what dead graders left
// behind, and builds the images it needs (reused when their inputs have not changed).
func New(ctx context.Context, opts Options) (*Sandbox, error) {
	s, err := Connect(ctx, opts.Logger)
	if err != nil {
		return nil, err
	}
	if rep, err := s.Prune(ctx, false); err != nil {
		s.log.Warn("prune leftovers", "err", err)
	} else if rep != (PruneReport{}) {
		s.log.Info("pruned leftovers of earlier graders", "containers", rep.Containers, "volumes", rep.Volumes, "cgroups", rep.Cgroups)
	}
	if err := s.buildImages(ctx, opts); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.weigh(opts.CPUShares)
	if opts.MaxRuns <= 0 {
		opts.MaxRuns = 3
	}
	s.slots = make(chan struct{}, opts.MaxRuns)
	if opts.StartGate {
		s.gate = &startGate{}
	}
	return s, nil
}

// Connect reaches the engine without building anything: enough for Prune.
func Connect(ctx context.Context, log *slog.Logger) (*Sandbox, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	s := &Sandbox{cli: cli, log: log}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("no Docker engine answers (run sandbox/engine/ensure-docker): %w", err)
	}
	info, err := cli.Info(ctx)
	if err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("engine info: %w", err)
	}
	s.cpuByCgroup = info.CgroupDriver == "cgroupfs"
	return s, nil
}

func (s *Sandbox) buildImages(ctx context.Context, opts Options) error {
	mock, err := images.Mock(ctx, s.cli, opts.GraderBinary)
	if err != nil {
		return fmt.Errorf("mock image: %w", err)
	}
	s.mockImage = mock.Ref
	ref := opts.RuntimeImage
	if ref == "" && runtime.GOOS != "linux" {
		ref = images.BaseRuntime // a host Node binary would not run in a Linux container
	}
	rt, err := s.runtime(ctx, ref, opts.NodeBinary)
	if err != nil {
		return fmt.Errorf("runtime image: %w", err)
	}
	s.runtimeImage = rt.Ref
	s.log.Debug("sandbox ready", "mock", s.mockImage, "runtime", s.runtimeImage, "cpu_by_cgroup", s.cpuByCgroup)
	return nil
}

func (s *Sandbox) runtime(ctx context.Context, ref, nodeBinary string) (images.Built, error) {
	if ref != "" {
		return images.Ensure(ctx, s.cli, ref)
	}
	return images.Runtime(ctx, s.cli, nodeBinary)
}

// Slots is how many runs (and tool runs) the sandbox lets go at once.
func (s *Sandbox) Slots() int { return cap(s.slots) }

// weigh gives the runs' cgroups their CPU weight; a machine where that cannot be done still
// runs, with a warning (the runs' timing is then as noisy as the machine).
func (s *Sandbox) weigh(shares int) {
	if shares < 0 {
		return
	}
	if shares == 0 {
		shares = DefaultCPUShares
	}
	if !s.cpuByCgroup {
		s.log.Warn("the runs' CPU weight is left to the engine: it is not local with the cgroupfs driver")
		return
	}
	s.mockParent = "/" + mockCgroupBase
	if err := weigh(shares); err != nil {
		s.log.Warn("the runs' CPU weight could not be set: their timing is as noisy as the machine", "err", err)
	}
}

// Close releases the engine connection.
func (s *Sandbox) Close() error { return s.cli.Close() }
