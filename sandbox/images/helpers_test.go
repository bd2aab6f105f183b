package images

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/sandbox/testenv"
)

func nodeBinary(t testing.TB) string { return testenv.Node24(t) }

func graderBinary(t testing.TB) string { return testenv.GraderBinary(t) }

// textFile writes a file that is not ELF.
func textFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script.sh")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\necho hello\n"), 0o755))
	return path
}
