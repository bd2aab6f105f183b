package store

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// purgeFixture is a store with two cohorts whose candidates' names, sources, reports, files
// and similarity fragments carry a marker each, so a test can look for any trace of them.
type purgeFixture struct {
	s       *Store
	clock   *clock
	dirs    map[string][]string // candidate → folders written
	cohorts map[string]int64
}

var purgeMarkers = map[string]string{
	"alice": "zq-alice-4c1f9e",
	"bob":   "zq-bob-77d0a2",
	"carol": "zq-carol-e51b08",
}

func newPurgeFixture(t *testing.T) *purgeFixture {
	t.Helper()
	ctx := ctxT(t)
	c := newClock()
	f := &purgeFixture{s: openStore(t, WithClock(c.Now)), clock: c, dirs: map[string][]string{}, cohorts: map[string]int64{}}
	subs := map[string]int64{}
	for _, who := range []struct{ cohort, candidate string }{{"spring", "alice"}, {"spring", "bob"}, {"autumn", "carol"}} {
		marker := purgeMarkers[who.candidate]
		e := entry(who.cohort, marker)
		e.Source += "?" + marker
		id, _, err := f.s.Enqueue(ctx, e)
		require.NoError(t, err)
		if who.candidate == "alice" { // an attempt that died, then one that finished
			dead := mustClaim(t, f.s, who.cohort, "w", time.Minute)
			f.writeFiles(t, who.candidate, dead.Dir, marker)
			c.Advance(2 * time.Minute)
		}
		job := mustClaim(t, f.s, who.cohort, "w", time.Hour)
		require.Equal(t, id, job.ID)
		f.writeFiles(t, who.candidate, job.Dir, marker)
		r := sampleReport(testRules, 30)
		r.Findings[1].Summary = "the client logged " + marker
		require.NoError(t, f.s.Finish(ctx, job.Ticket, resultFor(job, r)))
		var sub, cohort int64
		require.NoError(t, f.s.reader.QueryRow(`SELECT submission_id, cohort_id FROM gradings WHERE id = ?`, id).Scan(&sub, &cohort))
		subs[who.candidate], f.cohorts[who.cohort] = sub, cohort
	}
	fragments, err := json.Marshal([]string{purgeMarkers["alice"], purgeMarkers["bob"]})
	require.NoError(t, err)
	require.NoError(t, f.s.ReplaceSimilarity(ctx, "spring", []Pair{{A: subs["alice"], B: subs["bob"], Score: 0.8, LongestFragment: 50, Fragments: fragments}}))
	return f
}

func (f *purgeFixture) writeFiles(t *testing.T, candidate, dir, marker string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o700))
	for _, name := range []string{"evidence.json.gz", "report.html", "report.json"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(marker), 0o600))
	}
	f.dirs[candidate] = append(f.dirs[candidate], dir)
}

// onDisk is everything SQLite keeps of the store: the database file and its write-ahead log.
func (f *purgeFixture) onDisk(t *testing.T) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal", "-journal"} {
		b, err := os.ReadFile(f.s.Path() + suffix)
		if !os.IsNotExist(err) {
			require.NoError(t, err)
		}
		all = append(all, b...)
	}
	return all
}

func TestPurgeLeavesNoTraceOfWhatItDeletes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		purge  func(ctx context.Context, s *Store) (Purged, error)
		gone   []string
		kept   []string
		counts Purged
	}{
		{
			name:   "a cohort",
			purge:  func(ctx context.Context, s *Store) (Purged, error) { return s.Purge(ctx, "spring") },
			gone:   []string{"alice", "bob"},
			kept:   []string{"carol"},
			counts: Purged{Candidates: 2, Submissions: 2, Gradings: 2, Findings: 60, SimilarityPairs: 1, Files: 1 + 2*3},
		},
		{
			name: "a candidate",
			purge: func(ctx context.Context, s *Store) (Purged, error) {
				return s.PurgeCandidate(ctx, "spring", purgeMarkers["alice"])
			},
			gone:   []string{"alice"},
			kept:   []string{"bob", "carol"},
			counts: Purged{Candidates: 1, Submissions: 1, Gradings: 1, Findings: 30, SimilarityPairs: 1, Files: 3},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newPurgeFixture(t)
			_, err := f.s.writer.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			require.NoError(t, err)
			before := f.onDisk(t)
			for _, who := range append(tc.gone, tc.kept...) {
				require.True(t, bytes.Contains(before, []byte(purgeMarkers[who])), "%s is in the file before the purge", who)
			}

			p, err := tc.purge(ctxT(t), f.s)
			require.NoError(t, err)
			require.Equal(t, tc.counts, p)

			after := f.onDisk(t)
			for _, who := range tc.gone {
				require.False(t, bytes.Contains(after, []byte(purgeMarkers[who])), "%s's text is gone from the database file", who)
				for _, dir := range f.dirs[who] {
					require.NoDirExists(t, dir)
					require.NoDirExists(t, filepath.Dir(dir), "the grading's folder")
				}
				require.Equal(t, 0, rowCount(t, f.s.reader, "candidates", "name = ?", purgeMarkers[who]))
			}
			for _, who := range tc.kept {
				require.True(t, bytes.Contains(after, []byte(purgeMarkers[who])), "%s is kept", who)
				for _, dir := range f.dirs[who] {
					require.DirExists(t, dir)
				}
			}
			if tc.name == "a cohort" {
				require.NoDirExists(t, f.s.cohortDir(f.cohorts["spring"]))
			}
			kept := len(tc.kept)
			require.Equal(t, kept, rowCount(t, f.s.reader, "candidates", ""))
			require.Equal(t, kept, rowCount(t, f.s.reader, "submissions", ""))
			require.Equal(t, kept, rowCount(t, f.s.reader, "gradings", ""))
			require.Equal(t, 30*kept, rowCount(t, f.s.reader, "findings", ""))
			require.Equal(t, 0, rowCount(t, f.s.reader, "similarity_pairs", ""))
			var fkProblems int
			require.NoError(t, f.s.reader.QueryRow(`SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fkProblems))
			require.Zero(t, fkProblems)
		})
	}
}

func TestPurgeWaitsForRunningGradings(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := newClock()
	s := openStore(t, WithClock(c.Now))
	enqueueAll(t, s, "spring", "alice", "bob")
	mustClaim(t, s, "spring", "w", 10*time.Minute)

	_, err := s.Purge(ctx, "spring")
	require.ErrorIs(t, err, ErrBusy)
	_, err = s.PurgeCandidate(ctx, "spring", "alice")
	require.ErrorIs(t, err, ErrBusy)
	p, err := s.PurgeCandidate(ctx, "spring", "bob")
	require.NoError(t, err, "bob's grading is not running")
	require.Equal(t, 1, p.Gradings)
	require.Equal(t, 1, rowCount(t, s.reader, "gradings", ""), "a refused purge deleted nothing")

	c.Advance(11 * time.Minute) // the batch is gone: its lease ran out
	p, err = s.Purge(ctx, "spring")
	require.NoError(t, err)
	require.Equal(t, 1, p.Gradings)

	_, err = s.Purge(ctx, "spring")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.PurgeCandidate(ctx, "autumn", "alice")
	require.ErrorIs(t, err, ErrNotFound)
}
