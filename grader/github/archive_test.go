package github

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itsm-grader/grader/grader/github/githubtest"
	"github.com/itsm-grader/grader/grader/intake"
	"github.com/itsm-grader/grader/sandbox/safecopy"
	"github.com/stretchr/testify/require"
)

// hostileCase is an archive GitHub is made to serve, and how Fetch must refuse it.
type hostileCase struct {
	name    string
	archive func(sha, top string) []byte
	limits  Limits
	is      []error  // errors.Is each
	not     []error  // and none of these
	says    []string // the message holds each
}

// TestFetchRefusesHostileArchives serves each archive through the fake GitHub and checks that
// Fetch refuses it with a clear error, writes nothing, and says whose doing it is: the
// repository's (intake.ErrRefused: a finding) or the server's (ErrUnexpectedArchive: an error).
func TestFetchRefusesHostileArchives(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.client(t, f.config(t))
	for i, tc := range hostileCases() {
		name := fmt.Sprintf("hostile-%d", i)
		commit := sha(name)
		f.srv.AddRepo(&githubtest.Repo{Owner: "acme", Name: name, DefaultBranch: "main", Refs: map[string]string{"main": commit},
			Archives: map[string][]byte{commit: tc.archive(commit, githubtest.TopFolder("acme", name, commit))}})
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "submission")
			start := time.Now()
			_, err := c.Fetch(context.Background(), Source{Host: "github.com", Owner: "acme", Repo: name}, dir, tc.limits)
			t.Logf("refused in %s: %v", time.Since(start).Round(time.Millisecond), err)
			require.Error(t, err)
			for _, want := range tc.is {
				require.ErrorIs(t, err, want)
			}
			for _, unwanted := range tc.not {
				require.NotErrorIs(t, err, unwanted)
			}
			for _, says := range tc.says {
				require.Contains(t, err.Error(), says)
			}
			require.Contains(t, err.Error(), "acme/"+name+" at "+commit, "the error names the repository and the commit")
			require.NoDirExists(t, dir, "a refused archive leaves nothing behind")
		})
	}
}

func hostileCases() []hostileCase {
	refused := []error{intake.ErrRefused}
	unexpected := []error{ErrUnexpectedArchive}
	ok := func(top string) githubtest.Entry {
		return githubtest.Entry{Name: top + "/package.json", Body: "{}\n"}
	}
	entry := func(e githubtest.Entry) func(sha, top string) []byte {
		return func(sha, top string) []byte {
			e.Name = strings.ReplaceAll(e.Name, "TOP", top)
			return githubtest.Archive(sha, githubtest.Entry{Name: top + "/", Type: tar.TypeDir}, ok(top), e)
		}
	}
	return []hostileCase{
		{name: "a symbolic link", archive: entry(githubtest.Entry{Name: "TOP/src/passwd", Type: tar.TypeSymlink, Linkname: "/etc/passwd"}),
			is: append(refused, safecopy.ErrNotRegular), not: unexpected, says: []string{"src/passwd is a symbolic link"}},
		{name: "a hard link", archive: entry(githubtest.Entry{Name: "TOP/src/shadow", Type: tar.TypeLink, Linkname: "TOP/package.json"}),
			is: append(refused, safecopy.ErrNotRegular), says: []string{"src/shadow is a hard link"}},
		{name: "a character device", archive: entry(githubtest.Entry{Name: "TOP/dev/null", Type: tar.TypeChar}),
			is: append(refused, safecopy.ErrNotRegular), says: []string{"dev/null is a character device"}},
		{name: "a FIFO", archive: entry(githubtest.Entry{Name: "TOP/pipe", Type: tar.TypeFifo}),
			is: append(refused, safecopy.ErrNotRegular), says: []string{"pipe is a FIFO"}},
		{name: "a name climbing out with ../", archive: entry(githubtest.Entry{Name: "TOP/../../etc/cron.d/evil", Body: "x"}),
			is: append(refused, safecopy.ErrBadEntry), says: []string{`climbs with ".."`}},
		{name: "a name climbing out from the top", archive: entry(githubtest.Entry{Name: "../evil", Body: "x"}),
			is: append(refused, safecopy.ErrBadEntry), says: []string{`climbs with ".."`}},
		{name: "an absolute name", archive: entry(githubtest.Entry{Name: "/tmp/evil", Body: "x"}),
			is: append(refused, safecopy.ErrBadEntry), says: []string{"absolute name"}},
		{name: "an entry larger than declared", archive: entry(githubtest.Entry{Name: "TOP/big.txt", Body: strings.Repeat("A", 5000), DeclaredSize: 10}),
			is: unexpected, not: refused, says: []string{"malformed", "invalid tar header"}},
		{name: "an entry smaller than declared", archive: entry(githubtest.Entry{Name: "TOP/short.txt", Body: "abc", DeclaredSize: 1 << 20}),
			is: unexpected, not: refused, says: []string{"malformed", "unexpected EOF"}},
		{name: "an entry declaring more than the byte cap", archive: entry(githubtest.Entry{Name: "TOP/huge.bin", Body: "abc", DeclaredSize: 200 << 20}),
			is: append(refused, safecopy.ErrOverCap), says: []string{"huge.bin (209715200 bytes) passes the cap"}},
		{name: "100,000 entries", archive: func(sha, top string) []byte {
			entries := make([]githubtest.Entry, 0, 100_001)
			entries = append(entries, githubtest.Entry{Name: top + "/", Type: tar.TypeDir})
			for i := range 100_000 {
				entries = append(entries, githubtest.Entry{Name: fmt.Sprintf("%s/f%06d", top, i)})
			}
			return githubtest.Archive(sha, entries...)
		}, is: append(refused, safecopy.ErrOverCap), says: []string{"more than 5000 entries"}},
		{name: "folders nested past the depth cap", archive: entry(githubtest.Entry{Name: "TOP/" + strings.Repeat("d/", 41) + "f", Body: "x"}),
			is: append(refused, safecopy.ErrOverCap), says: []string{"nested deeper than 40"}},
		{name: "a download past the archive cap", limits: Limits{MaxArchiveBytes: 64 << 10},
			archive: entry(githubtest.Entry{Name: "TOP/noise.bin", Body: string(random(256 << 10))}),
			is:      append(refused, safecopy.ErrOverCap), says: []string{"the download passes the cap of 65536 bytes"}},
		{name: "a decompressed archive past the cap, in a node_modules left out", limits: Limits{MaxArchiveBytes: 64 << 10},
			archive: entry(githubtest.Entry{Name: "TOP/node_modules/pkg/blob.js", Body: strings.Repeat("A", 1<<20)}),
			is:      append(refused, safecopy.ErrOverCap), says: []string{"the decompressed archive passes the cap of 65536 bytes"}},
		{name: "a pax comment naming another commit", archive: func(_, top string) []byte {
			return githubtest.Archive(sha("another"), githubtest.Entry{Name: top + "/", Type: tar.TypeDir}, ok(top))
		}, is: unexpected, not: refused, says: []string{"the archive is of commit \"" + sha("another") + "\", not"}},
		{name: "no pax header", archive: func(_, top string) []byte {
			return githubtest.Archive("", githubtest.Entry{Name: top + "/", Type: tar.TypeDir}, ok(top))
		}, is: unexpected, not: refused, says: []string{"is not the pax global header naming the commit"}},
		{name: "not gzip", archive: func(string, string) []byte { return []byte("<html>rate limited</html>") },
			is: unexpected, not: refused, says: []string{"not gzip"}},
		{name: "a truncated download", archive: func(sha, top string) []byte {
			whole := githubtest.Archive(sha, githubtest.Entry{Name: top + "/", Type: tar.TypeDir},
				githubtest.Entry{Name: top + "/noise.bin", Body: string(random(64 << 10))})
			return whole[:len(whole)/2]
		}, is: unexpected, not: refused, says: []string{"malformed"}},
		{name: "data after the end of the archive", archive: func(sha, top string) []byte {
			var out bytes.Buffer
			gz := gzip.NewWriter(&out)
			_ = githubtest.WriteTar(gz, sha, githubtest.Entry{Name: top + "/", Type: tar.TypeDir}, ok(top))
			_, _ = gz.Write(bytes.Repeat([]byte("x"), 2<<20))
			_ = gz.Close()
			return out.Bytes()
		}, is: unexpected, not: refused, says: []string{"bytes after the end of the archive"}},
	}
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// TestCapReaderTellsTheCapFromTheEnd reads streams ending just under, at and past the cap.
func TestCapReaderTellsTheCapFromTheEnd(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		length int
		over   bool
	}{
		{name: "under the cap", length: 99},
		{name: "exactly at the cap", length: 100},
		{name: "one byte past the cap", length: 101, over: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &capReader{r: bytes.NewReader(make([]byte, tc.length)), limit: 100, what: "the stream"}
			var got bytes.Buffer
			_, err := got.ReadFrom(r)
			require.Equal(t, tc.over, r.over)
			if tc.over {
				require.True(t, errors.Is(err, errOverCap))
				require.Equal(t, 100, got.Len())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.length, got.Len())
		})
	}
}
