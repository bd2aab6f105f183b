package images

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// smallContext is a context with one generated and one copied file.
func smallContext(t *testing.T, copied string) buildContext {
	t.Helper()
	source := filepath.Join(t.TempDir(), "tool")
	require.NoError(t, os.WriteFile(source, []byte(copied), 0o600))
	rootfs := etcFiles()
	rootfs["/usr/local/bin/tool"] = file{mode: 0o755, source: source}
	return buildContext{dockerfile: "FROM scratch\nCOPY rootfs/ /\n", rootfs: rootfs, dirs: map[string]int64{"/tmp": 0o1777}}
}

func contextBytes(t *testing.T, bc buildContext) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, bc.writeTo(&buf))
	return buf.Bytes()
}

func TestContextIsDeterministic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		context func(t *testing.T) buildContext
	}{
		{"a small context", func(t *testing.T) buildContext { return smallContext(t, "tool") }},
		{"the runtime context", func(t *testing.T) buildContext {
			bc, err := runtimeContext(nodeBinary(t))
			require.NoError(t, err)
			return bc
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bc := tt.context(t)
			first, second := contextBytes(t, bc), contextBytes(t, bc)
			require.True(t, bytes.Equal(first, second), "two writes of the same context differ")
			h1, err := bc.hash()
			require.NoError(t, err)
			h2, err := bc.hash()
			require.NoError(t, err)
			require.Equal(t, h1, h2)
			require.Len(t, h1, 64)
		})
	}
}

func TestContextHashFollowsContent(t *testing.T) {
	t.Parallel()
	base, err := smallContext(t, "tool v1").hash()
	require.NoError(t, err)
	again, err := smallContext(t, "tool v1").hash()
	require.NoError(t, err)
	changed, err := smallContext(t, "tool v2").hash()
	require.NoError(t, err)
	require.Equal(t, base, again, "the same content in another host file hashes the same")
	require.NotEqual(t, base, changed, "other content hashes differently")
}

// header is what the tests check of one tar entry.
type header struct {
	Type byte
	Mode int64
}

func readContext(t *testing.T, bc buildContext) (names []string, headers map[string]header, data map[string]string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(contextBytes(t, bc)))
	headers, data = map[string]header{}, map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, headers, data
		}
		require.NoError(t, err)
		require.Zero(t, h.Uid, h.Name)
		require.Zero(t, h.Gid, h.Name)
		require.True(t, h.ModTime.Equal(contextTime), h.Name)
		names = append(names, h.Name)
		headers[h.Name] = header{h.Typeflag, h.Mode}
		if h.Size < 1<<16 {
			b, err := io.ReadAll(tr)
			require.NoError(t, err)
			data[h.Name] = string(b)
		}
	}
}

func TestRuntimeContextLayout(t *testing.T) {
	t.Parallel()
	node := nodeBinary(t)
	bc, err := runtimeContext(node)
	require.NoError(t, err)
	names, headers, data := readContext(t, bc)

	require.True(t, slices.IsSorted(names), "entries sorted: %v", names)
	require.Equal(t, "Dockerfile", names[0])
	require.Contains(t, data["Dockerfile"], `ENTRYPOINT ["/usr/local/bin/node"]`)
	require.Contains(t, data["Dockerfile"], "USER 65534:65534")
	require.Contains(t, data["Dockerfile"], "ENV HOME=/tmp")
	require.Equal(t, header{tar.TypeDir, 0o1777}, headers["rootfs/tmp/"])
	require.Equal(t, header{tar.TypeReg, 0o755}, headers["rootfs/usr/local/bin/node"])
	require.Equal(t, header{tar.TypeReg, 0o644}, headers["rootfs/etc/passwd"])
	require.Contains(t, data["rootfs/etc/passwd"], "nobody:x:65534:65534:")
	require.Equal(t, "nogroup:x:65534:\n", data["rootfs/etc/group"])

	deps, err := Dependencies(node)
	require.NoError(t, err)
	var files []string
	for _, name := range names {
		if headers[name].Type == tar.TypeReg {
			files = append(files, name)
		}
		if headers[name].Type == tar.TypeDir && name != "rootfs/tmp/" {
			require.Equal(t, int64(0o755), headers[name].Mode, name)
		}
	}
	want := []string{"Dockerfile", "rootfs/etc/group", "rootfs/etc/passwd", "rootfs/usr/local/bin/node"}
	for _, dep := range deps {
		want = append(want, "rootfs"+dep)
	}
	slices.Sort(want)
	require.Equal(t, want, files, "Node, its libraries, passwd and group: nothing else")
	for _, name := range names {
		require.False(t, strings.HasSuffix(name, "/sh"), "no shell: %s", name)
	}
}
