package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/store"
	"github.com/itsm-grader/grader/sandbox"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// TestABatchKilledMidWayFinishesOnRestart runs `grader batch` as its own process on four corpus
// submissions (two scenarios each, to keep it short), kills it with SIGKILL while gradings are
// under way, and runs it again: every submission ends graded exactly once, and no container of
// the killed process is left.
func TestABatchKilledMidWayFinishesOnRestart(t *testing.T) {
	docker := testenv.Client(t)
	ctx := context.Background()
	root := testenv.RepoRoot(t)
	dir := t.TempDir()
	roster := "candidate,source,ref,track\n"
	for _, sub := range []string{"ideal", "no-retry", "no-jitter", "logs-token"} {
		roster += fmt.Sprintf("%s,%s,,\n", sub, filepath.Join(root, "fixtures", "submissions", sub))
	}
	rosterPath := filepath.Join(dir, "round.csv")
	require.NoError(t, os.WriteFile(rosterPath, []byte(roster), 0o644))
	db := filepath.Join(dir, "round.db")
	args := []string{"batch", rosterPath, "--db", db, "--scenarios", "happy,transient-5xx", "--workers", "2", "--lease", "6s",
		"--node", testenv.Node24(t), "--typescript", testenv.TypeScript(t)}
	bin := testenv.GraderBinary(t)

	first := exec.Command(bin, args...)
	var firstErr strings.Builder
	first.Stderr = &firstErr
	require.NoError(t, first.Start())
	t.Cleanup(func() { _ = first.Process.Kill(); _ = first.Wait() })

	st, err := store.Open(ctx, db)
	require.NoError(t, err)
	defer st.Close()
	// Kill it once a grading is done and another is under way.
	require.Eventually(t, func() bool {
		p, err := st.Progress(ctx, "round")
		return err == nil && p.Done >= 1 && p.Running >= 1
	}, 5*time.Minute, 200*time.Millisecond, "the first batch never had a grading done and one running: %s", &firstErr)
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()
	killed := first.Process.Pid
	before, err := st.Progress(ctx, "round")
	require.NoError(t, err)
	require.Less(t, before.Done, 4, "killed before the end")

	host, err := os.Hostname()
	require.NoError(t, err)
	ofKilled := func() int {
		all, err := docker.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelOwner))})
		require.NoError(t, err)
		n := 0
		for _, c := range all {
			if strings.HasPrefix(c.Labels[sandbox.LabelOwner], fmt.Sprintf("%s:%d:", host, killed)) {
				n++
			}
		}
		return n
	}
	t.Logf("killed with %d done, %d running; %d containers of the killed batch left behind", before.Done, before.Running, ofKilled())

	second := exec.Command(bin, args...)
	out, err := second.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "cohort round: 4 graded")

	p, err := st.Progress(ctx, "round")
	require.NoError(t, err)
	require.Equal(t, store.Progress{Done: 4, MeanGrading: p.MeanGrading}, p, "every submission graded once: no grading queued, running, failed or added")
	graded, err := st.LatestGradings(ctx, "round")
	require.NoError(t, err)
	require.Len(t, graded, 4)
	for _, g := range graded {
		require.Empty(t, g.CandidateFailure, g.Candidate)
		require.FileExists(t, g.EvidencePath, g.Candidate)
		require.FileExists(t, filepath.Join(g.ReportDir, "report.html"), g.Candidate)
	}

	require.Zero(t, ofKilled(), "containers of the killed batch are left")
}
