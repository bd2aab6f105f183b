package suite

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/itsm-grader/grader/fixtures/scenarios"
)

// Version names a suite by what it runs: a hash of its scenarios (names, trials, budgets, in
// order) and of every plan they run, as written. Two gradings with the same suite version ran
// the same faults with the same budgets.
func Version(s []Scenario) (string, error) {
	h := sha256.New()
	for _, sc := range s {
		src, err := scenarios.Source(sc.Name)
		if err != nil {
			return "", fmt.Errorf("suite version: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%t\x00%d\x00", sc.Name, sc.Trials, sc.Budget, sc.TimingSensitive, len(src))
		h.Write(src)
	}
	return "suite-" + hex.EncodeToString(h.Sum(nil))[:12], nil
}
