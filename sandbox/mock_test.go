package sandbox

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAMockThatDiesBeforeItIsReadyIsAnError: nothing of the candidate has run yet, so there is
// nothing to judge: the sandbox failed, and Run says so (a mock that dies later is data in the
// Result: grader/runner's flood_test.go kills one mid-run). Nothing is left behind either way.
func TestAMockThatDiesBeforeItIsReadyIsAnError(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	sp := friendlySpec(t, "happy", friendlyJS)
	sp.MockArgs = []string{"--sandbox", "--scenario", "no-such-scenario"}
	res, err := s.Run(context.Background(), sp)
	require.ErrorContains(t, err, "mock exited before it was ready")
	require.ErrorContains(t, err, "no-such-scenario", "with the mock's own words")
	require.NotNil(t, res)
	requireNothingLeft(t, s, res.RunID)
	require.True(t, res.Timeline.CandidateStarted.IsZero(), "the candidate never started")
}

// TestAMockStoppedCleanlyReportsItsUseOfItsLimits: a friendly run ends with the mock asked to
// stop, its exit 0, and the engine's measure of its peak memory and CPU throttling.
func TestAMockStoppedCleanlyReportsItsUseOfItsLimits(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	res, err := s.Run(context.Background(), friendlySpec(t, "happy", friendlyJS))
	require.NoError(t, err)
	require.False(t, res.MockDied)
	require.False(t, res.MockStopKilled)
	require.False(t, res.MockOOMKilled)
	require.Zero(t, res.MockExit)
	require.True(t, res.MockStats.Known)
	require.Positive(t, res.MockStats.PeakMemory)
	require.Less(t, res.MockStats.PeakMemory, int64(mockMemory))
	require.Zero(t, res.MockStats.ThrottledPeriods, "two requests never meet the quota")
}
