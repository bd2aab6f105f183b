package images

import (
	"debug/elf"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// lookupNames lists the names the loader looks an executable's libraries up by: every DT_NEEDED
// of it and of its libraries, and its PT_INTERP.
func lookupNames(t *testing.T, exe string, deps []string) []string {
	t.Helper()
	var names []string
	for _, p := range append([]string{exe}, deps...) {
		o, err := readObject(p)
		require.NoError(t, err)
		names = append(names, o.needed...)
		if o.interp != "" {
			names = append(names, filepath.Base(o.interp))
		}
	}
	return names
}

func TestDependencies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		binary func(testing.TB) string
		check  func(t *testing.T, exe string, deps []string, err error)
	}{
		{"the Node binary needs libc, libstdc++ and its loader", nodeBinary, func(t *testing.T, exe string, deps []string, err error) {
			require.NoError(t, err)
			o, err := readObject(exe)
			require.NoError(t, err)
			require.NotEmpty(t, o.interp, "Node is dynamically linked")
			require.Contains(t, deps, o.interp, "the loader, at its PT_INTERP path")
			bases := make([]string, len(deps))
			for i, d := range deps {
				bases[i] = filepath.Base(d)
			}
			require.Contains(t, bases, "libc.so.6")
			if slices.Contains(o.needed, "libstdc++.so.6") {
				require.Contains(t, bases, "libstdc++.so.6")
			}
			require.True(t, slices.IsSorted(deps), "sorted: %v", deps)
			require.Len(t, slices.Compact(slices.Clone(deps)), len(deps), "no duplicates: %v", deps)
			names := lookupNames(t, exe, deps)
			for _, d := range deps {
				require.True(t, filepath.IsAbs(d), d)
				require.Contains(t, names, filepath.Base(d), "%s is recorded under the name the loader looks up", d)
			}
			t.Logf("Node needs %v", deps)
		}},
		{"a static Go binary needs nothing", graderBinary, func(t *testing.T, _ string, deps []string, err error) {
			require.NoError(t, err)
			require.Empty(t, deps)
		}},
		{"a file that is not ELF is an error", textFile, func(t *testing.T, _ string, deps []string, err error) {
			require.ErrorContains(t, err, "read ELF")
			require.Nil(t, deps)
		}},
		{"a file that does not exist is an error", func(t testing.TB) string { return filepath.Join(t.TempDir(), "nothing") }, func(t *testing.T, _ string, _ []string, err error) {
			require.ErrorIs(t, err, os.ErrNotExist)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			exe := tt.binary(t)
			deps, err := Dependencies(exe)
			tt.check(t, exe, deps, err)
		})
	}
}

func TestResolveSearchesRunpathFirstAndRecordsTheLookedUpPath(t *testing.T) {
	t.Parallel()
	node := nodeBinary(t)
	exe, err := readObject(node)
	require.NoError(t, err)
	deps, err := Dependencies(node)
	require.NoError(t, err)
	libm := slices.IndexFunc(deps, func(p string) bool { return filepath.Base(p) == "libm.so.6" })
	require.NotEqual(t, -1, libm, "Node needs libm: %v", deps)

	dir := t.TempDir()
	require.NoError(t, os.Symlink(deps[libm], filepath.Join(dir, "libm.so.6")))
	w := walk{exe: exe, bySoname: map[string]string{}, seen: map[string]bool{}}
	from := object{path: "/opt/app/bin/app", search: expandSearchPath([]string{"/nonexistent:" + dir}, "/opt/app/bin")}
	require.NoError(t, w.resolve(from, "libm.so.6"))
	require.Equal(t, map[string]bool{filepath.Join(dir, "libm.so.6"): true}, w.seen)
}

func TestResolveNamesALibraryItCannotFind(t *testing.T) {
	t.Parallel()
	w := walk{exe: object{machine: elf.EM_X86_64, class: elf.ELFCLASS64}, bySoname: map[string]string{}, seen: map[string]bool{}}
	err := w.resolve(object{path: "/usr/local/bin/app"}, "libnowhere.so.7")
	require.ErrorContains(t, err, "library libnowhere.so.7 needed by /usr/local/bin/app not found")
}

func TestExpandSearchPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string
		want   []string
	}{
		{"no search path", nil, nil},
		{"$ORIGIN is the object's directory", []string{"$ORIGIN/../lib"}, []string{"/opt/app/lib"}},
		{"${ORIGIN} too, and entries split on colons", []string{"${ORIGIN}:/usr/local/lib::"}, []string{"/opt/app/bin", "/usr/local/lib"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, expandSearchPath(tt.values, "/opt/app/bin"))
		})
	}
}

func TestDefaultLibraryDirs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		machine elf.Machine
		class   elf.Class
		want    []string
	}{
		{"x86-64 looks in its multiarch dirs and lib64", elf.EM_X86_64, elf.ELFCLASS64,
			[]string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}},
		{"arm64 looks in its own multiarch dirs", elf.EM_AARCH64, elf.ELFCLASS64,
			[]string{"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}},
		{"32-bit x86 skips lib64", elf.EM_386, elf.ELFCLASS32,
			[]string{"/lib/i386-linux-gnu", "/usr/lib/i386-linux-gnu", "/lib", "/usr/lib"}},
		{"an unknown machine gets the generic dirs", elf.EM_SPARCV9, elf.ELFCLASS64,
			[]string{"/lib64", "/usr/lib64", "/lib", "/usr/lib"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, defaultLibraryDirs(tt.machine, tt.class))
		})
	}
}
