package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/stretchr/testify/require"
)

// The kernel surface of every container: the seccomp profile (the engine's default without
// io_uring), nr_inodes on every /tmp and a small /dev/shm. Each attack is attempted from inside a
// container and shown to fail; each control shows the test could have failed.

// parsedJSON decodes a JSON document for comparison regardless of key order and spacing, numbers
// kept exactly as written.
func parsedJSON(t *testing.T, doc []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v), "%.200s", doc)
	return v
}

// allowedNames lists every system call some rule of a profile names.
func allowedNames(t *testing.T, profile []byte) []string {
	t.Helper()
	var p struct {
		Syscalls []struct{ Names []string }
	}
	require.NoError(t, json.Unmarshal(profile, &p))
	var names []string
	for _, r := range p.Syscalls {
		names = append(names, r.Names...)
	}
	return names
}

func TestSeccompProfileIsTheEngineDefaultWithoutIOUring(t *testing.T) {
	t.Parallel()
	profile := []byte(seccompProfile())
	require.True(t, json.Valid(profile))
	require.NotContains(t, string(profile), "io_uring", "no rule names an io_uring call")
	var head struct {
		DefaultAction   string
		DefaultErrnoRet int
	}
	require.NoError(t, json.Unmarshal(profile, &head))
	require.Equal(t, "SCMP_ACT_ERRNO", head.DefaultAction, "what no rule allows is refused")
	require.Equal(t, 1, head.DefaultErrnoRet, "with EPERM")

	want := slices.DeleteFunc(allowedNames(t, engineSeccompProfile), func(n string) bool { return slices.Contains(refusedSyscalls, n) })
	require.Equal(t, want, allowedNames(t, profile), "every other call of the default stays")
	require.Greater(t, len(want), 350)
	require.Equal(t, parsedJSON(t, engineSeccompProfile), parsedJSON(t, profile),
		"moby's v0.1.0 default already lacks io_uring: taking it out changes nothing else")

	hc := hardened(&container.HostConfig{})
	require.Equal(t, []string{"no-new-privileges", "seccomp=" + string(profile)}, hc.SecurityOpt)
	require.Equal(t, int64(shmBytes), hc.ShmSize)
	require.Equal(t, int64(1<<20), hc.ShmSize)
}

// TestWithoutSyscalls takes io_uring out of profiles that allow it, as Docker 20.10's built-in
// default does.
func TestWithoutSyscalls(t *testing.T) {
	t.Parallel()
	// engine2010 is the embedded default with io_uring allowed again, as in Debian's 20.10.
	var p map[string]any
	require.NoError(t, json.Unmarshal(engineSeccompProfile, &p))
	first := p["syscalls"].([]any)[0].(map[string]any)
	first["names"] = append(first["names"].([]any), "io_uring_enter", "io_uring_register", "io_uring_setup")
	engine2010, err := json.Marshal(p)
	require.NoError(t, err)
	require.Contains(t, allowedNames(t, engine2010), "io_uring_setup")

	cases := []struct {
		name    string
		profile string
		want    string // JSON, compared after decoding
		err     string
	}{
		{
			name:    "the 20.10 engine's default loses io_uring and nothing else",
			profile: string(engine2010),
			want:    string(engineSeccompProfile),
		},
		{
			name:    "a rule naming only refused calls is dropped, the others are kept",
			profile: `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["io_uring_setup","io_uring_enter"],"action":"SCMP_ACT_ALLOW"},{"names":["read","io_uring_register","write"],"action":"SCMP_ACT_ALLOW"}]}`,
			want:    `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}`,
		},
		{
			name:    "the deprecated single name is taken out too",
			profile: `{"defaultAction":"SCMP_ACT_KILL","syscalls":[{"name":"io_uring_setup","action":"SCMP_ACT_ALLOW"},{"name":"read","action":"SCMP_ACT_ALLOW"}]}`,
			want:    `{"defaultAction":"SCMP_ACT_KILL","syscalls":[{"name":"read","action":"SCMP_ACT_ALLOW"}]}`,
		},
		{
			name:    "fields it does not know and large numbers pass through unchanged",
			profile: `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"flags":["SECCOMP_FILTER_FLAG_LOG"],"syscalls":[{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":4294967295,"valueTwo":18446744073709551615,"op":"SCMP_CMP_EQ"}],"includes":{"minKernel":"4.8"}}]}`,
			want:    `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"flags":["SECCOMP_FILTER_FLAG_LOG"],"syscalls":[{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":4294967295,"valueTwo":18446744073709551615,"op":"SCMP_CMP_EQ"}],"includes":{"minKernel":"4.8"}}]}`,
		},
		{
			name:    "a profile that allows by default is refused: taking a call out would allow it",
			profile: `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["io_uring_setup"],"action":"SCMP_ACT_ERRNO"}]}`,
			err:     "default action SCMP_ACT_ALLOW",
		},
		{name: "a profile without a default action is refused", profile: `{"syscalls":[]}`, err: "no defaultAction"},
		{name: "names that are not strings are refused", profile: `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":[1]}]}`, err: "rule 0: names"},
		{name: "text that is not JSON is refused", profile: `defaultAction: SCMP_ACT_ERRNO`, err: "parse seccomp profile"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := withoutSyscalls([]byte(tc.profile), refusedSyscalls)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.NotContains(t, string(got), "io_uring")
			require.Equal(t, parsedJSON(t, []byte(tc.want)), parsedJSON(t, got))
		})
	}
}

// TestEmbeddedSeccompProfileIsMobysDefault builds moby's default profile with moby's own package
// (testdata/seccompgen, a module of its own pinned to the version Docker v28.5.2 uses) and
// compares it byte for byte with the copy the grader embeds.
func TestEmbeddedSeccompProfileIsMobysDefault(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("github.com/moby/profiles/seccomp builds its default profile only on Linux")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", ".")
	cmd.Dir = filepath.Join("testdata", "seccompgen")
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	generated, err := cmd.Output()
	require.NoError(t, err, "go run testdata/seccompgen: %s", stderr.String())
	require.True(t, bytes.Equal(generated, engineSeccompProfile),
		"seccomp_default.json differs from what moby's package generates: regenerate it with `go run .` in sandbox/testdata/seccompgen")
}

func TestTmpfsOptionsCapInodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		lim  Limits
		want string
	}{
		{"the defaults", DefaultLimits(), "size=16777216,nr_inodes=4096,mode=1777,noexec,nosuid,nodev"},
		{"zero limits take the defaults, never tmpfs's unlimited", Limits{}, "size=16777216,nr_inodes=4096,mode=1777,noexec,nosuid,nodev"},
		{"a caller's own caps", Limits{TmpBytes: 1 << 20, TmpInodes: 64}, "size=1048576,nr_inodes=64,mode=1777,noexec,nosuid,nodev"},
		{"a tool's limits", ToolLimits(), "size=16777216,nr_inodes=4096,mode=1777,noexec,nosuid,nodev"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tmpfsOptions(tc.lim))
		})
	}
	require.ErrorContains(t, Limits{TmpInodes: -1}.validate(), "must not be negative")
	require.Equal(t, int64(4096), Limits{}.withDefaults().TmpInodes)
}

// candidateLike runs one container with the candidate's host configuration (the run's own
// candidateHostConfig: hardened, the same resources, the bundle staged and mounted read-only at
// /app, a /tmp volume), except that its network is "none" (there is no mock to join), its entry
// point may be replaced (nil keeps the runtime image's node) and editSecurity may change its
// security options. It returns stdout and the exit code, and checks nothing is left behind.
func candidateLike(t *testing.T, s *Sandbox, bundle string, entrypoint, cmd, env []string, editSecurity func([]string) []string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	release, err := s.slot(ctx)
	require.NoError(t, err)
	defer release()
	r := &run{sb: s, spec: Spec{Bundle: bundle}, lim: DefaultLimits(), id: newRunID(), res: &Result{}}
	defer func() {
		require.NoError(t, r.cleanup(context.Background()))
		requireNothingLeft(t, s, r.id)
	}()
	require.NoError(t, r.stageFiles())
	require.NoError(t, r.makeVolume(ctx))
	hc := r.candidateHostConfig()
	hc.NetworkMode = "none"
	hc.SecurityOpt = editSecurity(slices.Clone(hc.SecurityOpt))
	cfg := &container.Config{
		Image: s.runtimeImage, Entrypoint: entrypoint, Cmd: cmd, Env: env, User: "65534:65534",
		WorkingDir: TmpDir, Labels: s.labels(r.id, "candidate"), AttachStdout: true, AttachStderr: true,
	}
	id, err := r.create(ctx, cfg, hc, "candidate")
	require.NoError(t, err)
	r.cand, err = attach(ctx, s.cli, id, 1<<20, 1<<20)
	require.NoError(t, err)
	require.NoError(t, s.cli.ContainerStart(ctx, id, container.StartOptions{}))
	require.NoError(t, r.await(ctx, id))
	require.False(t, r.res.TimedOut)
	r.cand.finish(drainTimeout)
	info, err := s.cli.ContainerInspect(ctx, id)
	require.NoError(t, err)
	out, errOut := r.cand.out.Output().Data, r.cand.errOut.Output().Data
	t.Logf("exit %d stdout %.300s stderr %.300s", info.State.ExitCode, out, errOut)
	return string(out), info.State.ExitCode
}

// Security options for the controls: the same container without our profile.
var (
	ourProfile    = func(opts []string) []string { return opts }
	engineDefault = func(opts []string) []string {
		return slices.DeleteFunc(opts, func(o string) bool { return strings.HasPrefix(o, "seccomp=") })
	}
	unconfined = func(opts []string) []string { return append(engineDefault(opts), "seccomp=unconfined") }
)

// engineDefaultAllowsIOUring says whether the engine's own default profile still allows io_uring
// (Docker before v25, as Debian's docker.io 20.10).
func engineDefaultAllowsIOUring(t *testing.T, s *Sandbox) bool {
	t.Helper()
	v, err := s.cli.ServerVersion(context.Background())
	require.NoError(t, err)
	major, err := strconv.Atoi(strings.SplitN(v.Version, ".", 2)[0])
	require.NoError(t, err, "engine version %q", v.Version)
	return major < 25
}

// buildIOUringProbe compiles testdata/iouringprobe, static, into a fresh bundle directory.
func buildIOUringProbe(t *testing.T) string {
	t.Helper()
	bundle := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bundle, "iouringprobe"), "./testdata/iouringprobe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "build the io_uring probe: %s", out)
	return bundle
}

// TestIOUringIsRefused makes the three io_uring calls from a static probe in a candidate's
// container: EPERM under our profile; the controls (no filter, and the engine's own default on
// an engine before v25) show the probe reaches the kernel otherwise.
func TestIOUringIsRefused(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	bundle := buildIOUringProbe(t)
	engineRefuses := !engineDefaultAllowsIOUring(t, s)
	cases := []struct {
		name     string
		security func([]string) []string
		refused  bool
	}{
		{"our profile refuses every io_uring call with EPERM", ourProfile, true},
		{"control: without a filter the probe reaches io_uring", unconfined, false},
		{"control: the engine's own default profile (Docker before v25 allows io_uring)", engineDefault, engineRefuses},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, exit := candidateLike(t, s, bundle, []string{BundleDir + "/iouringprobe"}, nil, nil, tc.security)
			require.Equal(t, 0, exit)
			got := map[string]string{}
			require.NoError(t, json.Unmarshal([]byte(lastLine([]byte(out))), &got), out)
			if tc.refused {
				require.Equal(t, map[string]string{"io_uring_setup": "EPERM", "io_uring_enter": "EPERM", "io_uring_register": "EPERM"}, got)
				return
			}
			require.Equal(t, "ok", got["io_uring_setup"], "a ring is set up")
			require.Equal(t, "EBADF", got["io_uring_enter"], "the kernel looks at the descriptor")
			require.Contains(t, []string{"EBADF", "EINVAL"}, got["io_uring_register"], "the kernel looks at the arguments")
		})
	}
}

// nodeIOJS does file I/O through libuv (its thread pool, or io_uring where allowed) and counts
// the io_uring instances the process holds: libuv sets one up for each event loop when it can.
const nodeIOJS = `import fs from "node:fs";
const rings = () => fs.readdirSync("/proc/self/fd").filter(fd => {
  try { return fs.readlinkSync("/proc/self/fd/" + fd) === "anon_inode:[io_uring]"; } catch { return false; }
}).length;
const data = "x".repeat(1 << 20);
await fs.promises.writeFile("/tmp/io.txt", data);
const back = await fs.promises.readFile("/tmp/io.txt", "utf8");
await new Promise(r => setTimeout(r, 10));
const seccomp = /Seccomp:\s*(\d)/.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1];
console.log(JSON.stringify({rings: rings(), same: back === data, seccomp, uv: process.env.UV_USE_IO_URING ?? ""}));`

type nodeIOOutcome struct {
	Rings   int
	Same    bool
	Seccomp string
	UV      string
}

// TestNodeWorksWithoutIOUring runs Node 24 with UV_USE_IO_URING=1 doing file I/O: under our
// profile it works and holds no io_uring; the control shows that libuv does set io_uring up where
// the filter lets it.
func TestNodeWorksWithoutIOUring(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	bundle := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bundle, "main.mjs"), []byte(nodeIOJS), 0o644))
	cases := []struct {
		name      string
		security  func([]string) []string
		wantRings bool
		seccomp   string
	}{
		{"under our profile Node falls back and holds no io_uring", ourProfile, false, "2"},
		{"control: without a filter libuv sets io_uring up", unconfined, true, "0"},
		{"control: under the engine's own default (before v25) libuv sets io_uring up", engineDefault, engineDefaultAllowsIOUring(t, s), "2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, exit := candidateLike(t, s, bundle, nil, []string{BundleDir + "/main.mjs"}, []string{"UV_USE_IO_URING=1"}, tc.security)
			require.Equal(t, 0, exit)
			var got nodeIOOutcome
			require.NoError(t, json.Unmarshal([]byte(lastLine([]byte(out))), &got), out)
			require.True(t, got.Same, "the file reads back as written")
			require.Equal(t, "1", got.UV)
			require.Equal(t, tc.seccomp, got.Seccomp)
			if tc.wantRings {
				require.Positive(t, got.Rings)
			} else {
				require.Zero(t, got.Rings)
			}
		})
	}
}

// mountLineJS finds a mount point's line in /proc/self/mounts.
const mountLineJS = `const mountLine = (p) => fs.readFileSync("/proc/self/mounts", "utf8").split("\n").find(l => l.split(" ")[1] === p) ?? "";
`

// mountOptions are the options of a /proc/self/mounts line.
func mountOptions(t *testing.T, line string) []string {
	t.Helper()
	fields := strings.Fields(line)
	require.Len(t, fields, 6, "mount line %q", line)
	return strings.Split(fields[3], ",")
}

// TestDevShmIsSmall fills /dev/shm from a candidate until the kernel says no, and tries to run a
// script written there.
func TestDevShmIsSmall(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	js := `import fs from "node:fs";
import { spawnSync } from "node:child_process";
` + mountLineJS + `
const out = {mount: mountLine("/dev/shm"), code: ""};
const chunk = Buffer.alloc(64 << 10, 1);
try { for (let i = 0; i < 4096; i++) fs.appendFileSync("/dev/shm/fill", chunk); } catch (e) { out.code = e.code; }
out.stored = fs.statSync("/dev/shm/fill").size;
fs.unlinkSync("/dev/shm/fill");
fs.writeFileSync("/dev/shm/run.mjs", "#!/usr/local/bin/node\nconsole.log('ran')\n", {mode: 0o755});
const r = spawnSync("/dev/shm/run.mjs", {encoding: "utf8"});
out.exec = r.error?.code ?? r.stdout.trim();
console.log(JSON.stringify(out));`
	res, err := s.Run(context.Background(), friendlySpec(t, "happy", js))
	require.NoError(t, err)
	requireNothingLeft(t, s, res.RunID)
	t.Logf("exit %d stdout %.500s stderr %.300s", res.ExitCode, res.Stdout.Data, res.Stderr.Data)
	var got struct {
		Mount, Code, Exec string
		Stored            int64
	}
	require.NoError(t, json.Unmarshal([]byte(lastLine(res.Stdout.Data)), &got), string(res.Stdout.Data))
	require.Equal(t, "ENOSPC", got.Code)
	require.LessOrEqual(t, got.Stored, int64(shmBytes))
	require.Greater(t, got.Stored, int64(shmBytes-64<<10), "the whole 1 MiB is usable, no more")
	opts := mountOptions(t, got.Mount)
	require.Subset(t, opts, []string{"nosuid", "nodev", "noexec", "size=1024k"})
	require.Equal(t, "EACCES", got.Exec, "nothing written there runs")
}

// inodeFloodJS creates empty files in /tmp until the kernel says no (or 100,000, far past any
// cap we set), then reports what statfs says is left.
const inodeFloodJS = `import fs from "node:fs";
` + mountLineJS + `
const out = {mount: mountLine("/tmp"), created: 0, code: ""};
try { for (; out.created < 100000; out.created++) fs.writeFileSync("/tmp/f" + out.created, ""); } catch (e) { out.code = e.code; }
const st = fs.statfsSync("/tmp");
Object.assign(out, {ffree: st.ffree, files: st.files, freeBytes: st.bfree * st.bsize});
console.log(JSON.stringify(out));`

type inodeFlood struct {
	Mount, Code           string
	Created, Ffree, Files int64
	FreeBytes             int64
}

// TestTmpInodesRunOut exhausts /tmp's inodes with empty files, in a candidate's /tmp (a tmpfs
// volume) and a tool's (a tmpfs mount): ENOSPC after about TmpInodes files, with the space
// almost all free.
func TestTmpInodesRunOut(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	cases := []struct {
		name   string
		tool   bool
		limits Limits
	}{
		{name: "a candidate's /tmp, default limits", limits: Limits{}},
		{name: "a candidate's /tmp, its own cap", limits: Limits{TmpInodes: 300}},
		{name: "a tool's /tmp, a tool's limits", tool: true, limits: ToolLimits()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lim := tc.limits.withDefaults()
			var stdout []byte
			if tc.tool {
				stdout = runTool(t, s, inodeFloodJS, tc.limits)
			} else {
				sp := friendlySpec(t, "happy", inodeFloodJS)
				sp.Limits = tc.limits
				res, err := s.Run(context.Background(), sp)
				require.NoError(t, err)
				requireNothingLeft(t, s, res.RunID)
				require.True(t, res.TmpTruncated || len(res.TmpFiles) == int(lim.TmpInodes-1),
					"the files left are collected up to the report's cap")
				stdout = res.Stdout.Data
			}
			var got inodeFlood
			require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &got), string(stdout))
			t.Logf("%+v", got)
			require.Equal(t, "ENOSPC", got.Code)
			require.Contains(t, mountOptions(t, got.Mount), fmt.Sprintf("nr_inodes=%d", lim.TmpInodes))
			require.Equal(t, lim.TmpInodes, got.Files)
			require.Equal(t, lim.TmpInodes-1, got.Created, "/tmp itself takes one inode")
			require.Zero(t, got.Ffree)
			require.Greater(t, got.FreeBytes, lim.TmpBytes*3/4, "well before the size cap")
		})
	}
}

// runTool runs js as a tool (Sandbox.Tool) and returns its stdout; the tool must exit 0 and
// leave no container.
func runTool(t *testing.T, s *Sandbox, js string, lim Limits) []byte {
	t.Helper()
	script := t.TempDir()
	require.NoError(t, os.Chmod(script, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(script, "tool.mjs"), []byte(js), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := s.Tool(ctx, ToolSpec{Mounts: []Mount{{Host: script, Container: "/opt/kernel-test"}}, Command: []string{"/opt/kernel-test/tool.mjs"}, Limits: lim})
	require.NoError(t, err)
	requireNoToolContainer(t, s)
	require.Equal(t, 0, res.ExitCode, "stderr: %s", res.Stderr.Data)
	return res.Stdout.Data
}

// TestContainersWorkUnderTheProfile: a normal run (the mock and a friendly client) and a tool
// start and do their work under the profile. Inside the candidate and the tool, Node holds no
// io_uring (which the engine's default would let it set up); the mock's security options are
// read back from the engine while the run is in flight (the candidate's host name is its mock's).
func TestContainersWorkUnderTheProfile(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	t.Run("the mock and a friendly client", func(t *testing.T) {
		t.Parallel()
		js := strings.Replace(friendlyJS, "console.log(JSON.stringify({", `const fs = await import("node:fs");
const rings = fs.readdirSync("/proc/self/fd").filter(fd => { try { return fs.readlinkSync("/proc/self/fd/" + fd) === "anon_inode:[io_uring]"; } catch { return false; } }).length;
await new Promise(r => setTimeout(r, 3000)); // a window in which the test reads the mock's configuration back
console.log(JSON.stringify({rings, host: (await import("node:os")).hostname(), `, 1)
		ctx, cancel := context.WithCancel(context.Background())
		seen := make(chan map[string][]string, 1)
		go func() { seen <- mockSecurityOpts(ctx, s) }()
		res, err := s.Run(context.Background(), friendlySpec(t, "happy", js))
		cancel()
		mocks := <-seen
		require.NoError(t, err)
		requireNothingLeft(t, s, res.RunID)
		require.Equal(t, 0, res.ExitCode, "stderr: %s", res.Stderr.Data)
		var got struct {
			Rings, Page, Created int
			Host                 string
		}
		require.NoError(t, json.Unmarshal([]byte(lastLine(res.Stdout.Data)), &got), string(res.Stdout.Data))
		require.Equal(t, 200, got.Page)
		require.Equal(t, 201, got.Created)
		require.Zero(t, got.Rings)
		require.Equal(t, 0, res.MockExit)
		require.NotNil(t, readJournal(t, res).End)
		require.Len(t, got.Host, 12)
		var opts []string
		for id, o := range mocks {
			if strings.HasPrefix(id, got.Host) {
				opts = o
			}
		}
		require.Equal(t, []string{"no-new-privileges", "seccomp=" + seccompProfile()}, opts, "mocks seen: %d", len(mocks))
	})
	t.Run("a tool", func(t *testing.T) {
		t.Parallel()
		var got nodeIOOutcome
		out := runTool(t, s, nodeIOJS, Limits{})
		require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &got), string(out))
		require.True(t, got.Same)
		require.Equal(t, "2", got.Seccomp)
		require.Zero(t, got.Rings)
	})
}

// mockSecurityOpts polls the mock containers of this process until ctx ends (or a minute has
// passed) and returns the security options the engine recorded for each, by container ID.
func mockSecurityOpts(ctx context.Context, s *Sandbox) map[string][]string {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	f := filters.NewArgs(filters.Arg("label", LabelRole+"=mock"), filters.Arg("label", LabelOwner+"="+owner))
	seen := map[string][]string{}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if list, err := s.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f}); err == nil {
			for _, c := range list {
				if _, ok := seen[c.ID]; ok {
					continue
				}
				if info, err := s.cli.ContainerInspect(ctx, c.ID); err == nil {
					seen[c.ID] = info.HostConfig.SecurityOpt
				}
			}
		}
		select {
		case <-ctx.Done():
			return seen
		case <-tick.C:
		}
	}
}
