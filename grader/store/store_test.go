package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOpenCreatesAPrivateMigratedStoreAndReopensIt(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		file string
	}{
		{"a plain file name", "round.db"},
		{"a path with spaces and URI characters", "my round ?#%&=.db"},
		{"in folders that do not exist yet", filepath.Join("rounds", "2026", "round.db")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			path := filepath.Join(t.TempDir(), tc.file)
			s, err := Open(ctx, path)
			require.NoError(t, err)
			enqueueAll(t, s, "spring", "alice")

			requireSchemaVersion(t, s.writer, SchemaVersion())
			require.FileExists(t, path, "the database is at the path given, not at an unescaped one")
			requireMode(t, path, 0o600)
			requireMode(t, path+"-wal", 0o600)
			requireMode(t, path+"-shm", 0o600)
			requireMode(t, s.DataDir(), 0o700|os.ModeDir)
			require.Equal(t, filepath.Join(filepath.Dir(path), trimExt(filepath.Base(tc.file))+"-data"), s.DataDir())
			if filepath.Base(tc.file) != tc.file {
				requireMode(t, filepath.Dir(path), 0o700|os.ModeDir) // made by Open
			}
			require.NoError(t, s.Close())
			require.NoError(t, s.Close(), "Close is idempotent")

			again, err := Open(ctx, path)
			require.NoError(t, err)
			defer again.Close()
			requireSchemaVersion(t, again.writer, SchemaVersion())
			p, err := again.Progress(ctx, "spring")
			require.NoError(t, err)
			require.Equal(t, 1, p.Queued, "the queued grading survived the reopening")
		})
	}
}

func trimExt(name string) string { return name[:len(name)-len(filepath.Ext(name))] }

func TestOpenTightensAnExistingFilesMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "round.db")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	openAt(t, path)
	requireMode(t, path, 0o600)
}

func TestEveryConnectionHasItsPragmas(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	cases := []struct {
		pool   string
		db     *sql.DB
		pragma string
		want   string
	}{
		{"writer", s.writer, "journal_mode", "wal"},
		{"writer", s.writer, "synchronous", "1"}, // NORMAL
		{"writer", s.writer, "foreign_keys", "1"},
		{"writer", s.writer, "secure_delete", "1"},
		{"writer", s.writer, "busy_timeout", "10000"},
		{"writer", s.writer, "query_only", "0"},
		{"reader", s.reader, "foreign_keys", "1"},
		{"reader", s.reader, "busy_timeout", "10000"},
		{"reader", s.reader, "query_only", "1"},
	}
	for _, tc := range cases {
		t.Run(tc.pool+" "+tc.pragma, func(t *testing.T) {
			// Hold several reader connections at once so the check reaches more than the first.
			n := map[bool]int{true: 1, false: readers}[tc.db == s.writer]
			for range n {
				c, err := tc.db.Conn(ctxT(t))
				require.NoError(t, err)
				defer c.Close() // released however the subtest ends, or the next would wait for it
				var got string
				require.NoError(t, c.QueryRowContext(context.Background(), "PRAGMA "+tc.pragma).Scan(&got))
				require.Equal(t, tc.want, got)
			}
		})
	}
	_, err := s.reader.Exec(`INSERT INTO cohorts (name, created_at) VALUES ('x', 0)`)
	require.ErrorContains(t, err, "readonly", "the reader pool cannot write")
	require.Equal(t, 1, s.writer.Stats().MaxOpenConnections, "one writer connection")
}

func TestOpenRefusesADatabaseFromANewerGrader(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "round.db")
	s, err := Open(ctx, path)
	require.NoError(t, err)
	newer := SchemaVersion() + 1
	_, err = s.writer.Exec(fmt.Sprintf("PRAGMA user_version = %d", newer))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	_, err = Open(ctx, path)
	require.ErrorIs(t, err, ErrNewerSchema)
	require.ErrorContains(t, err, fmt.Sprintf("schema is version %d and this grader knows up to %d", newer, SchemaVersion()))

	raw := rawDB(t, path)
	requireSchemaVersion(t, raw, newer)
}

func TestMigrationsAreNumberedWithoutAGap(t *testing.T) {
	t.Parallel()
	ms, err := migrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	for i, m := range ms {
		require.Equal(t, i+1, m.version, m.name)
	}
	require.Equal(t, len(ms), SchemaVersion())
}

func TestAMigrationIsAppliedWholeOrNotAtAll(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	db := rawDB(t, filepath.Join(t.TempDir(), "m.db"))
	ms := []migration{
		{version: 1, name: "0001_one.sql", sql: "CREATE TABLE one (x INTEGER);"},
		{version: 2, name: "0002_broken.sql", sql: "CREATE TABLE two (x INTEGER); INSERT INTO nowhere VALUES (1);"},
	}
	err := applyAll(ctx, db, ms)
	require.ErrorContains(t, err, "0002_broken.sql")
	requireSchemaVersion(t, db, 1)
	require.Equal(t, 0, rowCount(t, db, "sqlite_master", "name = 'two'"), "the failed migration left no table behind")

	ms[1].sql = "CREATE TABLE two (x INTEGER);"
	require.NoError(t, applyAll(ctx, db, ms))
	requireSchemaVersion(t, db, 2)
	require.NoError(t, applyAll(ctx, db, ms), "applying again is a no-op")
	requireSchemaVersion(t, db, 2)
}

// rawDB opens a file with no store around it.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, []string{"busy_timeout(%d)"}, "immediate"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func requireSchemaVersion(t *testing.T, db *sql.DB, want int) {
	t.Helper()
	var v int
	require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&v))
	require.Equal(t, want, v)
}

func requireMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, want, info.Mode()&(os.ModePerm|os.ModeDir), path)
}
