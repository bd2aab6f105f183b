package images

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/sandbox/testenv"
)

// createContainer creates a container with no network, and removes it when the test ends.
func createContainer(t *testing.T, cli *client.Client, cfg *container.Config) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, err := cli.ContainerCreate(ctx, cfg, &container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true})
		if !cerrdefs.IsNotFound(err) {
			require.NoError(t, err)
		}
	})
	return created.ID
}

// runContainer runs a container to its end and returns its exit code, stdout and stderr.
func runContainer(t *testing.T, cli *client.Client, cfg *container.Config) (int64, string, string) {
	t.Helper()
	id := createContainer(t, cli, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, cli.ContainerStart(ctx, id, container.StartOptions{}))
	waited, errs := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	var code int64
	select {
	case w := <-waited:
		code = w.StatusCode
	case err := <-errs:
		require.NoError(t, err)
	}
	logs, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	require.NoError(t, err)
	defer logs.Close()
	var stdout, stderr bytes.Buffer
	_, err = stdcopy.StdCopy(&stdout, &stderr, logs)
	require.NoError(t, err)
	return code, stdout.String(), stderr.String()
}

func TestRuntimeWithEngine(t *testing.T) {
	cli := testenv.Client(t)
	node := nodeBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	first, err := Runtime(ctx, cli, node)
	require.NoError(t, err)
	require.Regexp(t, `^itsm-grader-runtime:[0-9a-f]{12}$`, first.Ref)
	info, err := cli.ImageInspect(ctx, first.Ref)
	require.NoError(t, err)
	t.Logf("%s: reused %v, took %v, size %d bytes", first.Ref, first.Reused, first.Took, info.Size)
	require.Equal(t, "1", info.Config.Labels[labelGrader])
	require.Equal(t, "runtime", info.Config.Labels["itsm-grader.kind"])
	require.True(t, strings.HasPrefix(info.Config.Labels["itsm-grader.inputs"], strings.TrimPrefix(first.Ref, "itsm-grader-runtime:")))
	require.Equal(t, "65534:65534", info.Config.User)
	require.Equal(t, []string{"/usr/local/bin/node"}, info.Config.Entrypoint)
	require.Contains(t, info.Config.Env, "HOME=/tmp")

	t.Run("a second build of the same inputs reuses the image, quickly", func(t *testing.T) {
		second, err := Runtime(ctx, cli, node)
		require.NoError(t, err)
		require.Equal(t, Built{Ref: first.Ref, Reused: true, Took: second.Took}, second)
		require.Less(t, second.Took, 10*time.Second)
		t.Logf("reused in %v", second.Took)
	})

	t.Run("Node runs as nobody", func(t *testing.T) {
		code, stdout, stderr := runContainer(t, cli, &container.Config{
			Image: first.Ref,
			Cmd:   []string{"-e", "console.log(process.version, process.getuid())"},
		})
		require.Zero(t, code, stderr)
		require.Equal(t, "v24.21.0 65534\n", stdout)
	})

	t.Run("/tmp is empty, sticky and writable, and HOME points at it", func(t *testing.T) {
		script := `const fs = require("fs"), os = require("os");
const before = fs.readdirSync("/tmp").length;
fs.writeFileSync("/tmp/x", "x");
console.log(before, (fs.statSync("/tmp").mode & 0o7777).toString(8), os.homedir(), fs.statSync("/tmp/x").uid);`
		code, stdout, stderr := runContainer(t, cli, &container.Config{Image: first.Ref, Cmd: []string{"-e", script}})
		require.Zero(t, code, stderr)
		require.Equal(t, "0 1777 /tmp 65534\n", stdout)
	})

	t.Run("the image has no shell", func(t *testing.T) {
		id := createContainer(t, cli, &container.Config{Image: first.Ref, Entrypoint: []string{"/bin/sh"}, Cmd: []string{"-c", "true"}})
		err := cli.ContainerStart(ctx, id, container.StartOptions{})
		require.ErrorContains(t, err, "/bin/sh")
		require.ErrorContains(t, err, "no such file or directory")
	})
}

func TestMockWithEngine(t *testing.T) {
	cli := testenv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	built, err := Mock(ctx, cli, graderBinary(t))
	require.NoError(t, err)
	require.Regexp(t, `^itsm-grader-mock:[0-9a-f]{12}$`, built.Ref)
	info, err := cli.ImageInspect(ctx, built.Ref)
	require.NoError(t, err)
	t.Logf("%s: reused %v, took %v, size %d bytes", built.Ref, built.Reused, built.Took, info.Size)
	require.Equal(t, "mock", info.Config.Labels["itsm-grader.kind"])
	require.Equal(t, []string{"/grader", "mock"}, info.Config.Entrypoint)
	require.Equal(t, "65534:65534", info.Config.User)

	code, stdout, stderr := runContainer(t, cli, &container.Config{Image: built.Ref, Cmd: []string{"--list"}})
	require.Zero(t, code, stderr)
	require.Contains(t, stdout, "happy")
}
