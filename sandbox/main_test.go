package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/tlsca"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

var (
	shared       *Sandbox
	sharedErr    error
	once         sync.Once
	graderBinary string // the static grader the shared sandbox's mock image holds
)

// sandboxForTest builds the images once and shares one Sandbox across the package's tests.
func sandboxForTest(t testing.TB) *Sandbox {
	t.Helper()
	testenv.Client(t) // skip or fail clearly without an engine
	node := testenv.Node24(t)
	bin := testenv.GraderBinary(t)
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		graderBinary = bin
		shared, sharedErr = New(ctx, Options{NodeBinary: node, GraderBinary: bin})
	})
	require.NoError(t, sharedErr)
	return shared
}

// tokens of every test run.
const (
	srcToken = "src_sandbox-test-token-0123456789"
	tgtToken = "tgt_sandbox-test-token-9876543210"
)

// friendlySpec is a run of the JS program js against the mock in scenario, with TLS material
// and the four variables a client gets.
func friendlySpec(t testing.TB, scenario, js string) Spec {
	t.Helper()
	trusted, err := tlsca.New("sandbox test CA")
	require.NoError(t, err)
	untrusted, err := tlsca.New("sandbox untrusted CA")
	require.NoError(t, err)
	tb, err := trusted.Encode()
	require.NoError(t, err)
	ub, err := untrusted.Encode()
	require.NoError(t, err)
	bundle := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bundle, "main.mjs"), []byte(js), 0o600))
	return Spec{
		MockArgs: []string{"--sandbox", "--scenario", scenario, "--tls-dir", FilesDir,
			"--source-token", srcToken, "--target-token", tgtToken,
			"--http-port", "8080", "--https-port", "8443", "--untrusted-port", "9443"},
		MockFiles:      map[string][]byte{"trusted.pem": tb, "untrusted.pem": ub},
		CandidateFiles: map[string][]byte{"ca.pem": trusted.CertPEM},
		Bundle:         bundle,
		Command:        []string{BundleDir + "/main.mjs"},
		Env: map[string]string{
			"ITSM_SOURCE_URL":     "http://source.itsm.test:8080",
			"ITSM_SOURCE_TOKEN":   srcToken,
			"ITSM_TARGET_URL":     "https://target.itsm.test:8443",
			"ITSM_TARGET_TOKEN":   tgtToken,
			"NODE_EXTRA_CA_CERTS": FilesDir + "/ca.pem",
		},
		Hosts: []string{"source.itsm.test", "target.itsm.test"},
	}
}

// requireNothingLeft checks that a run removed its containers, volume and cgroup.
func requireNothingLeft(t *testing.T, s *Sandbox, runID string) {
	t.Helper()
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", LabelRun+"="+runID))
	cs, err := s.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	require.NoError(t, err)
	require.Empty(t, cs, "containers left behind")
	vs, err := s.cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	require.NoError(t, err)
	require.Empty(t, vs.Volumes, "volumes left behind")
	for _, id := range runCgroups() {
		require.NotEqual(t, runID, id, "cgroup left behind")
	}
}

func readJournal(t *testing.T, res *Result) *journal.Log {
	t.Helper()
	require.False(t, res.Journal.Truncated)
	l, err := journal.Read(strings.NewReader(string(res.Journal.Data)), 0)
	require.NoError(t, err, string(res.Journal.Data))
	return l
}
