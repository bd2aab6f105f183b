package suite

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestVersionChangesWithWhatTheSuiteRuns(t *testing.T) {
	t.Parallel()
	base, err := Version(Default())
	require.NoError(t, err)
	require.Regexp(t, `^suite-[0-9a-f]{12}$`, base)
	again, err := Version(Default())
	require.NoError(t, err)
	require.Equal(t, base, again, "a suite's version is a function of the suite")
	longer := Default()
	longer[0].Budget += time.Second
	changed, err := Version(longer)
	require.NoError(t, err)
	require.NotEqual(t, base, changed, "a budget is part of the suite")
	fewer, err := Version(Default()[1:])
	require.NoError(t, err)
	require.NotEqual(t, base, fewer)
	_, err = Version([]Scenario{{Name: "no-such-scenario", Trials: 1}})
	require.Error(t, err)
}
