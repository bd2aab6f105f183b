package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/volume"

	"github.com/itsm-grader/grader/sandbox/safecopy"
)

// Result is what one run produced. A candidate misbehaving is data here, never an error.
type Result struct {
	RunID     string
	ExitCode  int
	OOMKilled bool
	// TimedOut: the candidate outlived Limits.Wall and was killed.
	TimedOut bool
	// Wall is the candidate's run time as the engine measured it (start to exit).
	Wall time.Duration
	// CPU is the candidate's CPU time (user and system); CPUKnown is false where the engine's
	// cgroups cannot be read (a remote engine, the systemd cgroup driver).
	CPU      time.Duration
	CPUKnown bool
	Stdout   Output
	Stderr   Output
	// TmpFiles are the entries left in /tmp; TmpTruncated when there were more than reported.
	TmpFiles     []File
	TmpTruncated bool
	// Journal is the mock's journal (JSON Lines) as it streamed out of the mock container.
	Journal Output
	MockLog Output
	// MockExit is the mock's exit code; MockOOMKilled says the kernel killed it at its memory
	// limit.
	MockExit      int
	MockOOMKilled bool
	// MockDied says the mock exited before the grader stopped it (killed, OOM-killed, crashed):
	// its journal ends where it died. MockStopKilled says it did not stop within mockStopGrace
	// of being asked and was killed. Neither is an error of Run: the journal is still the run's
	// record, and judging what happened to the mock is the caller's business.
	MockDied       bool
	MockStopKilled bool
	// MockStats is the mock container's use of its limits, read just before it was stopped.
	MockStats MockStats
	// Sched is how the machine scheduled the candidate's main thread (sched.go): the
	// candidate's side of the run's noise, where the mock's journal has the mock's.
	Sched     Sched
	Timeline  Timeline
	BundleLog safecopy.Report
}

// MockStats is what the engine measured of the mock container over the run; Known is false
// when it could not be read (the mock had died, or the engine did not answer).
type MockStats struct {
	Known bool
	// PeakMemory is the most memory the container held (cgroup v1's max_usage_in_bytes; 0
	// where the engine does not report it, as under cgroup v2).
	PeakMemory int64
	// ThrottledPeriods counts the CPU quota periods in which the mock was held back;
	// ThrottledTime is how long it was held back in all.
	ThrottledPeriods int64
	ThrottledTime    time.Duration
	// CPU is the CPU time the mock used (user and system); 0 where it could not be read.
	CPU time.Duration
}

// Timeline marks a run's phases on the host's clock. Called is when Run was called and Start
// when the run got one of the sandbox's slots (Options.MaxRuns): the time between is queueing,
// not the run's. Gated is when it passed the start gate (Options.StartGate; without one, as soon
// as its /tmp volume existed): from Start to Gated it waited for other runs' starts and quiet
// windows.
type Timeline struct {
	Called, Start, Gated, MockReady, CandidateStarted, CandidateExited, Done time.Time
}

// mockReadyTimeout bounds the mock's start-up.
const mockReadyTimeout = 20 * time.Second

// drainTimeout bounds reading what is left of an output stream after its container exited: a
// daemonised child could hold it open forever.
const drainTimeout = 3 * time.Second

// mockStopGrace is how long the mock has to finish its journal once asked to stop (its own
// shutdown takes at most 10 s: 5 for the server, 5 for handlers still running).
const mockStopGrace = 20 * time.Second

// The mock container's limits. The mock is ours, but a flooding client drives its load, so it
// gets a CPU quota and a memory limit of its own, and its caps (harness/mock.Caps) keep it
// inside them. Measured on this machine (2 vCPU, cgroup v1, the engine's stats: peak of
// memory.max_usage_in_bytes, cpu.stat nr_throttled), grader/runner's flood_test.go:
//
//	client (several runs each)                          peak memory   throttled periods
//	ideal, outage (its longest scenario, 15-17 s)       8.4 MiB       0
//	ideal, happy (its busiest: 30 requests, 27 tickets) 8.1-8.7 MiB   0
//	tiny requests on 32 connections for 45 s (~89,000)  123-126 MiB   0-2
//	1,000 concurrent 1 MiB uploads                      146-152 MiB   3-7
//	1 MiB tickets, 4 at a time, past the journal's cap  147-159 MiB   34-35
//
// The quota never throttled a normal run (that would bend timing verdicts); a flood is
// throttled, as it should be.
const (
	// mockMemory is the mock's memory limit (no swap): 3.2 times the worst flood measured.
	mockMemory = 512 << 20
	// mockCPUs is the mock's CPU quota: one core, as for the candidate, so a flood cannot take
	// the machine from the other runs.
	mockCPUs = 1
	// mockGoMemLimit makes the mock's garbage collector work harder well before the container's
	// limit, rather than let garbage push it over.
	mockGoMemLimit = "384MiB"
)

type run struct {
	sb    *Sandbox
	spec  Spec
	lim   Limits
	id    string
	res   *Result
	stage string
	vol   string
	mock  *stream
	cand  *stream

	mockID, candID string
	mu             sync.Mutex
	ids            []string // containers to remove
}

// Run starts a mock and a candidate, waits for the candidate to finish (or be killed), stops
// the mock, and returns everything observed. The returned error is about the sandbox failing,
// not the candidate; everything created is removed before Run returns, even on error or
// cancellation.
func (s *Sandbox) Run(ctx context.Context, spec Spec) (res *Result, err error) {
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("run spec: %w", err)
	}
	if s.mockImage == "" || s.runtimeImage == "" {
		return nil, errors.New("sandbox has no images: make it with New, not Connect")
	}
	called := time.Now()
	release, err := s.slot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	r := &run{sb: s, spec: spec, lim: spec.Limits.withDefaults(), id: newRunID()}
	r.res = &Result{RunID: r.id, Timeline: Timeline{Called: called, Start: time.Now()}}
	defer func() {
		err = errors.Join(err, r.cleanup(ctx))
		r.res.Timeline.Done = time.Now()
	}()
	if err := r.execute(ctx); err != nil {
		return r.res, err
	}
	return r.res, nil
}

// slot waits for one of the runs allowed in flight (Options.MaxRuns); release gives it back.
func (s *Sandbox) slot(ctx context.Context) (release func(), err error) {
	if s.slots == nil {
		return func() {}, nil
	}
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a run slot: %w", context.Cause(ctx))
	}
}

func newRunID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (r *run) execute(ctx context.Context) error {
	if err := r.stageFiles(); err != nil {
		return err
	}
	if err := r.makeVolume(ctx); err != nil {
		return err
	}
	leave, err := r.enterGate(ctx)
	if err != nil {
		return err
	}
	defer leave()
	if err := r.createMock(ctx); err != nil {
		return err
	}
	// The candidate container is made while the mock starts: only its start waits for the
	// mock to be ready.
	candidate := make(chan error, 1)
	go func() { candidate <- r.createCandidate(ctx) }()
	readyErr := r.startMock(ctx)
	if err := errors.Join(readyErr, <-candidate); err != nil {
		return err
	}
	if err := r.startCandidate(ctx); err != nil {
		return err
	}
	if r.sb.gate != nil && r.spec.Quiet > 0 {
		defer r.sb.gate.hold(r.spec.Quiet)() // opened before the gate is left: no start slips in
	}
	leave()
	sched := r.watchCandidate(ctx)
	err = r.awaitCandidate(ctx)
	r.res.Sched = sched.stop()
	if err != nil {
		return err
	}
	r.collectTmp(ctx)
	return r.stopMock(ctx)
}

// watchCandidate starts sampling the candidate's main thread from the host, where the engine is
// local (sched.go); the container's first process is node itself.
func (r *run) watchCandidate(ctx context.Context) *schedWatch {
	if !r.sb.cpuByCgroup {
		return watchSched(0, "", 0)
	}
	info, err := r.sb.cli.ContainerInspect(ctx, r.candID)
	if err != nil || info.State == nil {
		return watchSched(0, "", 0)
	}
	file, unit := candidateCPUStat(r.id, r.candID)
	return watchSched(info.State.Pid, file, unit)
}

// enterGate waits for the sandbox's start gate, when it has one; leave lets the next run start.
func (r *run) enterGate(ctx context.Context) (leave func(), err error) {
	if r.sb.gate == nil {
		r.res.Timeline.Gated = time.Now()
		return func() {}, nil
	}
	leave, err = r.sb.gate.enter(ctx)
	r.res.Timeline.Gated = time.Now()
	return leave, err
}

// stageFiles copies the bundle (safely, under the caps) and writes the files to mount, all
// readable by the containers' user.
func (r *run) stageFiles() error {
	dir, err := os.MkdirTemp("", "itsm-run-"+r.id+"-")
	if err != nil {
		return fmt.Errorf("stage run: %w", err)
	}
	r.stage = dir
	rep, err := safecopy.Copy(r.spec.Bundle, filepath.Join(dir, "app"), safecopy.Caps{})
	r.res.BundleLog = rep
	if err != nil {
		return fmt.Errorf("stage bundle: %w", err)
	}
	for name, files := range map[string]map[string][]byte{"mock": r.spec.MockFiles, "candidate": r.spec.CandidateFiles} {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("stage %s files: %w", name, err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return fmt.Errorf("stage %s files: %w", name, err)
		}
		for fn, data := range files {
			p := filepath.Join(d, fn)
			if err := os.WriteFile(p, data, 0o444); err != nil {
				return fmt.Errorf("stage %s: %w", fn, err)
			}
			if err := os.Chmod(p, 0o444); err != nil {
				return fmt.Errorf("stage %s: %w", fn, err)
			}
		}
	}
	return nil
}

// makeVolume makes the candidate's /tmp: a size-capped tmpfs volume that the mock container
// also mounts (read-only), so it outlives the candidate and can be read after it exits.
func (r *run) makeVolume(ctx context.Context) error {
	v, err := r.sb.cli.VolumeCreate(ctx, volume.CreateOptions{
		Name:   "itsm-grader-tmp-" + r.id,
		Driver: "local",
		DriverOpts: map[string]string{
			"type":   "tmpfs",
			"device": "tmpfs",
			"o":      tmpfsOptions(r.lim) + ",uid=65534,gid=65534",
		},
		Labels: r.sb.labels(r.id, "tmp"),
	})
	if err != nil {
		return fmt.Errorf("create /tmp volume: %w", err)
	}
	r.vol = v.Name
	return nil
}

func (r *run) createMock(ctx context.Context) error {
	pids := int64(256)
	hc := hardened(&container.HostConfig{
		NetworkMode: "none",
		ExtraHosts:  r.spec.extraHosts(),
		Binds: []string{
			filepath.Join(r.stage, "mock") + ":" + FilesDir + ":ro",
			r.vol + ":" + mockTmpView + ":ro",
		},
		Resources: container.Resources{Memory: mockMemory, MemorySwap: mockMemory, NanoCPUs: mockCPUs * 1e9, PidsLimit: &pids,
			CgroupParent: r.sb.mockParent},
	})
	cfg := &container.Config{
		Image: r.sb.mockImage, Cmd: r.spec.MockArgs, User: "65534:65534", Env: []string{"GOMEMLIMIT=" + mockGoMemLimit},
		Labels: r.sb.labels(r.id, "mock"), AttachStdout: true, AttachStderr: true,
	}
	id, err := r.create(ctx, cfg, hc, "mock")
	if err != nil {
		return err
	}
	r.mockID = id
	r.mock, err = attach(ctx, r.sb.cli, id, r.lim.JournalBytes, 64<<10)
	if err != nil {
		return fmt.Errorf("attach mock: %w", err)
	}
	return nil
}

// startMock starts the mock and waits for its first journal line, which it writes once it
// listens.
func (r *run) startMock(ctx context.Context) error {
	if err := r.sb.cli.ContainerStart(ctx, r.mockID, container.StartOptions{}); err != nil {
		return fmt.Errorf("start mock: %w", err)
	}
	t := time.NewTimer(mockReadyTimeout)
	defer t.Stop()
	select {
	case <-r.mock.ready:
		r.res.Timeline.MockReady = time.Now()
		return nil
	case <-r.mock.done:
		r.mock.finish(0)
		return fmt.Errorf("mock exited before it was ready: %s", r.mock.errOut.Output().Data)
	case <-t.C:
		return fmt.Errorf("mock not ready within %v", mockReadyTimeout)
	case <-ctx.Done():
		return fmt.Errorf("start mock: %w", context.Cause(ctx))
	}
}

func (r *run) create(ctx context.Context, cfg *container.Config, hc *container.HostConfig, role string) (string, error) {
	resp, err := r.sb.cli.ContainerCreate(ctx, cfg, hc, nil, nil, "itsm-grader-"+role+"-"+r.id)
	if resp.ID != "" {
		r.mu.Lock()
		r.ids = append(r.ids, resp.ID) // registered before the error is looked at
		r.mu.Unlock()
	}
	if err != nil {
		return "", fmt.Errorf("create %s container: %w", role, err)
	}
	return resp.ID, nil
}

func (r *run) candidateHostConfig() *container.HostConfig {
	pids := r.lim.Pids
	hc := hardened(&container.HostConfig{
		NetworkMode: container.NetworkMode("container:" + r.mockID),
		Binds: []string{
			filepath.Join(r.stage, "app") + ":" + BundleDir + ":ro",
			filepath.Join(r.stage, "candidate") + ":" + FilesDir + ":ro",
			r.vol + ":" + TmpDir,
		},
		Resources: container.Resources{
			Memory:     r.lim.MemoryBytes,
			MemorySwap: r.lim.MemoryBytes, // no swap
			NanoCPUs:   int64(r.lim.CPUs * 1e9),
			PidsLimit:  &pids,
			Ulimits: []*container.Ulimit{
				{Name: "nofile", Soft: r.lim.NoFile, Hard: r.lim.NoFile},
				{Name: "fsize", Soft: r.lim.FileBytes, Hard: r.lim.FileBytes},
				{Name: "core", Soft: 0, Hard: 0},
			},
		},
	})
	if r.sb.cpuByCgroup {
		hc.CgroupParent = cgroupParent(r.id)
	}
	return hc
}

// createCandidate makes the candidate container and attaches to it, without starting it.
func (r *run) createCandidate(ctx context.Context) error {
	cfg := &container.Config{
		Image: r.sb.runtimeImage, Cmd: r.spec.Command, Env: r.spec.envList(), User: "65534:65534",
		WorkingDir: TmpDir, Labels: r.sb.labels(r.id, "candidate"), AttachStdout: true, AttachStderr: true,
	}
	id, err := r.create(ctx, cfg, r.candidateHostConfig(), "candidate")
	if err != nil {
		return err
	}
	r.candID = id
	r.cand, err = attach(ctx, r.sb.cli, id, r.lim.OutputBytes, r.lim.OutputBytes)
	if err != nil {
		return fmt.Errorf("attach candidate: %w", err)
	}
	return nil
}

func (r *run) startCandidate(ctx context.Context) error {
	if err := r.sb.cli.ContainerStart(ctx, r.candID, container.StartOptions{}); err != nil {
		return fmt.Errorf("start candidate: %w", err)
	}
	r.res.Timeline.CandidateStarted = time.Now()
	return nil
}

// awaitCandidate waits for the started candidate to end and reads what it left.
func (r *run) awaitCandidate(ctx context.Context) error {
	id := r.candID
	if err := r.await(ctx, id); err != nil {
		return err
	}
	r.res.Timeline.CandidateExited = time.Now()
	r.cand.finish(drainTimeout)
	r.res.Stdout, r.res.Stderr = r.cand.out.Output(), r.cand.errOut.Output()
	return r.inspectCandidate(ctx, id)
}

// await waits for the candidate to exit, killing it at the wall limit or on cancellation.
func (r *run) await(ctx context.Context, id string) error {
	waitCh, errCh := r.sb.cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	t := time.NewTimer(r.lim.Wall)
	defer t.Stop()
	select {
	case <-waitCh:
		return nil
	case err := <-errCh:
		return fmt.Errorf("wait for candidate: %w", err)
	case <-t.C:
		r.res.TimedOut = true
	case <-ctx.Done():
		r.kill(id)
		return fmt.Errorf("run cancelled: %w", context.Cause(ctx))
	}
	r.kill(id)
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	waitCh, errCh = r.sb.cli.ContainerWait(kctx, id, container.WaitConditionNotRunning)
	select {
	case <-waitCh:
		return nil
	case err := <-errCh:
		return fmt.Errorf("wait for killed candidate: %w", err)
	}
}

func (r *run) kill(id string) {
	kctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.sb.cli.ContainerKill(kctx, id, "KILL"); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		r.sb.log.Warn("kill candidate", "run", r.id, "err", err)
	}
}

func (r *run) inspectCandidate(ctx context.Context, id string) error {
	info, err := r.sb.cli.ContainerInspect(ctx, id)
	if err != nil {
		return fmt.Errorf("inspect candidate: %w", err)
	}
	st := info.State
	r.res.ExitCode, r.res.OOMKilled = st.ExitCode, st.OOMKilled
	started, err1 := time.Parse(time.RFC3339Nano, st.StartedAt)
	finished, err2 := time.Parse(time.RFC3339Nano, st.FinishedAt)
	if err1 == nil && err2 == nil && finished.After(started) {
		r.res.Wall = finished.Sub(started)
	}
	if r.sb.cpuByCgroup {
		cpu, err := readCPU(r.id)
		if err != nil {
			r.sb.log.Warn("CPU accounting", "run", r.id, "err", err)
		} else {
			r.res.CPU, r.res.CPUKnown = cpu, true
		}
	}
	return nil
}

// collectTmp reads the candidate's /tmp through the mock container, as a tar stream.
func (r *run) collectTmp(ctx context.Context) {
	rc, _, err := r.sb.cli.CopyFromContainer(ctx, r.mockID, mockTmpView)
	if err != nil {
		r.sb.log.Warn("read candidate /tmp", "run", r.id, "err", err)
		return
	}
	defer rc.Close()
	files, more, err := readTmpTar(rc, r.lim.TmpFileBytes)
	if err != nil {
		r.sb.log.Warn("read candidate /tmp", "run", r.id, "err", err)
	}
	r.res.TmpFiles, r.res.TmpTruncated = files, more
}

// stopMock asks the mock to finish (SIGTERM: it closes its listeners and writes the journal's
// end line), waits for it, and keeps its journal. A mock that died during the run, or had to be
// killed, is recorded in the Result, not returned as an error: only the engine failing is one.
func (r *run) stopMock(ctx context.Context) error {
	id := r.mockID
	info, err := r.sb.cli.ContainerInspect(ctx, id)
	if err != nil {
		return fmt.Errorf("inspect mock: %w", err)
	}
	if info.State != nil && info.State.Running {
		r.res.MockStats = r.mockStats(ctx)
		err := r.sb.cli.ContainerKill(ctx, id, "TERM")
		switch {
		case cerrdefs.IsConflict(err): // it died since: not running any more
			r.res.MockDied = true
		case err != nil:
			return fmt.Errorf("stop mock: %w", err)
		}
	} else {
		r.res.MockDied = true
	}
	if err := r.waitMock(ctx); err != nil {
		return err
	}
	if info, err = r.sb.cli.ContainerInspect(ctx, id); err != nil {
		return fmt.Errorf("inspect mock: %w", err)
	}
	if info.State != nil {
		r.res.MockExit, r.res.MockOOMKilled = info.State.ExitCode, info.State.OOMKilled
	}
	r.mock.finish(drainTimeout)
	r.res.Journal, r.res.MockLog = r.mock.out.Output(), r.mock.errOut.Output()
	if r.res.MockDied || r.res.MockStopKilled || r.res.MockExit != 0 {
		r.sb.log.Warn("mock ended abnormally", "run", r.id, "exit", r.res.MockExit, "oom", r.res.MockOOMKilled,
			"died", r.res.MockDied, "killed_at_stop", r.res.MockStopKilled)
	}
	return nil
}

// waitMock waits up to mockStopGrace for the mock to exit, then kills it and waits again.
func (r *run) waitMock(ctx context.Context) error {
	exited, err := r.waitExit(ctx, r.mockID, mockStopGrace)
	if err != nil || exited {
		return err
	}
	r.res.MockStopKilled = true
	if err := r.sb.cli.ContainerKill(ctx, r.mockID, "KILL"); err != nil && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("kill mock: %w", err)
	}
	if exited, err = r.waitExit(ctx, r.mockID, 10*time.Second); err == nil && !exited {
		err = errors.New("the mock did not exit when killed")
	}
	return err
}

// waitExit waits up to d for a container to stop running; exited is false when d passed.
func (r *run) waitExit(ctx context.Context, id string, d time.Duration) (exited bool, err error) {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	waitCh, errCh := r.sb.cli.ContainerWait(wctx, id, container.WaitConditionNotRunning)
	select {
	case <-waitCh:
		return true, nil
	case err := <-errCh:
		if wctx.Err() != nil && ctx.Err() == nil {
			return false, nil // d passed; the run itself goes on
		}
		return false, fmt.Errorf("wait for mock: %w", err)
	}
}

// mockStats reads the mock container's peak memory and CPU throttling: from its cgroup where the
// engine is local with the cgroupfs driver (instant), else from the engine (a one-shot read
// waits for the engine's next sample: about half a second on Docker 20.10). It is a
// measurement, not a step the run needs: failing to read it is logged, not returned.
func (r *run) mockStats(ctx context.Context) MockStats {
	if r.sb.cpuByCgroup {
		if st, ok := containerStats(r.sb.mockCgroupParent(), r.mockID); ok {
			return st
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := r.sb.cli.ContainerStatsOneShot(sctx, r.mockID)
	if err != nil {
		r.sb.log.Warn("mock stats", "run", r.id, "err", err)
		return MockStats{}
	}
	defer resp.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil {
		r.sb.log.Warn("mock stats", "run", r.id, "err", err)
		return MockStats{}
	}
	th := st.CPUStats.ThrottlingData
	return MockStats{Known: true, PeakMemory: int64(st.MemoryStats.MaxUsage),
		ThrottledPeriods: int64(th.ThrottledPeriods), ThrottledTime: time.Duration(th.ThrottledTime),
		CPU: time.Duration(st.CPUStats.CPUUsage.TotalUsage)}
}

// cleanup removes everything the run made. It runs even when the run's context was cancelled.
func (r *run) cleanup(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	var errs []error
	for _, s := range []*stream{r.cand, r.mock} {
		if s != nil {
			s.close()
		}
	}
	for i := len(r.ids) - 1; i >= 0; i-- {
		err := r.sb.cli.ContainerRemove(cctx, r.ids[i], container.RemoveOptions{Force: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", r.ids[i][:12], err))
		}
	}
	if r.vol != "" {
		if err := r.sb.cli.VolumeRemove(cctx, r.vol, true); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", r.vol, err))
		}
	}
	if r.stage != "" {
		if err := os.RemoveAll(r.stage); err != nil {
			errs = append(errs, fmt.Errorf("remove staging: %w", err))
		}
	}
	if r.sb.cpuByCgroup {
		if err := removeCgroup(r.id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
