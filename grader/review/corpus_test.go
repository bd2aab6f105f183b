package review

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/submissions"
)

// TestEveryRuleHasBothSidesInTheCorpus: the ideal submission passes every static rule, and for
// each rule some calibration submission is expected to fail or warn it (static.separation, a
// fact, has a submission that mixes the concerns; ai.rationale has an AI-track one that passes
// and one that fails). The corpus test grades them all in Docker.
func TestEveryRuleHasBothSidesInTheCorpus(t *testing.T) {
	t.Parallel()
	corpus, err := submissions.All()
	require.NoError(t, err)
	seen := map[string]map[string][]string{} // id → verdict → submissions
	for name, exp := range corpus {
		for id, v := range exp.Expect {
			if seen[id] == nil {
				seen[id] = map[string][]string{}
			}
			seen[id][v] = append(seen[id][v], name)
		}
	}
	for _, r := range Rules() {
		if r.ID == separationRule.ID {
			require.Equal(t, []string{"info"}, keys(seen[r.ID]), "static.separation is a fact in every submission")
			continue
		}
		require.Contains(t, seen[r.ID]["pass"], "ideal", "%s: the ideal submission passes it", r.ID)
		require.NotEmpty(t, append(seen[r.ID]["fail"], seen[r.ID]["warn"]...), "%s: no calibration submission is expected to fail or warn it", r.ID)
	}
	require.NotEmpty(t, seen[rationaleRule.ID]["pass"], "an AI-track submission passes ai.rationale")
	require.NotEmpty(t, seen[rationaleRule.ID]["fail"], "an AI-track submission fails ai.rationale")
	require.Contains(t, seen[rationaleRule.ID]["n/a"], "ideal", "the manual track is n/a")
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
