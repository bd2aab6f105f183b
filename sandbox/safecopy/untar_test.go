package safecopy

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// member is one entry of a test archive.
type member struct {
	name string
	flag byte // tar.TypeReg when zero
	body string
	link string
	mode int64 // 0644 when zero
}

func reg(name, body string) member { return member{name: name, body: body} }
func dir(name string) member       { return member{name: name, flag: tar.TypeDir} }

// archive writes members as a tar stream, with git archive's pax global header first.
func archive(t *testing.T, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": strings.Repeat("0", 40)}}))
	for _, m := range members {
		require.NoError(t, writeMember(tw, m))
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func writeMember(tw *tar.Writer, m member) error {
	hdr := &tar.Header{Name: m.name, Typeflag: m.flag, Linkname: m.link, Mode: m.mode, Format: tar.FormatPAX}
	if hdr.Typeflag == 0 {
		hdr.Typeflag = tar.TypeReg
	}
	if hdr.Mode == 0 {
		hdr.Mode = 0o644
	}
	if hdr.Typeflag == tar.TypeReg {
		hdr.Size = int64(len(m.body))
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := io.WriteString(tw, m.body)
	return err
}

// TestUntarRefusesHostileArchives: every hostile entry is refused with its sentinel, the
// destination is removed, and the host file beside it is untouched.
func TestUntarRefusesHostileArchives(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("d/", 41) + "f"
	cases := []struct {
		name    string
		members []member
		opts    TarOptions
		is      error
		want    string
	}{
		{"a name climbing out with ../", []member{reg("../host/host-secret", "overwritten")}, TarOptions{}, ErrBadEntry, `../host/host-secret climbs with ".."`},
		{"a name climbing out from inside", []member{dir("a/"), reg("a/../../host/x", "x")}, TarOptions{}, ErrBadEntry, "climbs"},
		{"an absolute name", []member{reg("/etc/passwd", "root::0:0::/:/bin/sh")}, TarOptions{}, ErrBadEntry, "/etc/passwd is an absolute name"},
		{"a backslash", []member{reg(`..\host\x`, "x")}, TarOptions{}, ErrBadEntry, "backslash"},
		{"the issue's chain of links", []member{dir("a/b/"), {name: "a/b/r", flag: tar.TypeSymlink, link: "../.."}, {name: "a/b/evil", flag: tar.TypeSymlink, link: "r/a/b/r/../host"}, reg("a/b/evil/host-secret", "overwritten")}, TarOptions{}, ErrNotRegular, "a/b/r is a symbolic link: a submission holds regular files and folders only"},
		{"a symlink to a host file", []member{{name: "leak", flag: tar.TypeSymlink, link: "/etc/shadow"}}, TarOptions{}, ErrNotRegular, "leak is a symbolic link"},
		{"a hard link", []member{reg("a", "a"), {name: "b", flag: tar.TypeLink, link: "a"}}, TarOptions{}, ErrNotRegular, "b is a hard link"},
		{"a character device", []member{{name: "null", flag: tar.TypeChar}}, TarOptions{}, ErrNotRegular, "null is a character device"},
		{"a block device", []member{{name: "sda", flag: tar.TypeBlock}}, TarOptions{}, ErrNotRegular, "sda is a block device"},
		{"a FIFO", []member{{name: "pipe", flag: tar.TypeFifo}}, TarOptions{}, ErrNotRegular, "pipe is a FIFO"},
		{"a contiguous file, an unusual kind", []member{{name: "c", flag: tar.TypeCont}}, TarOptions{}, ErrNotRegular, `c is an archive entry of type '7'`},
		{"a device even with SkipLinks", []member{{name: "null", flag: tar.TypeChar}}, TarOptions{SkipLinks: true}, ErrNotRegular, "character device"},
		{"more entries than the cap", []member{reg("a", ""), reg("b", ""), reg("c", ""), reg("d", "")}, TarOptions{Caps: Caps{MaxFiles: 3}}, ErrOverCap, "more than 3 entries"},
		{"entries that strip to nothing still count", []member{dir("p/"), dir("p/"), dir("p/"), reg("p/a", "")}, TarOptions{Caps: Caps{MaxFiles: 3}, StripComponents: 1}, ErrOverCap, "more than 3 entries"},
		{"more bytes than the cap, counted across files", []member{reg("a", strings.Repeat("a", 400)), reg("b", strings.Repeat("b", 400)), reg("c", strings.Repeat("c", 400))}, TarOptions{Caps: Caps{MaxBytes: 1000}}, ErrOverCap, "c (400 bytes) passes the cap of 1000 bytes"},
		{"a duplicate counted twice", []member{reg("a", strings.Repeat("a", 600)), reg("a", strings.Repeat("a", 600))}, TarOptions{Caps: Caps{MaxBytes: 1000}}, ErrOverCap, "passes the cap"},
		{"too deep", []member{reg(long, "")}, TarOptions{}, ErrOverCap, "nested deeper than 40"},
		{"a file where a folder is", []member{dir("a/"), reg("a", "x")}, TarOptions{}, ErrBadEntry, "a is a file where a folder already is"},
		{"a folder where a file is", []member{reg("a", "x"), dir("a/")}, TarOptions{}, ErrBadEntry, "a is a folder where a file already is"},
		{"a file below a file", []member{reg("a", "x"), reg("a/b", "y")}, TarOptions{}, ErrBadEntry, "a is a folder where a file already is"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			host := newHostFile(t, filepath.Join(base, "host"))
			dst := filepath.Join(base, "out")
			_, err := Untar(bytes.NewReader(archive(t, tc.members...)), dst, tc.opts)
			require.ErrorIs(t, err, tc.is)
			require.ErrorContains(t, err, tc.want)
			require.NoDirExists(t, dst, "a refused archive leaves nothing behind")
			host.unchanged(t)
		})
	}
}

func TestEntryNamesAreChecked(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		strip int
		want  []string
		err   string
	}{
		{name: "a/b/c", want: []string{"a", "b", "c"}},
		{name: "./a//b/./c/", want: []string{"a", "b", "c"}},
		{name: "package/lib/a.js", strip: 1, want: []string{"lib", "a.js"}},
		{name: "package/", strip: 1},
		{name: "./", strip: 0},
		{name: "a..b/..c", want: []string{"a..b", "..c"}},
		{name: "", err: "no name"},
		{name: "a/\x00b", err: "NUL"},
		{name: `a\b`, err: "backslash"},
		{name: "/a", err: "absolute"},
		{name: "a/..", err: "climbs"},
		{name: "package/../x", strip: 1, err: "climbs"},
	}
	for _, tc := range cases {
		t.Run(strconv.Quote(tc.name), func(t *testing.T) {
			t.Parallel()
			got, err := entryName(tc.name, tc.strip)
			if tc.err != "" {
				require.ErrorIs(t, err, ErrBadEntry)
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestUntarExtractsRegularFilesAndFolders: what a well-formed archive holds comes out, with
// modes normalised, parents made, duplicates overwritten, links skipped when asked, the top
// folder stripped, SkipDirs left out.
func TestUntarExtractsRegularFilesAndFolders(t *testing.T) {
	t.Parallel()
	longName := strings.Repeat("long-", 30) + ".js"
	cases := []struct {
		name    string
		members []member
		opts    TarOptions
		want    map[string]string
		skipped []string
	}{
		{"files, folders and missing parents", []member{reg("a/b/c.txt", "c"), dir("d/"), reg("e", "e")}, TarOptions{},
			map[string]string{"a": "/", "a/b": "/", "a/b/c.txt": "c", "d": "/", "e": "e"}, nil},
		{"modes normalised", []member{{name: "x", body: "#!", mode: 0o4750}, {name: "y", body: "y", mode: 0o600}, {name: "p/", flag: tar.TypeDir, mode: 0o700}}, TarOptions{},
			map[string]string{"x": "#!", "y": "y", "p": "/"}, nil},
		{"a duplicate file is overwritten", []member{reg("a", "first, longer"), reg("a", "second")}, TarOptions{},
			map[string]string{"a": "second"}, nil},
		{"a duplicate folder is fine", []member{dir("a/"), reg("a/f", "f"), dir("a/")}, TarOptions{},
			map[string]string{"a": "/", "a/f": "f"}, nil},
		{"an npm tarball: package/ stripped, links skipped", []member{dir("package/"), reg("package/package.json", "{}"), reg("package/lib/"+longName, "x"), {name: "package/bin", flag: tar.TypeSymlink, link: "lib/x"}, {name: "package/hard", flag: tar.TypeLink, link: "package/package.json"}, reg("stray", "s")}, TarOptions{StripComponents: 1, SkipLinks: true},
			map[string]string{"package.json": "{}", "lib": "/", "lib/" + longName: "x"}, []string{"bin", "hard"}},
		{"SkipDirs left out wherever they are", []member{reg("src/index.ts", "i"), reg("node_modules/x/index.js", "x"), dir("a/node_modules/"), reg("a/node_modules/y", "y"), reg("node_modules", "a file by that name is kept")}, TarOptions{Caps: Caps{SkipDirs: []string{"node_modules"}}},
			map[string]string{"src": "/", "src/index.ts": "i", "node_modules": "a file by that name is kept"}, []string{"node_modules", "a/node_modules"}},
		{"an empty archive", nil, TarOptions{}, map[string]string{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dst := filepath.Join(t.TempDir(), "out")
			rep, err := Untar(bytes.NewReader(archive(t, tc.members...)), dst, tc.opts)
			require.NoError(t, err)
			require.Equal(t, tc.want, treeFiles(t, dst))
			var skipped []string
			for _, s := range rep.Skipped {
				skipped = append(skipped, s.Path)
			}
			require.Equal(t, tc.skipped, skipped)
		})
	}
}

// TestUntarExecBitsAndDestination: an exec bit gives 0755, none gives 0644; the destination
// must not exist.
func TestUntarExecBitsAndDestination(t *testing.T) {
	t.Parallel()
	dst := filepath.Join(t.TempDir(), "out")
	_, err := Untar(bytes.NewReader(archive(t, member{name: "x", body: "#!", mode: 0o4710}, member{name: "y", body: "y", mode: 0o666})), dst, TarOptions{})
	require.NoError(t, err)
	for name, want := range map[string]os.FileMode{"x": 0o755, "y": 0o644} {
		st, err := os.Stat(filepath.Join(dst, name))
		require.NoError(t, err)
		require.Equal(t, want, st.Mode()&(os.ModePerm|os.ModeSetuid), name)
	}
	_, err = Untar(bytes.NewReader(archive(t, reg("z", "z"))), dst, TarOptions{})
	require.ErrorIs(t, err, os.ErrExist)
	require.FileExists(t, filepath.Join(dst, "x"), "an existing destination is left alone")
}

// generated is a tar stream made as it is read, counting what it produced: a test can then
// assert Untar stopped reading early.
type generated struct {
	r        *io.PipeReader
	produced atomic.Int64
}

func generate(t *testing.T, write func(tw *tar.Writer) error) *generated {
	t.Helper()
	pr, pw := io.Pipe()
	g := &generated{r: pr}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tw := tar.NewWriter(countingWriter{pw, &g.produced})
		err := write(tw)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	t.Cleanup(func() {
		_ = pr.CloseWithError(errors.New("test over"))
		<-done
	})
	return g
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// TestUntarStopsAtTheCapsAsItReads: a 100,000-entry archive and a 1 GiB entry are refused at
// the cap, having read barely past it: nothing the archive declares is trusted to be small,
// and nothing is read that the caps would not allow.
func TestUntarStopsAtTheCapsAsItReads(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		write    func(tw *tar.Writer) error
		want     string
		readAtMo int64
		within   time.Duration // 0: the disk sets the pace (5,000 files are written first)
	}{
		{"100,000 entries", func(tw *tar.Writer) error {
			for i := range 100_000 {
				if err := tw.WriteHeader(&tar.Header{Name: "f" + strconv.Itoa(i), Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
					return err
				}
			}
			return nil
		}, "more than 5000 entries", 5002 * 512, 0},
		{"a 1 GiB entry of zeros", func(tw *tar.Writer) error {
			if err := tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 30}); err != nil {
				return err
			}
			_, err := io.Copy(tw, io.LimitReader(zeros{}, 1<<30))
			return err
		}, "zeros (1073741824 bytes) passes the cap of 104857600 bytes", 1 << 20, 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := generate(t, tc.write)
			dst := filepath.Join(t.TempDir(), "out")
			start := time.Now()
			_, err := Untar(g.r, dst, TarOptions{})
			require.ErrorIs(t, err, ErrOverCap)
			require.ErrorContains(t, err, tc.want)
			if tc.within > 0 {
				require.Less(t, time.Since(start), tc.within)
			}
			require.NoDirExists(t, dst)
			require.LessOrEqual(t, g.produced.Load(), tc.readAtMo+64<<10, "read barely past the cap (a pipe write may be in flight)")
		})
	}
}

// TestUntarCountsBytesAsTheyArrive: a stream that ends early inside an entry is an error, not
// a file of the declared size.
func TestUntarCountsBytesAsTheyArrive(t *testing.T) {
	t.Parallel()
	full := archive(t, reg("a", strings.Repeat("a", 4096)))
	dst := filepath.Join(t.TempDir(), "out")
	rep, err := Untar(bytes.NewReader(full[:len(full)-1024-4096+100]), dst, TarOptions{})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Equal(t, int64(100), rep.Bytes, "the bytes that arrived, not the 4096 declared")
	require.NoDirExists(t, dst)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
