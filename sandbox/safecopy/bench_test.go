package safecopy

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/stretchr/testify/require"
)

// BenchmarkUntar5000SmallFiles extracts an archive shaped like an installed node_modules: 5,000
// files of 1 KiB in 100 folders two deep.
func BenchmarkUntar5000SmallFiles(b *testing.B) {
	var members []member
	body := strings.Repeat("x", 1024)
	for i := range 5000 {
		members = append(members, reg("package/lib"+strconv.Itoa(i%10)+"/m"+strconv.Itoa(i%100)+"/f"+strconv.Itoa(i)+".js", body))
	}
	t := &testing.T{}
	raw := archive(t, members...)
	base := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Untar(bytes.NewReader(raw), filepath.Join(base, strconv.Itoa(i)), TarOptions{StripComponents: 1})
		require.NoError(b, err)
		require.Equal(b, 5000, rep.Entries)
	}
}

// BenchmarkCopyCorpusSubmission copies the corpus's retry-library submission, the largest.
func BenchmarkCopyCorpusSubmission(b *testing.B) {
	src := filepath.Join(submissions.Dir(), "retry-library")
	base := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := Copy(src, filepath.Join(base, strconv.Itoa(i)), Caps{SkipDirs: []string{"node_modules", ".git"}})
		require.NoError(b, err)
	}
}
