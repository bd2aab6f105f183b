package judge

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJudgingImportsNothingThatRuns: judging (checks, review rules, the join, scoring, the
// report writers, and this package that ties them) imports no Docker, no esbuild, nothing of the
// sandbox, the build or the runner, no process or network code: a grading's verdicts can be
// computed again from its evidence on any machine, with no engine.
func TestJudgingImportsNothingThatRuns(t *testing.T) {
	t.Parallel()
	forbidden := []string{
		"github.com/docker/", "github.com/evanw/esbuild",
		"github.com/itsm-grader/grader/sandbox", "github.com/itsm-grader/grader/grader/prepare",
		"github.com/itsm-grader/grader/grader/bundler", "github.com/itsm-grader/grader/grader/runner",
		"github.com/itsm-grader/grader/grader/static", "github.com/itsm-grader/grader/grader/intake",
		"github.com/itsm-grader/grader/grader/deps", "github.com/itsm-grader/grader/grader/grading",
		"github.com/itsm-grader/grader/harness/mock",
		"os/exec", "net/http",
	}
	// The network package itself, but not its pure helpers (net/netip, net/url).
	exact := []string{"net"}
	for _, pkg := range []string{"judge", "checks", "review", "report", "finding", "evidence", "facts"} {
		t.Run(pkg, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command("go", "list", "-deps", "github.com/itsm-grader/grader/grader/"+pkg).Output()
			require.NoError(t, err)
			for _, dep := range strings.Fields(string(out)) {
				for _, f := range forbidden {
					require.False(t, dep == f || strings.HasPrefix(dep, strings.TrimSuffix(f, "/")+"/"), "grader/%s imports %s", pkg, dep)
				}
				require.NotContains(t, exact, dep, "grader/%s imports %s", pkg, dep)
			}
		})
	}
}
