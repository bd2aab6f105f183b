package grading_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/grader/grading"
	"github.com/itsm-grader/grader/sandbox/sandboxtest"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// TestStability grades the whole corpus GRADER_STABILITY_ROUNDS times (default 5), four
// gradings in parallel, and requires every verdict to be identical every time. It also reports
// how much each measured number moved between rounds: the noise the thresholds stand against.
// It runs only with GRADER_STABILITY=1 (make stability): it takes tens of minutes.
// GRADER_CORPUS=a,b limits it to some submissions. GRADER_STABILITY_HOG=1 keeps one core busy
// with unrelated work (a `yes` process, testenv.CPUHog) from the first grading to the end, a
// stand-in for a slower or shared machine: the verdicts must hold all the same.
func TestStability(t *testing.T) {
	if os.Getenv("GRADER_STABILITY") != "1" {
		t.Skip("set GRADER_STABILITY=1 (make stability)")
	}
	rounds := 5
	if v := os.Getenv("GRADER_STABILITY_ROUNDS"); v != "" {
		_, err := fmt.Sscan(v, &rounds)
		require.NoError(t, err)
	}
	sb := sandboxtest.New(t)
	names, err := corpus()
	require.NoError(t, err)
	require.NotEmpty(t, names, "no calibration submission matches GRADER_CORPUS")
	if testenv.WantHog() {
		testenv.CPUHog(t) // stopped in the test's cleanup, passed or failed
	}
	type key struct{ sub, finding string }
	var mu sync.Mutex
	verdicts := map[key]map[string]int{}
	measured := map[string][]float64{}
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range jobs {
				rep, err := grading.Grade(context.Background(), grading.Options{Source: filepath.Join(submissions.Dir(), name), Sandbox: sb, Toolchain: testenv.TypeScript(t)})
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				mu.Lock()
				for _, f := range rep.Findings {
					k := key{name, f.ID}
					if verdicts[k] == nil {
						verdicts[k] = map[string]int{}
					}
					verdicts[k][string(f.Verdict)]++
					for m, v := range f.Measured {
						mk := name + " " + f.ID + " " + m
						measured[mk] = append(measured[mk], v)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for r := 0; r < rounds; r++ {
		for _, name := range names {
			jobs <- name
		}
	}
	close(jobs)
	wg.Wait()
	var unstable []string
	for k, vs := range verdicts {
		if len(vs) > 1 {
			unstable = append(unstable, fmt.Sprintf("%s %s: %v", k.sub, k.finding, vs))
		}
	}
	sort.Strings(unstable)
	var noise []string
	for k, vs := range measured {
		sort.Float64s(vs)
		if strings.HasSuffix(k, "_ms") && len(vs) > 1 {
			noise = append(noise, fmt.Sprintf("%-70s min %8.0f  max %8.0f  spread %6.0f ms", k, vs[0], vs[len(vs)-1], vs[len(vs)-1]-vs[0]))
		}
	}
	sort.Strings(noise)
	t.Logf("measured spread across %d rounds:\n%s", rounds, strings.Join(noise, "\n"))
	require.Empty(t, unstable, "verdicts that changed between rounds")
}

// corpus is the calibration submissions GRADER_CORPUS names (all of them when it is empty).
func corpus() ([]string, error) {
	names, err := submissions.Names()
	if err != nil {
		return nil, err
	}
	only := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("GRADER_CORPUS"), ",") {
		if n != "" {
			only[n] = true
		}
	}
	if len(only) == 0 {
		return names, nil
	}
	var out []string
	for _, n := range names {
		if only[n] {
			out = append(out, n)
		}
	}
	return out, nil
}
