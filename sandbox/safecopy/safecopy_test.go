package safecopy

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
}

// TestLinksOutOfTheTreeAreNeverFollowed builds a hostile submission: links to a host file, to
// the host root, and a relative link climbing out. None may bring anything of the host along.
func TestLinksOutOfTheTreeAreNeverFollowed(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	write(t, filepath.Join(outside, "secret.txt"), "host secret")
	src := t.TempDir()
	write(t, filepath.Join(src, "src", "index.ts"), "export {}")
	write(t, filepath.Join(src, "node_modules", "pkg", "bin.js"), "#!/usr/bin/env node")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "node_modules", ".bin"), 0o700))
	require.NoError(t, os.Symlink("../pkg/bin.js", filepath.Join(src, "node_modules", ".bin", "pkg")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(src, "abs-link")))
	require.NoError(t, os.Symlink("/", filepath.Join(src, "root-link")))
	require.NoError(t, os.Symlink("../../"+filepath.Base(outside)+"/secret.txt", filepath.Join(src, "src", "climb")))

	dst := filepath.Join(t.TempDir(), "copy")
	rep, err := Copy(src, dst, Caps{})
	require.NoError(t, err)
	var skipped []string
	for _, s := range rep.Skipped {
		skipped = append(skipped, s.Path)
	}
	require.ElementsMatch(t, []string{"abs-link", "root-link", filepath.Join("src", "climb")}, skipped)

	target, err := os.Readlink(filepath.Join(dst, "node_modules", ".bin", "pkg"))
	require.NoError(t, err, "a link inside the tree is kept as a link")
	require.Equal(t, "../pkg/bin.js", target)
	err = filepath.Walk(dst, func(p string, info os.FileInfo, err error) error {
		require.NoError(t, err)
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			require.NotContains(t, string(b), "host secret")
		}
		if info.IsDir() {
			require.Equal(t, os.FileMode(0o755), info.Mode().Perm(), p)
		}
		return nil
	})
	require.NoError(t, err)
}

// TestCapsRefuseBeforeAnyCopy: a tree over a cap leaves nothing behind.
func TestCapsRefuseBeforeAnyCopy(t *testing.T) {
	t.Parallel()
	many := t.TempDir()
	for i := range 60 {
		write(t, filepath.Join(many, "f", strings.Repeat("x", 1+i%7)+string(rune('a'+i%26))+string(rune('a'+i/26))), "x")
	}
	big := t.TempDir()
	write(t, filepath.Join(big, "blob"), strings.Repeat("y", 4096))
	deep := t.TempDir()
	write(t, filepath.Join(deep, "a", "b", "c", "d", "e", "f.txt"), "deep")
	cases := []struct {
		name string
		src  string
		caps Caps
		want string
	}{
		{"too many files", many, Caps{MaxFiles: 50}, "more than 50 files"},
		{"too many bytes", big, Caps{MaxBytes: 1000}, "more than 1000 bytes"},
		{"too deep", deep, Caps{MaxDepth: 3}, "deeper than 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dst := filepath.Join(t.TempDir(), "copy")
			_, err := Copy(tc.src, dst, tc.caps)
			require.ErrorIs(t, err, ErrOverCap)
			require.ErrorContains(t, err, tc.want)
			require.NoDirExists(t, dst, "refused before any copy")
		})
	}
}

func TestSourceMustBeADirectory(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "file")
	write(t, f, "x")
	_, err := Copy(f, filepath.Join(t.TempDir(), "copy"), Caps{})
	require.ErrorContains(t, err, "not a directory")
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(t.TempDir(), link))
	_, err = Copy(link, filepath.Join(t.TempDir(), "copy"), Caps{})
	require.ErrorContains(t, err, "not a directory", "the root itself may not be a link")
}

// TestDefaultCapsRefuseTheIssuesExamples: 10,000 files, or 200 MB (a sparse file: the survey
// reads sizes, never contents).
func TestDefaultCapsRefuseTheIssuesExamples(t *testing.T) {
	t.Parallel()
	many := t.TempDir()
	for i := range 10_000 {
		dir := filepath.Join(many, "d"+strings.Repeat("0", i%3), string(rune('a'+i%20)))
		require.NoError(t, os.MkdirAll(dir, 0o700))
		f, err := os.Create(filepath.Join(dir, "f"+strings.Repeat("1", i%5)+"-"+filepath.Base(t.Name())+"-"+strconv.Itoa(i)))
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	big := t.TempDir()
	f, err := os.Create(filepath.Join(big, "huge.bin"))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(200<<20))
	require.NoError(t, f.Close())
	for _, src := range []string{many, big} {
		dst := filepath.Join(t.TempDir(), "copy")
		_, err := Copy(src, dst, DefaultCaps())
		require.ErrorIs(t, err, ErrOverCap)
		require.NoDirExists(t, dst)
	}
}
