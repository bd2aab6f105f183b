package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/stretchr/testify/require"
)

// probe is what a tool container must not be able to do: it tries, and reports each outcome.
// The connect attempt goes to an address in TEST-NET-3 (RFC 5737), which is never routed; with
// network "none" it fails before any packet could leave.
const probe = `
import * as fs from "node:fs";
import * as net from "node:net";
const out = {};
out.read = fs.readFileSync("/opt/itsm-probe-in/input.txt", "utf8").trim();
try { fs.writeFileSync("/opt/itsm-probe-in/written.txt", "x"); out.writeMount = "written"; } catch (e) { out.writeMount = e.code; }
try { fs.writeFileSync("/etc/written", "x"); out.writeRoot = "written"; } catch (e) { out.writeRoot = e.code; }
try { fs.writeFileSync("/tmp/scratch", "x"); out.writeTmp = "ok"; } catch (e) { out.writeTmp = e.code; }
out.interfaces = Object.keys((await import("node:os")).networkInterfaces()).sort();
out.connect = await new Promise((resolve) => {
  const s = net.connect({ host: "203.0.113.7", port: 443, timeout: 3000 });
  s.on("connect", () => { s.destroy(); resolve("connected"); });
  s.on("timeout", () => { s.destroy(); resolve("timeout"); });
  s.on("error", (e) => resolve(e.code));
});
out.uid = process.getuid();
console.log(JSON.stringify(out));
`

func TestToolRunsContained(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Docker")
	}
	s := sandboxForTest(t)
	script, in := t.TempDir(), t.TempDir()
	for _, d := range []string{script, in} {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(script, "probe.mjs"), []byte(probe), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(in, "input.txt"), []byte("hello from the host\n"), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := s.Tool(ctx, ToolSpec{
		Mounts:  []Mount{{Host: script, Container: "/opt/itsm-probe"}, {Host: in, Container: "/opt/itsm-probe-in"}},
		Command: []string{"/opt/itsm-probe/probe.mjs"},
	})
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "stderr: %s", res.Stderr.Data)
	got := strings.TrimSpace(string(res.Stdout.Data))
	require.Contains(t, got, `"read":"hello from the host"`)
	require.Contains(t, got, `"writeMount":"EROFS"`, "mounts are read-only")
	require.Contains(t, got, `"writeRoot":"EROFS"`, "the root is read-only")
	require.Contains(t, got, `"writeTmp":"ok"`, "a small /tmp is writable")
	require.Contains(t, got, `"interfaces":["lo"]`, "loopback only")
	require.Contains(t, got, `"connect":"ENETUNREACH"`)
	require.Contains(t, got, `"uid":65534`)
	require.NoFileExists(t, filepath.Join(in, "written.txt"))
	requireNoToolContainer(t, s)
}

func TestToolStoppedAtItsWallLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Docker")
	}
	s := sandboxForTest(t)
	script := t.TempDir()
	require.NoError(t, os.Chmod(script, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(script, "spin.mjs"), []byte("for (;;) {}\n"), 0o644))
	lim := ToolLimits()
	lim.Wall = 2 * time.Second
	start := time.Now()
	res, err := s.Tool(context.Background(), ToolSpec{Mounts: []Mount{{Host: script, Container: "/opt/spin"}}, Command: []string{"/opt/spin/spin.mjs"}, Limits: lim})
	require.NoError(t, err)
	require.True(t, res.TimedOut)
	require.Less(t, time.Since(start), time.Minute)
	requireNoToolContainer(t, s)
}

func TestToolSpecErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, spec := range map[string]ToolSpec{
		"no command":         {Mounts: []Mount{{Host: dir, Container: "/opt/x"}}},
		"relative host":      {Command: []string{"x"}, Mounts: []Mount{{Host: "rel", Container: "/opt/x"}}},
		"missing host":       {Command: []string{"x"}, Mounts: []Mount{{Host: filepath.Join(dir, "nope"), Container: "/opt/x"}}},
		"over /etc":          {Command: []string{"x"}, Mounts: []Mount{{Host: dir, Container: "/etc"}}},
		"under /proc":        {Command: []string{"x"}, Mounts: []Mount{{Host: dir, Container: "/proc/x"}}},
		"unclean path":       {Command: []string{"x"}, Mounts: []Mount{{Host: dir, Container: "/opt/../etc"}}},
		"option smuggling":   {Command: []string{"x"}, Mounts: []Mount{{Host: dir, Container: "/opt/x:rw"}}},
		"same point twice":   {Command: []string{"x"}, Mounts: []Mount{{Host: dir, Container: "/opt/x"}, {Host: dir, Container: "/opt/x"}}},
		"relative container": {Command: []string{"x"}, Mounts: []Mount{{Host: dir, Container: "opt/x"}}},
	} {
		t.Run(name, func(t *testing.T) {
			s := &Sandbox{runtimeImage: "unused"}
			_, err := s.Tool(context.Background(), spec)
			require.ErrorContains(t, err, "tool spec")
		})
	}
}

func requireNoToolContainer(t *testing.T, s *Sandbox) {
	t.Helper()
	f := filters.NewArgs(filters.Arg("label", LabelRole+"=tool"), filters.Arg("label", LabelOwner+"="+owner))
	list, err := s.cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: f})
	require.NoError(t, err)
	require.Empty(t, list, "tool containers left behind")
}
