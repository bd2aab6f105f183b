package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// crashEnv makes the test binary, run again by the crash test, the batch that gets killed.
const crashEnv = "GRADER_STORE_CRASH_CHILD"

const (
	crashJobs     = 12
	crashFindings = 30
	// The child is killed inside the transaction of its crashAtFinish-th Finish, after
	// crashAtRow finding rows are written.
	crashAtFinish = 4
	crashAtRow    = 15
)

func TestAKilledBatchLeavesAConsistentStoreAndEveryJobIsFinishedOnce(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(t, path)
		return
	}
	t.Parallel()
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "round.db")
	s := openAt(t, path)
	ids := enqueueAll(t, s, "crash", names("cand", crashJobs)...)
	require.NoError(t, s.Close())

	printed, killed := runAndKillChild(ctx, t, path)
	require.Positive(t, uncommittedFrames(t, path+"-wal"), "the killed transaction left pages in the log that no commit covers")

	later := func() time.Time { return time.Now().Add(2 * time.Hour) } // every lease the child held has run out
	s = openAt(t, path, WithClock(later))
	// What the child finished is what the store says: a worker may have committed a Finish
	// and not yet printed so when the other worker reached the transaction that was killed.
	childFinished := map[int64]bool{}
	for _, id := range ids {
		if readGrading(t, s, id).Status == "done" {
			childFinished[id] = true
		}
	}
	require.Len(t, childFinished, crashAtFinish-1, "the child finished three gradings before it was killed in the fourth (one writer: they committed before it began)")
	for id := range printed {
		require.True(t, childFinished[id], "grading %d, printed finished, is done", id)
	}
	var integrity string
	require.NoError(t, s.reader.QueryRow(`PRAGMA integrity_check`).Scan(&integrity))
	require.Equal(t, "ok", integrity)
	require.Zero(t, rowCount(t, s.reader, "pragma_foreign_key_check", ""))
	require.Equal(t, crashJobs, rowCount(t, s.reader, "gradings", ""))
	for id := range childFinished {
		got := readGrading(t, s, id)
		require.Equal(t, "done", got.Status)
		require.Equal(t, crashFindings, got.Findings)
	}
	dead := readGrading(t, s, killed)
	require.Equal(t, "running", dead.Status, "the killed transaction was rolled back")
	require.Equal(t, 0, dead.Findings, "none of the %d finding rows it had written is left", crashAtRow+1)

	for _, name := range names("cand", crashJobs) {
		_, created, err := s.Enqueue(ctx, entry("crash", name))
		require.NoError(t, err)
		require.False(t, created, "the restarted batch queues nothing twice")
	}
	parentFinished := map[int64]bool{}
	for {
		job, ok, err := s.Claim(ctx, "crash", "parent", time.Hour)
		require.NoError(t, err)
		if !ok {
			break
		}
		require.False(t, childFinished[job.ID], "grading %d was finished by the child already", job.ID)
		require.False(t, parentFinished[job.ID], "grading %d claimed twice", job.ID)
		require.NoError(t, s.Finish(ctx, job.Ticket, resultFor(job, sampleReport(testRules, crashFindings))))
		parentFinished[job.ID] = true
	}
	require.True(t, parentFinished[killed], "the killed grading was finished after the restart")
	require.Len(t, parentFinished, crashJobs-len(childFinished))
	for _, id := range ids {
		got := readGrading(t, s, id)
		require.Equal(t, "done", got.Status, "grading %d", id)
		require.Equal(t, crashFindings, got.Findings, "grading %d has its findings once", id)
	}
	require.Equal(t, 2, readGrading(t, s, killed).Attempts)
}

// runAndKillChild runs the test binary as a batch on the store and SIGKILLs it when it says it
// is inside a transaction. It returns the gradings the child finished and the one it was in.
func runAndKillChild(ctx context.Context, t *testing.T, path string) (finished map[int64]bool, killed int64) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	finished = map[int64]bool{}
	var transcript strings.Builder
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		transcript.WriteString(lines.Text() + "\n")
		word, num, _ := strings.Cut(lines.Text(), " ")
		id, _ := strconv.ParseInt(num, 10, 64)
		switch word {
		case "FINISHED":
			finished[id] = true
		case "INSIDE-TRANSACTION":
			killed = id
			require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred function, no rollback
		}
		if killed != 0 {
			break
		}
	}
	err = cmd.Wait()
	require.NotZero(t, killed, "the child never reached the transaction to kill\nstdout:\n%s\nstderr:\n%s", transcript.String(), stderr.String())
	require.ErrorContains(t, err, "signal: killed")
	return finished, killed
}

// crashChild is the batch: two workers claim and finish gradings until the hook, inside the
// crashAtFinish-th Finish's transaction, says where it is and waits to be killed.
func crashChild(t *testing.T, path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	require.NoError(t, err)
	// A small page cache spills the open transaction's pages into the write-ahead log before it
	// commits, so the kill leaves uncommitted frames there for recovery to ignore.
	_, err = s.writer.Exec("PRAGMA cache_size = 10")
	require.NoError(t, err)
	var started atomic.Int32
	s.finishHook = func(gradingID int64, row int) {
		if row == 0 {
			started.Add(1)
		}
		if started.Load() == crashAtFinish && row == crashAtRow {
			fmt.Printf("INSIDE-TRANSACTION %d\n", gradingID)
			select {} // the writer connection is held, the transaction open: kill me here
		}
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			worker := "child/" + strconv.Itoa(w)
			for {
				job, ok, err := s.Claim(ctx, "crash", worker, time.Hour)
				if err != nil || !ok {
					fmt.Printf("STOPPED %s %v\n", worker, err)
					return
				}
				if err := os.MkdirAll(job.Dir, 0o700); err == nil {
					_ = os.WriteFile(filepath.Join(job.Dir, "report.json"), []byte("partial"), 0o600)
				}
				if err := s.Finish(ctx, job.Ticket, resultFor(job, sampleReport(testRules, crashFindings))); err != nil {
					fmt.Printf("ERROR %s %v\n", worker, err)
					return
				}
				fmt.Printf("FINISHED %d\n", job.ID)
			}
		})
	}
	wg.Wait()
	t.Fatal("the child was not killed")
}

// uncommittedFrames counts the frames at the end of a write-ahead log that no commit frame
// follows (https://sqlite.org/fileformat.html#the_write_ahead_log: a 32-byte header, then
// frames of a 24-byte header and a page; a commit frame's header holds the database size in
// pages at bytes 4–7, any other frame zero).
func uncommittedFrames(t *testing.T, walPath string) int {
	t.Helper()
	wal, err := os.ReadFile(walPath)
	require.NoError(t, err)
	require.Greater(t, len(wal), 32, "a log with frames")
	pageSize := int(binary.BigEndian.Uint32(wal[8:12]))
	frame := 24 + pageSize
	tail := 0
	for off := 32; off+frame <= len(wal); off += frame {
		tail++
		if binary.BigEndian.Uint32(wal[off+4:off+8]) != 0 {
			tail = 0
		}
	}
	return tail
}
