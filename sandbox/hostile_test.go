package sandbox

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Hostile submissions. Each must be contained, end as a clear outcome in the Result, and leave
// no container, volume or cgroup behind. Network attempts are made only from inside the
// candidate's namespace, which has no route: the kernel refuses them before a packet exists.
func TestHostileSubmissionsAreContained(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	cases := []struct {
		name   string
		js     string
		limits Limits
		check  func(t *testing.T, res *Result, out map[string]any)
	}{
		{
			name:   "an infinite CPU loop is stopped at the wall limit, its CPU time measured",
			js:     `for (;;) {}`,
			limits: Limits{Wall: 3 * time.Second},
			check: func(t *testing.T, res *Result, _ map[string]any) {
				require.True(t, res.TimedOut)
				require.True(t, res.CPUKnown)
				// Under a loaded machine the loop gets less than its full core; a timer-based wait
				// of the same length uses about 0.1 s (the next case), so 1 s apart is unmistakable.
				require.Greater(t, res.CPU, time.Second, "a busy loop burns CPU")
				require.LessOrEqual(t, res.CPU, res.Wall+500*time.Millisecond, "quota: one CPU")
			},
		},
		{
			name: "a timer-based wait burns almost no CPU",
			js:   `await new Promise(r => setTimeout(r, 2000)); console.log("{}")`,
			check: func(t *testing.T, res *Result, _ map[string]any) {
				require.False(t, res.TimedOut)
				// The wait happened. Not ≥ 2 s: the engine records StartedAt once the process
				// runs, so under load its Wall fell short of the candidate's own timer (1.957 s
				// with seven test packages on two cores).
				require.Greater(t, res.Wall, 1500*time.Millisecond)
				require.Less(t, res.CPU, 500*time.Millisecond)
			},
		},
		{
			name:   "a memory bomb is killed at the memory limit",
			js:     `const keep = []; for (;;) { keep.push(Buffer.alloc(8 << 20, 1)); }`,
			limits: Limits{MemoryBytes: 128 << 20, Wall: 30 * time.Second},
			check: func(t *testing.T, res *Result, _ map[string]any) {
				require.False(t, res.TimedOut)
				require.True(t, res.OOMKilled || res.ExitCode != 0, "exit %d", res.ExitCode)
				require.True(t, res.OOMKilled, "off-heap buffers exhaust the cgroup, not V8's heap")
			},
		},
		{
			name: "a fork bomb stops at the process limit",
			js: `import { spawn } from "node:child_process";
let ok = 0, failed = 0;
for (let i = 0; i < 400; i++) {
  try {
    const c = spawn(process.execPath, ["-e", "setTimeout(()=>{}, 60000)"], {stdio: "ignore"});
    c.on("error", () => failed++);
    ok++;
  } catch { failed++; }
  await new Promise(r => setTimeout(r, 5));
}
await new Promise(r => setTimeout(r, 500));
console.log(JSON.stringify({ok, failed}));
process.exit(0);`,
			limits: Limits{Pids: 64, MemoryBytes: 1 << 30, Wall: 40 * time.Second},
			check: func(t *testing.T, res *Result, out map[string]any) {
				require.False(t, res.TimedOut)
				require.Greater(t, out["failed"], float64(0), "spawns fail once the pids limit is reached")
			},
		},
		{
			name: "an output flood is capped and counted",
			js:   `const line = "x".repeat(1023) + "\n"; for (let i = 0; i < 20480; i++) process.stdout.write(line);`,
			check: func(t *testing.T, res *Result, _ map[string]any) {
				require.True(t, res.Stdout.Truncated)
				require.Equal(t, int64(20<<20), res.Stdout.Total)
				require.Len(t, res.Stdout.Data, DefaultLimits().OutputBytes)
			},
		},
		{
			name: "filling /tmp ends at the tmpfs size",
			js: `import fs from "node:fs";
let written = 0, code = "";
try { for (;;) { fs.appendFileSync("/tmp/fill", Buffer.alloc(1 << 20)); written += 1 << 20; } }
catch (e) { code = e.code; }
fs.symlinkSync("/etc/passwd", "/tmp/link");
console.log(JSON.stringify({written, code}));`,
			limits: Limits{TmpBytes: 4 << 20},
			check: func(t *testing.T, res *Result, out map[string]any) {
				require.Equal(t, "ENOSPC", out["code"])
				require.LessOrEqual(t, out["written"], float64(4<<20))
				byPath := map[string]File{}
				for _, f := range res.TmpFiles {
					byPath[f.Path] = f
				}
				require.Equal(t, "file", byPath["fill"].Type)
				require.LessOrEqual(t, byPath["fill"].Size, int64(4<<20))
				require.True(t, byPath["fill"].Truncated, "only the first bytes of a file are kept")
				require.Equal(t, "symlink", byPath["link"].Type)
				require.Equal(t, "/etc/passwd", byPath["link"].LinkTarget)
				require.Empty(t, byPath["link"].Data, "a link is recorded, never followed")
			},
		},
		{
			name: "nothing outside /tmp is writable",
			js: `import fs from "node:fs";
const out = {};
for (const p of ["/app/x", "/x", "/etc/passwd", "/run/itsm/x", "/usr/local/bin/node"]) {
  try { fs.writeFileSync(p, "x"); out[p] = "written"; } catch (e) { out[p] = e.code; }
}
console.log(JSON.stringify(out));`,
			check: func(t *testing.T, _ *Result, out map[string]any) {
				require.Len(t, out, 5)
				for p, v := range out {
					require.Contains(t, []any{"EROFS", "EACCES"}, v, p)
				}
			},
		},
		{
			name: "no address outside loopback can be reached, and there is no DNS",
			js: `import net from "node:net";
import dns from "node:dns/promises";
const out = {};
const connect = (host, port) => new Promise(res => {
  const s = net.connect({host, port, timeout: 3000});
  s.on("connect", () => { s.destroy(); res("connected"); });
  s.on("timeout", () => { s.destroy(); res("timeout"); });
  s.on("error", e => res(e.code));
});
for (const [name, host, port] of [["public", "1.1.1.1", 80], ["private-10", "10.0.0.1", 80], ["private-192", "192.168.1.1", 80], ["docker-host", "172.17.0.1", 2375], ["ipv6", "2606:4700::1111", 80]]) {
  out[name] = await connect(host, port);
}
try { await dns.lookup("example.com"); out.dns = "resolved"; } catch (e) { out.dns = e.code; }
try { await fetch("http://example.com/"); out.fetch = "fetched"; } catch (e) { out.fetch = e.cause?.code ?? e.message; }
out.loopback = await connect("127.0.0.1", 8080);
console.log(JSON.stringify(out));`,
			check: func(t *testing.T, _ *Result, out map[string]any) {
				// The kernel refuses at once (no route, or no address to send from): no packet
				// is ever made, and nothing waits for an answer.
				for _, k := range []string{"public", "private-10", "private-192", "docker-host", "ipv6"} {
					require.Contains(t, []any{"ENETUNREACH", "EADDRNOTAVAIL"}, out[k], k)
				}
				require.NotEqual(t, "resolved", out["dns"])
				require.NotEqual(t, "fetched", out["fetch"])
				require.Equal(t, "connected", out["loopback"], "the mock is on the shared loopback")
			},
		},
		{
			name: "host paths cannot be read",
			js: `import fs from "node:fs";
const out = {};
for (const p of ["/etc/shadow", "/root", "/var/run/docker.sock", "/run/docker.sock", "/proc/1/root/etc/hostname", "/home"]) {
  try { fs.readdirSync(p); out[p] = "listed"; } catch (e) {
    try { fs.readFileSync(p); out[p] = "read"; } catch (e2) { out[p] = e2.code; }
  }
}
out.ps = fs.readdirSync("/proc").filter(n => /^\d+$/.test(n)).length;
console.log(JSON.stringify(out));`,
			check: func(t *testing.T, _ *Result, out map[string]any) {
				for _, p := range []string{"/etc/shadow", "/root", "/var/run/docker.sock", "/run/docker.sock", "/home"} {
					require.Contains(t, []any{"ENOENT", "EACCES"}, out[p], p)
				}
				require.Less(t, out["ps"], float64(5), "its own PID namespace: the mock's processes are invisible")
			},
		},
		{
			name: "the mock cannot be killed or signalled",
			js: `const out = {denied: 0, killedSelfless: 0};
for (let pid = 2; pid < 300; pid++) {
  try { process.kill(pid, "SIGKILL"); out.killedSelfless++; } catch (e) { out.denied++; }
}
const r = await fetch(process.env.ITSM_SOURCE_URL + "/api/now/table/incident", {headers: {Authorization: "Bearer " + process.env.ITSM_SOURCE_TOKEN}});
out.after = r.status;
console.log(JSON.stringify(out));`,
			check: func(t *testing.T, res *Result, out map[string]any) {
				require.Equal(t, float64(200), out["after"], "the mock still answers")
				require.Equal(t, 0, res.MockExit)
			},
		},
		{
			name: "a daemonised child does not hold the run open",
			js: `import { spawn } from "node:child_process";
const c = spawn(process.execPath, ["-e", "setInterval(() => process.stdout.write('.'), 100)"], {detached: true, stdio: ["ignore", "inherit", "inherit"]});
c.unref();
console.log(JSON.stringify({child: c.pid}));`,
			limits: Limits{Wall: 60 * time.Second},
			check: func(t *testing.T, res *Result, _ map[string]any) {
				require.False(t, res.TimedOut)
				require.Less(t, res.Timeline.Done.Sub(res.Timeline.Start), 20*time.Second)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sp := friendlySpec(t, "happy", tc.js)
			sp.Limits = tc.limits
			res, err := s.Run(context.Background(), sp)
			require.NoError(t, err)
			requireNothingLeft(t, s, res.RunID)
			out := map[string]any{}
			if line := lastLine(res.Stdout.Data); strings.HasPrefix(line, "{") {
				require.NoError(t, json.Unmarshal([]byte(line), &out), line)
			}
			t.Logf("exit %d oom %v timeout %v wall %v cpu %v out %v stderr %.300s", res.ExitCode, res.OOMKilled, res.TimedOut, res.Wall, res.CPU, out, res.Stderr.Data)
			tc.check(t, res, out)
			l := readJournal(t, res)
			require.NotNil(t, l.End, "the journal survives whatever the candidate did")
		})
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
