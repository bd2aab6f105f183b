package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
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
	Journal   Output
	MockLog   Output
	MockExit  int
	Timeline  Timeline
	BundleLog safecopy.Report
}

// Timeline marks a run's phases on the host's clock.
type Timeline struct {
	Start, MockReady, CandidateStarted, CandidateExited, Done time.Time
}

// mockReadyTimeout bounds the mock's start-up.
const mockReadyTimeout = 20 * time.Second

// drainTimeout bounds reading what is left of an output stream after its container exited: a
// daemonised child could hold it open forever.
const drainTimeout = 3 * time.Second

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
	release, err := s.slot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	r := &run{sb: s, spec: spec, lim: spec.Limits.withDefaults(), id: newRunID()}
	r.res = &Result{RunID: r.id, Timeline: Timeline{Start: time.Now()}}
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
	if err := r.runCandidate(ctx); err != nil {
		return err
	}
	r.collectTmp(ctx)
	return r.stopMock(ctx)
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
	memory := int64(512 << 20)
	pids := int64(256)
	hc := hardened(&container.HostConfig{
		NetworkMode: "none",
		ExtraHosts:  r.spec.extraHosts(),
		Binds: []string{
			filepath.Join(r.stage, "mock") + ":" + FilesDir + ":ro",
			r.vol + ":" + mockTmpView + ":ro",
		},
		Resources: container.Resources{Memory: memory, MemorySwap: memory, PidsLimit: &pids},
	})
	cfg := &container.Config{
		Image: r.sb.mockImage, Cmd: r.spec.MockArgs, User: "65534:65534",
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

func (r *run) runCandidate(ctx context.Context) error {
	id := r.candID
	if err := r.sb.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return fmt.Errorf("start candidate: %w", err)
	}
	r.res.Timeline.CandidateStarted = time.Now()
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
// end line), waits for it, and keeps its journal.
func (r *run) stopMock(ctx context.Context) error {
	id := r.mockID
	if err := r.sb.cli.ContainerKill(ctx, id, "TERM"); err != nil && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("stop mock: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	waitCh, errCh := r.sb.cli.ContainerWait(wctx, id, container.WaitConditionNotRunning)
	select {
	case w := <-waitCh:
		r.res.MockExit = int(w.StatusCode)
	case err := <-errCh:
		return fmt.Errorf("wait for mock: %w", err)
	}
	r.mock.finish(drainTimeout)
	r.res.Journal, r.res.MockLog = r.mock.out.Output(), r.mock.errOut.Output()
	if r.res.MockExit != 0 {
		return fmt.Errorf("mock exited with %d: %s", r.res.MockExit, r.res.MockLog.Data)
	}
	return nil
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
