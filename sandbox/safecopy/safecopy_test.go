package safecopy

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
}

// hostFile is a file outside every tree a test copies into or out of, standing for a host file
// an attack aims at. unchanged asserts nothing wrote to it or beside it.
type hostFile struct {
	dir, path string
	content   string
	modTime   time.Time
}

func newHostFile(t *testing.T, dir string) hostFile {
	t.Helper()
	h := hostFile{dir: dir, path: filepath.Join(dir, "host-secret"), content: "host secret " + t.Name()}
	write(t, h.path, h.content)
	st, err := os.Stat(h.path)
	require.NoError(t, err)
	h.modTime = st.ModTime()
	return h
}

func (h hostFile) unchanged(t *testing.T) {
	t.Helper()
	got, err := os.ReadFile(h.path)
	require.NoError(t, err)
	require.Equal(t, h.content, string(got), "the host file was overwritten")
	st, err := os.Stat(h.path)
	require.NoError(t, err)
	require.Equal(t, h.modTime, st.ModTime())
	names, err := os.ReadDir(h.dir)
	require.NoError(t, err)
	require.Len(t, names, 1, "nothing was written beside the host file")
}

// emptyFiles makes n empty files in dir (mknod: one system call a file, a quarter of what
// create-and-close costs on this machine's disk).
func emptyFiles(t *testing.T, dir string, n int) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for i := range n {
		require.NoError(t, syscall.Mknod(filepath.Join(dir, strconv.Itoa(i)+".js"), syscall.S_IFREG|0o644, 0))
	}
}

// shortTempDir is a temporary folder with a short path (a unix socket's path is limited to 108
// bytes, and t.TempDir's carry the test's name).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sc-")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, os.RemoveAll(dir)) })
	return dir
}

// treeFiles maps every regular file under dir to its content and every folder to "/", and
// checks the modes Copy and Untar promise.
func treeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		rel, err := filepath.Rel(dir, p)
		require.NoError(t, err)
		info, err := d.Info()
		require.NoError(t, err)
		switch {
		case rel == ".":
			require.Equal(t, fs.FileMode(0o755), info.Mode().Perm())
		case info.IsDir():
			require.Equal(t, fs.FileMode(0o755), info.Mode().Perm(), rel)
			got[rel] = "/"
		case info.Mode().IsRegular():
			require.Contains(t, []fs.FileMode{0o644, 0o755}, info.Mode().Perm(), rel)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			got[rel] = string(b)
		default:
			t.Fatalf("%s is neither a regular file nor a folder: %v", rel, info.Mode())
		}
		return nil
	})
	require.NoError(t, err)
	return got
}

// chainedLinks lays out the attack in src: a/b/r -> ../.. (the tree's root), then
// a/b/evil -> r/a/b/r/../<outside>, which a lexical check reads as a/b/r/a/b/<outside> (inside)
// but the kernel resolves to the folder beside src. It asserts the chain really reaches out.
func chainedLinks(t *testing.T, src string, outside hostFile) {
	t.Helper()
	require.Equal(t, filepath.Dir(src), filepath.Dir(outside.dir), "the host folder sits beside the tree")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "a", "b"), 0o755))
	require.NoError(t, os.Symlink("../..", filepath.Join(src, "a", "b", "r")))
	require.NoError(t, os.Symlink("r/a/b/r/../"+filepath.Base(outside.dir), filepath.Join(src, "a", "b", "evil")))
	got, err := os.ReadFile(filepath.Join(src, "a", "b", "evil", filepath.Base(outside.path)))
	require.NoError(t, err, "the chain leads out of the tree")
	require.Equal(t, outside.content, string(got))
}

// TestCopyRefusesWhatIsNotARegularFileOrFolder: each hostile tree is refused before anything
// is written, with the sentinel and a message naming the path and what it is.
func TestCopyRefusesWhatIsNotARegularFileOrFolder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// plant lays the hostile entry into src; host is a file outside the tree.
		plant func(t *testing.T, src string, host hostFile)
		want  string
	}{
		{"the issue's chain of symlinks that each look in-tree", chainedLinks, "a/b/evil is a symbolic link"},
		{"a symlink that stays inside the tree", func(t *testing.T, src string, _ hostFile) {
			require.NoError(t, os.Symlink("index.ts", filepath.Join(src, "src", "alias.ts")))
		}, "src/alias.ts is a symbolic link: a submission holds regular files and folders only"},
		{"a symlink to a host file", func(t *testing.T, src string, host hostFile) {
			require.NoError(t, os.Symlink(host.path, filepath.Join(src, "src", "leak")))
		}, "src/leak is a symbolic link"},
		{"a symlink to the host's root", func(t *testing.T, src string, _ hostFile) {
			require.NoError(t, os.Symlink("/", filepath.Join(src, "root")))
		}, "root is a symbolic link"},
		{"a hard link to a host file", func(t *testing.T, src string, host hostFile) {
			require.NoError(t, os.Link(host.path, filepath.Join(src, "src", "hard")))
		}, "src/hard is a hard link (one of 2 names of the same file)"},
		{"a FIFO", func(t *testing.T, src string, _ hostFile) {
			require.NoError(t, syscall.Mkfifo(filepath.Join(src, "src", "pipe"), 0o600))
		}, "src/pipe is a FIFO"},
		{"a unix socket", func(t *testing.T, src string, _ hostFile) {
			l, err := net.Listen("unix", filepath.Join(src, "s"))
			require.NoError(t, err)
			t.Cleanup(func() { _ = l.Close() })
		}, "s is a socket"},
		{"a character device", func(t *testing.T, src string, _ hostFile) {
			err := syscall.Mknod(filepath.Join(src, "src", "null"), syscall.S_IFCHR|0o600, 1<<8|3)
			if os.Geteuid() != 0 || err == syscall.EPERM {
				t.Skip("mknod needs root")
			}
			require.NoError(t, err)
		}, "src/null is a character device"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := shortTempDir(t)
			host := newHostFile(t, filepath.Join(base, "host"))
			src := filepath.Join(base, "src")
			write(t, filepath.Join(src, "src", "index.ts"), "export {}")
			tc.plant(t, src, host)
			dst := filepath.Join(base, "copy")
			_, err := Copy(src, dst, Caps{})
			require.ErrorIs(t, err, ErrNotRegular)
			require.ErrorContains(t, err, tc.want)
			require.NoDirExists(t, dst, "refused before anything is written")
			host.unchanged(t)
		})
	}
}

// TestCopyKeepsRegularFilesAndFolders: a plain tree comes across whole, modes normalised (a
// private 0600 file becomes readable, an executable stays executable, nothing else carries).
func TestCopyKeepsRegularFilesAndFolders(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	write(t, filepath.Join(src, "src", "index.ts"), "export {}")
	write(t, filepath.Join(src, "package.json"), "{}")
	write(t, filepath.Join(src, "bin", "run"), "#!/bin/sh")
	require.NoError(t, os.Chmod(filepath.Join(src, "bin", "run"), 0o4711))
	require.NoError(t, os.MkdirAll(filepath.Join(src, "empty"), 0o700))
	write(t, filepath.Join(src, "none"), "")
	dst := filepath.Join(t.TempDir(), "copy")
	rep, err := Copy(src, dst, Caps{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"src": "/", "src/index.ts": "export {}", "package.json": "{}", "bin": "/", "bin/run": "#!/bin/sh",
		"empty": "/", "none": "",
	}, treeFiles(t, dst))
	st, err := os.Stat(filepath.Join(dst, "bin", "run"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o755), st.Mode()&(fs.ModePerm|fs.ModeSetuid))
	require.Equal(t, Report{Entries: 7, Bytes: int64(len("export {}{}#!/bin/sh"))}, rep)
}

// TestCapsRefuseBeforeAnyCopy: a tree over a cap leaves nothing behind, and is refused from
// what the survey reads (names and sizes), never from contents.
func TestCapsRefuseBeforeAnyCopy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		make func(t *testing.T, src string)
		caps Caps
		want string
	}{
		{"too many files", func(t *testing.T, src string) {
			for i := range 60 {
				write(t, filepath.Join(src, "f", strconv.Itoa(i)), "x")
			}
		}, Caps{MaxFiles: 50}, "more than 50 files"},
		{"too many bytes", func(t *testing.T, src string) {
			write(t, filepath.Join(src, "a"), string(make([]byte, 600)))
			write(t, filepath.Join(src, "b"), string(make([]byte, 600)))
		}, Caps{MaxBytes: 1000}, "more than 1000 bytes"},
		{"too deep", func(t *testing.T, src string) {
			write(t, filepath.Join(src, "a", "b", "c", "d", "e", "f.txt"), "deep")
		}, Caps{MaxDepth: 3}, "deeper than 3"},
		{"a 2 GB sparse file under the default caps", func(t *testing.T, src string) {
			f, err := os.Create(filepath.Join(src, "huge.bin"))
			require.NoError(t, err)
			require.NoError(t, f.Truncate(2<<30))
			require.NoError(t, f.Close())
		}, Caps{}, "more than 104857600 bytes"},
		{"100,000 empty files under the default caps", func(t *testing.T, src string) {
			emptyFiles(t, src, 100_000)
		}, Caps{}, "more than 5000 files"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := t.TempDir()
			tc.make(t, src)
			dst := filepath.Join(t.TempDir(), "copy")
			start := time.Now()
			_, err := Copy(src, dst, tc.caps)
			took := time.Since(start)
			require.ErrorIs(t, err, ErrOverCap)
			require.ErrorContains(t, err, tc.want)
			require.NoDirExists(t, dst, "refused before any copy")
			require.Less(t, took, 2*time.Second, "refused from the survey, without reading contents")
		})
	}
}

// TestSkipDirsLeavesCommittedDependenciesOut: a committed node_modules of 20,000 files (with
// npm's .bin links) and a .git folder are skipped, wherever they sit, not refused; without
// SkipDirs the same tree is over the entry cap and holds links.
func TestSkipDirsLeavesCommittedDependenciesOut(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	write(t, filepath.Join(src, "src", "index.ts"), "export {}")
	for i := range 100 {
		emptyFiles(t, filepath.Join(src, "node_modules", "pkg"+strconv.Itoa(i)), 200)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(src, "node_modules", ".bin"), 0o755))
	require.NoError(t, os.Symlink("../pkg1/1.js", filepath.Join(src, "node_modules", ".bin", "tool")))
	write(t, filepath.Join(src, "packages", "x", "node_modules", "y", "index.js"), "")
	write(t, filepath.Join(src, ".git", "HEAD"), "ref: refs/heads/main")

	rep, err := Copy(src, filepath.Join(t.TempDir(), "copy"), Caps{SkipDirs: []string{"node_modules", ".git"}})
	require.NoError(t, err)
	var skipped []string
	for _, s := range rep.Skipped {
		skipped = append(skipped, s.Path)
	}
	require.ElementsMatch(t, []string{"node_modules", "packages/x/node_modules", ".git"}, skipped)
	require.Equal(t, 4, rep.Entries, "src, src/index.ts, packages, packages/x: nothing under a skipped folder counts")

	_, err = Copy(src, filepath.Join(t.TempDir(), "copy"), Caps{})
	require.True(t, errors.Is(err, ErrOverCap) || errors.Is(err, ErrNotRegular), "the same tree without SkipDirs is refused: %v", err)
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

// TestDestinationMustNotExist: Copy never writes into a folder someone else made (and never
// removes it on the way out).
func TestDestinationMustNotExist(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	write(t, filepath.Join(src, "a"), "a")
	dst := t.TempDir()
	write(t, filepath.Join(dst, "keep"), "keep")
	_, err := Copy(src, dst, Caps{})
	require.ErrorIs(t, err, fs.ErrExist)
	require.FileExists(t, filepath.Join(dst, "keep"))
}

// TestChangesAfterTheSurveyAreRefused: a tree changed between the survey and the copy (a file
// swapped for a link to a host file, for a FIFO, grown, a folder swapped for a link out) is
// refused, and the copy is removed: nothing of the host comes along, nothing hangs.
func TestChangesAfterTheSurveyAreRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		swap func(t *testing.T, src string, host hostFile)
		want string
	}{
		{"a file swapped for a link to a host file", func(t *testing.T, src string, host hostFile) {
			require.NoError(t, os.Remove(filepath.Join(src, "src", "index.ts")))
			require.NoError(t, os.Symlink(host.path, filepath.Join(src, "src", "index.ts")))
		}, "escapes"},
		{"a file swapped for a FIFO", func(t *testing.T, src string, _ hostFile) {
			require.NoError(t, os.Remove(filepath.Join(src, "src", "index.ts")))
			require.NoError(t, syscall.Mkfifo(filepath.Join(src, "src", "index.ts"), 0o600))
		}, "changed since it was surveyed"},
		{"a file grown", func(t *testing.T, src string, _ hostFile) {
			write(t, filepath.Join(src, "src", "index.ts"), "export {}; // and more")
		}, "changed since it was surveyed"},
		{"a file given a second name", func(t *testing.T, src string, host hostFile) {
			require.NoError(t, os.Link(filepath.Join(src, "src", "index.ts"), filepath.Join(host.dir, "second")))
			t.Cleanup(func() { require.NoError(t, os.Remove(filepath.Join(host.dir, "second"))) })
		}, "changed since it was surveyed"},
		{"a folder swapped for a link to the host folder", func(t *testing.T, src string, host hostFile) {
			require.NoError(t, os.RemoveAll(filepath.Join(src, "src")))
			require.NoError(t, os.Symlink(host.dir, filepath.Join(src, "src")))
		}, "escapes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			host := newHostFile(t, filepath.Join(base, "host"))
			src := filepath.Join(base, "src")
			write(t, filepath.Join(src, "src", "index.ts"), "export {}")
			entries, _, err := survey(src, DefaultCaps())
			require.NoError(t, err)
			tc.swap(t, src, host)
			dst := filepath.Join(base, "copy")
			err = copyEntries(src, dst, entries)
			require.ErrorContains(t, err, tc.want)
			require.NoDirExists(t, dst)
			got, err := os.ReadFile(host.path)
			require.NoError(t, err)
			require.Equal(t, host.content, string(got))
		})
	}
}

// TestWritesCannotLeaveTheDestination: a folder of the destination swapped for a link to a
// host folder (by anything racing the grader) does not lead a write out.
func TestWritesCannotLeaveTheDestination(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	host := newHostFile(t, filepath.Join(base, "host"))
	dst := filepath.Join(base, "dst")
	to, err := makeTree(dst)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, to.close()) })
	require.NoError(t, to.mkdir("a"))
	require.NoError(t, os.Remove(filepath.Join(dst, "a")))
	require.NoError(t, os.Symlink(host.dir, filepath.Join(dst, "a")))
	for _, exclusive := range []bool{true, false} {
		_, err = to.writeFile("a/host-secret", 0o644, strings.NewReader("overwritten"), 100, exclusive)
		require.ErrorContains(t, err, "escapes")
		_, err = to.writeFile("a/new", 0o644, strings.NewReader("new"), 100, exclusive)
		require.ErrorContains(t, err, "escapes")
	}
	require.Error(t, to.mkdirAll("a/b/c"))
	host.unchanged(t)
}
