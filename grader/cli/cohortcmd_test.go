package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/cohort"
	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/store"
)

// storedCohort grades two submissions into a store with a stand-in for the sandbox (a
// submission that does not build), as the commands that read the store need.
func storedCohort(t *testing.T) string {
	ctx := context.Background()
	dir := t.TempDir()
	var entries []cohort.Entry
	for _, name := range []string{"alice", "bob"} {
		sub := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(sub, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(sub, "package.json"), []byte(name), 0o644))
		entries = append(entries, cohort.Entry{Candidate: name, Source: sub})
	}
	db := filepath.Join(dir, "round.db")
	st, err := store.Open(ctx, db)
	require.NoError(t, err)
	defer st.Close()
	capture := func(context.Context, string, string) (*evidence.Evidence, error) {
		return &evidence.Evidence{SchemaVersion: evidence.SchemaVersion, Versions: evidence.Versions{Grader: "test", Suite: "test", Rules: judge.RulesVersion},
			Build: evidence.Build{Stage: "bundle", Summary: "does not parse"}}, nil
	}
	_, err = cohort.Run(ctx, st, entries, cohort.Options{Cohort: "round", Capture: capture, Write: func(rep *report.Report, dir string) error { return writeReports(rep, dir) }})
	require.NoError(t, err)
	return db
}

func TestRejudgeAndPurgeCommands(t *testing.T) {
	t.Parallel()
	db := storedCohort(t)
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), Env{Args: args, Stdout: &stdout, Stderr: &stderr})
		return code, stdout.String(), stderr.String()
	}
	code, stdout, errs := run("rejudge", "--db", db, "--cohort", "round")
	require.Equal(t, ExitOK, code, errs)
	require.Contains(t, stdout, "0 gradings judged again by rules "+judge.RulesVersion+"; 2 were judged by them already")

	code, _, errs = run("rejudge", "--db", filepath.Join(t.TempDir(), "none.db"), "--cohort", "round")
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errs, "no store at")
	code, _, errs = run("rejudge", "--db", db)
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errs, "--cohort NAME is required")

	out := filepath.Join(t.TempDir(), "cmp")
	code, stdout, errs = run("compare", "--db", db, "--cohort", "round", "--out", out)
	require.Equal(t, ExitOK, code, errs)
	require.Contains(t, stdout, filepath.Join(out, "comparison.html"))
	for _, name := range []string{"comparison.html", "comparison.md", "comparison.csv", "comparison.json"} {
		require.FileExists(t, filepath.Join(out, name))
	}
	page, err := os.ReadFile(filepath.Join(out, "comparison.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), "xploratory", "two submissions: exploratory")
	code, _, errs = run("compare", "--db", db, "--cohort", "nobody", "--out", out)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errs, "not found")

	data := filepath.Join(filepath.Dir(db), "round-data")
	require.DirExists(t, data)
	code, stdout, errs = run("purge", "--db", db, "--cohort", "round", "--candidate", "alice")
	require.Equal(t, ExitOK, code, errs)
	require.Contains(t, stdout, "purged candidate alice of cohort round: 1 candidates, 1 submissions, 1 gradings")
	code, stdout, errs = run("purge", "--db", db, "--cohort", "round")
	require.Equal(t, ExitOK, code, errs)
	require.Contains(t, stdout, "purged cohort round: 1 candidates, 1 submissions, 1 gradings")
	code, _, errs = run("purge", "--db", db, "--cohort", "round")
	require.Equal(t, ExitFailure, code, "a cohort purged is gone")
	require.Contains(t, errs, "not found")

	raw, err := os.ReadFile(db)
	require.NoError(t, err)
	if i := bytes.Index(raw, []byte("alice")); i >= 0 {
		t.Errorf("the purged name is left in the database file: %q", raw[max(0, i-200):min(len(raw), i+100)])
	}
	entries, err := os.ReadDir(data)
	require.NoError(t, err)
	require.Empty(t, entries, "no file of the cohort is left")
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		s    cohort.Status
		want string
	}{
		{"fetching, nothing timed yet", cohort.Status{Entries: 10, Fetched: 4, Workers: 2, Progress: store.Progress{Queued: 4}},
			"0/4 done · 0 running · 4 queued · fetching 4/10 · 1m0s elapsed"},
		{"the ETA divides by the workers, not by what runs this instant", cohort.Status{Entries: 10, Fetched: 10, Workers: 2,
			Progress: store.Progress{Done: 4, Running: 1, Queued: 5, MeanGrading: time.Minute}}, "4/10 done · 1 running · 5 queued · ETA 3m0s · 1m0s elapsed"},
		{"failures are counted", cohort.Status{Entries: 2, Fetched: 2, Workers: 2, Progress: store.Progress{Done: 1, Failed: 1}},
			"1/2 done · 0 running · 0 queued · 1 failed · 1m0s elapsed"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, progressLine(tc.s, time.Minute), tc.name)
	}
}
