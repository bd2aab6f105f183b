// Package store keeps a hiring round: cohorts, candidates, their submissions, the gradings (which
// are also the work queue of `grader batch`), one row per finding and the similarity pairs, in
// one SQLite file (modernc.org/sqlite: pure Go, no cgo), with the gradings' evidence and reports
// in a data folder beside it.
//
// One writer connection takes every write in an IMMEDIATE transaction (a transaction that reads
// and then upgrades to write would fail with SQLITE_BUSY at once instead of waiting); a pool of
// query-only connections reads. Several processes may open the same file: SQLite's locks and
// the busy timeout serialise their writers, and a claimed grading belongs to one worker until
// its lease runs out. The file holds personal data: it is created 0600, its data folder 0700,
// and Purge deletes a cohort or a candidate completely, files included.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeout is how long a connection waits for another's lock before SQLITE_BUSY: a batch's
// writes are short (the longest, Finish, inserts a few dozen rows), so waiting this long means
// something is holding the file, and saying so beats waiting forever.
const busyTimeout = 10 * time.Second

// readers is the size of the query-only pool.
const readers = 4

// Defaults of the queue.
const (
	// DefaultMaxAttempts is how many times a grading is tried when the infrastructure fails
	// (an engine that stops answering, a registry down, a batch killed mid-grading).
	DefaultMaxAttempts = 3
	// DefaultBackoff is the wait before the first retry; each later one doubles it.
	DefaultBackoff = 30 * time.Second
	// maxBackoff caps the doubling.
	maxBackoff = 10 * time.Minute
)

// Store is an open store. Its methods are safe for concurrent use.
type Store struct {
	path    string
	dataDir string
	writer  *sql.DB
	reader  *sql.DB

	now         func() time.Time
	host        string
	maxAttempts int
	backoff     func(attempt int) time.Duration

	// finishHook, when set (tests only), runs inside Finish's transaction after each finding
	// row is inserted.
	finishHook func(gradingID int64, row int)
}

// Option changes how Open sets a store up.
type Option func(*Store)

// WithClock sets the clock the queue reads (leases, backoff, times recorded).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithMaxAttempts sets how many attempts an infrastructure failure is given (at least 1).
func WithMaxAttempts(n int) Option { return func(s *Store) { s.maxAttempts = max(n, 1) } }

// WithBackoff sets the wait before a failed attempt is tried again, by the attempt's number
// (1 for the first).
func WithBackoff(f func(attempt int) time.Duration) Option { return func(s *Store) { s.backoff = f } }

// WithDataDir sets the folder for evidence and reports (default: the database's path with its
// extension replaced by "-data": round.db keeps its files in round-data/).
func WithDataDir(dir string) Option { return func(s *Store) { s.dataDir = dir } }

// WithHost names the machine recorded on the gradings this store claims (default os.Hostname).
func WithHost(name string) Option { return func(s *Store) { s.host = name } }

// Open opens the store at path, creating it (0600) and its data folder (0700) if absent, and
// migrates it to this grader's schema. A database written by a newer grader is refused
// (ErrNewerSchema).
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{path: abs, now: time.Now, maxAttempts: DefaultMaxAttempts, backoff: doubling(DefaultBackoff)}
	s.host, _ = os.Hostname()
	for _, opt := range opts {
		opt(s)
	}
	if s.dataDir == "" {
		s.dataDir = strings.TrimSuffix(abs, filepath.Ext(abs)) + "-data"
	}
	if s.dataDir, err = filepath.Abs(s.dataDir); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.open(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), s.Close())
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	// A new store's folder is made private, as the file and its data folder are.
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("create the store's folder: %w", err)
	}
	if err := createPrivate(s.path); err != nil {
		return err
	}
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	var err error
	if s.writer, err = openPool(ctx, s.path, writerPragmas, "immediate", 1); err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	if err := s.checkWAL(ctx); err != nil {
		return err
	}
	if err := migrate(ctx, s.writer); err != nil {
		return err
	}
	if s.reader, err = openPool(ctx, s.path, readerPragmas, "deferred", readers); err != nil {
		return fmt.Errorf("reader: %w", err)
	}
	return nil
}

// Close closes the store's connections. It is nil-safe and idempotent.
func (s *Store) Close() error {
	if s == nil {
		return nil
	}
	var errs []error
	for _, db := range []**sql.DB{&s.reader, &s.writer} {
		if *db != nil {
			errs = append(errs, (*db).Close())
			*db = nil
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path is the database file's absolute path.
func (s *Store) Path() string { return s.path }

// DataDir is the absolute path of the folder that holds the gradings' evidence and reports.
func (s *Store) DataDir() string { return s.dataDir }

// The pragmas every connection of a pool gets, as DSN parameters (a db.Exec("PRAGMA …") would
// reach one pooled connection only). secure_delete overwrites deleted rows with zeros, so a
// purged candidate's text does not linger in free pages.
var (
	writerPragmas = []string{"busy_timeout(%d)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)", "secure_delete(1)"}
	readerPragmas = []string{"busy_timeout(%d)", "foreign_keys(1)", "query_only(1)"}
)

// dsn is the URI modernc.org/sqlite opens: the path escaped, the pragmas, and the writer's
// BEGIN IMMEDIATE for every transaction (the readers' transactions stay deferred: an immediate
// one would take the write lock).
func dsn(path string, pragmas []string, txlock string) string {
	q := url.Values{"_txlock": {txlock}}
	for _, p := range pragmas {
		if strings.Contains(p, "%d") {
			p = fmt.Sprintf(p, busyTimeout.Milliseconds())
		}
		q.Add("_pragma", p)
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

func openPool(ctx context.Context, path string, pragmas []string, txlock string, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, pragmas, txlock))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

func (s *Store) checkWAL(ctx context.Context) error {
	var mode string
	if err := s.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not WAL (a file system without shared memory?)", mode)
	}
	return nil
}

// createPrivate makes sure the database file exists and only its owner may read it: SQLite
// gives its -wal and -shm files the database file's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err == nil && info.Mode().Perm()&0o077 != 0 {
		err = f.Chmod(0o600)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("database file: %w", err)
	}
	return nil
}

func doubling(first time.Duration) func(int) time.Duration {
	return func(attempt int) time.Duration {
		d := first
		for i := 1; i < attempt && d < maxBackoff; i++ {
			d *= 2
		}
		return min(d, maxBackoff)
	}
}

// write runs fn in one IMMEDIATE transaction on the writer, committing if it returns nil.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, rollback(tx))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// millis is t as stored: Unix milliseconds.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis reads a stored time; NULL is the zero time.
func fromMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}
