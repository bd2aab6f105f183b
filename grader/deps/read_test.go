package deps

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// readResult is what Read returned, for a test that must not hang on it.
type readResult struct {
	pkgs []Package
	err  error
}

// readWithin runs Read with a deadline: a FIFO opened for reading would block forever.
func readWithin(t *testing.T, dir string) ([]Package, error) {
	t.Helper()
	done := make(chan readResult, 1)
	go func() {
		pkgs, err := Read(dir)
		done <- readResult{pkgs, err}
	}()
	select {
	case r := <-done:
		return r.pkgs, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("Read did not return within 10s")
		return nil, nil
	}
}

// TestRead covers finding, capping and refusing the files of a submission folder.
func TestRead(t *testing.T) {
	t.Parallel()
	validManifest := string(jsonBytes(t, deps(map[string]any{"x": "^1"})))
	validLock := string(lockBytes(t, map[string]any{"node_modules/x": locked("1.0.0")}))
	linkLock := string(lockBytes(t, map[string]any{"node_modules/x": locked("1.0.0", "link", true)}))
	outside := filepath.Join(t.TempDir(), "secret.json")
	require.NoError(t, os.WriteFile(outside, []byte(validLock), 0o600))

	cases := []struct {
		name   string
		build  func(t *testing.T, dir string)
		want   []Package
		entry  string // the refusal's Entry; "" when Read succeeds
		reason string
	}{
		{
			name: "package.json and package-lock.json are planned",
			build: func(t *testing.T, dir string) {
				write(t, dir, "package.json", validManifest)
				write(t, dir, "package-lock.json", validLock)
			},
			want: []Package{{Path: "node_modules/x", Name: "x", Version: "1.0.0", Integrity: sumA, Tarball: "x/-/x-1.0.0.tgz"}},
		},
		{
			name: "a byte-order mark before package.json is allowed, as npm allows it",
			build: func(t *testing.T, dir string) {
				write(t, dir, "package.json", "\xef\xbb\xbf"+validManifest)
				write(t, dir, "package-lock.json", validLock)
			},
			want: []Package{{Path: "node_modules/x", Name: "x", Version: "1.0.0", Integrity: sumA, Tarball: "x/-/x-1.0.0.tgz"}},
		},
		{
			name: "npm-shrinkwrap.json wins over package-lock.json",
			build: func(t *testing.T, dir string) {
				write(t, dir, "package.json", validManifest)
				write(t, dir, "npm-shrinkwrap.json", linkLock)
				write(t, dir, "package-lock.json", validLock)
			},
			entry: "npm-shrinkwrap.json node_modules/x", reason: "link",
		},
		{
			name:  "no lockfile and no dependencies is nothing to install",
			build: func(t *testing.T, dir string) { write(t, dir, "package.json", `{"name": "x"}`) },
			want:  nil,
		},
		{
			name:  "dependencies without a lockfile are refused",
			build: func(t *testing.T, dir string) { write(t, dir, "package.json", validManifest) },
			entry: "package.json dependencies.x", reason: "no package-lock.json",
		},
		{
			name:  "a missing package.json is refused",
			build: func(t *testing.T, dir string) { write(t, dir, "package-lock.json", validLock) },
			entry: "package.json", reason: "missing",
		},
		{
			name: "a package.json that links to a file outside is refused",
			build: func(t *testing.T, dir string) {
				require.NoError(t, os.Symlink(outside, filepath.Join(dir, "package.json")))
			},
			entry: "package.json", reason: "not a regular file",
		},
		{
			name: "a lockfile that links to a file outside is refused",
			build: func(t *testing.T, dir string) {
				write(t, dir, "package.json", validManifest)
				require.NoError(t, os.Symlink(outside, filepath.Join(dir, "package-lock.json")))
			},
			entry: "package-lock.json", reason: "not a regular file",
		},
		{
			name: "a lockfile that is a FIFO is refused without blocking",
			build: func(t *testing.T, dir string) {
				write(t, dir, "package.json", validManifest)
				require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "package-lock.json"), 0o644))
			},
			entry: "package-lock.json", reason: "not a regular file",
		},
		{
			name: "a package.json that is a folder is refused",
			build: func(t *testing.T, dir string) {
				require.NoError(t, os.Mkdir(filepath.Join(dir, "package.json"), 0o755))
			},
			entry: "package.json", reason: "not a regular file",
		},
		{
			name: "a package.json over 1 MiB is refused",
			build: func(t *testing.T, dir string) {
				write(t, dir, "package.json", `{"name": "x", "description": "`+strings.Repeat("a", 1<<20)+`"}`)
			},
			entry: "package.json", reason: "cap of 1 MiB",
		},
		{
			name: "a lockfile over 16 MiB is refused",
			build: func(t *testing.T, dir string) {
				write(t, dir, "package.json", validManifest)
				write(t, dir, "package-lock.json", `{"lockfileVersion": 3, "x": "`+strings.Repeat("a", 16<<20)+`"}`)
			},
			entry: "package-lock.json", reason: "cap of 16 MiB",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.build(t, dir)
			pkgs, err := readWithin(t, dir)
			if tc.entry != "" {
				requireRefusal(t, err, tc.entry, tc.reason)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, pkgs)
		})
	}
}

// TestReadCorpus: the corpus submissions with dependencies are read as they are.
func TestReadCorpus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir  string
		want int
	}{{"retry-library", 2}, {"heavy-deps", 70}} {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			pkgs, err := Read(filepath.Join("..", "..", "fixtures", "submissions", tc.dir))
			require.NoError(t, err)
			require.Len(t, pkgs, tc.want)
		})
	}
}

// TestReadMissingFolderIsAnError: a folder that is not there is the grader's error, no Refusal.
func TestReadMissingFolderIsAnError(t *testing.T) {
	t.Parallel()
	_, err := Read(filepath.Join(t.TempDir(), "absent"))
	require.Error(t, err)
	var refusal *Refusal
	require.False(t, errors.As(err, &refusal))
}

// write writes a file of the test's folder.
func write(t *testing.T, dir, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
}
