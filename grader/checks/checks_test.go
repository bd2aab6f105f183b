package checks

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/submissions"
)

// TestEveryCheckHasBothSidesInTheCorpus: each check must be shown passing (the ideal
// submission) and failing (at least one calibration submission built to trigger it), so no
// check is untested end to end. The corpus test grades them in Docker.
func TestEveryCheckHasBothSidesInTheCorpus(t *testing.T) {
	t.Parallel()
	corpus, err := submissions.All()
	require.NoError(t, err)
	triggers := map[string][]string{}
	for name, exp := range corpus {
		for id, v := range exp.Expect {
			if v == "fail" {
				triggers[id] = append(triggers[id], name)
			}
		}
	}
	ideal, ok := corpus["ideal"]
	require.True(t, ok, "the corpus has an ideal submission")
	for _, c := range All() {
		require.Equal(t, "pass", ideal.Expect[c.ID], "%s: the ideal submission passes it", c.ID)
		require.NotEmpty(t, triggers[c.ID], "%s: no calibration submission is expected to fail it", c.ID)
	}
}

func TestCleanNeutralisesCandidateOutput(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"plain text", "retrying INC0010001 after 503", "retrying INC0010001 after 503"},
		{"ANSI colours", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"carriage return overwrite", "ok\rFAKE", `ok\x0dFAKE`},
		{"invalid UTF-8 stays visible", "a\xffb", `a\xffb`},
		{"bidi override", "abc\u202Edcba", `abc\x202edcba`},
		{"capped", strings.Repeat("x", 500), strings.Repeat("x", maxLine) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Clean(tc.in))
		})
	}
}
