package sandbox

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/harness/journal"
)

// TestDelayOverIsOnTheJournalsClock: what the sandbox saw, moved onto a journal's clock, keeps
// its intervals, and DelayOver on the host's clock reads the same as Delays.Over on the
// journal's.
func TestDelayOverIsOnTheJournalsClock(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	s := Sched{Known: true, From: at(0), To: at(1000), Waits: []SchedWait{
		{From: at(100), To: at(110), Delay: 8 * time.Millisecond},
		{From: at(500), To: at(520), Delay: 15 * time.Millisecond, Throttled: 5 * time.Millisecond},
	}}
	journalStart := at(-250) // the mock started a quarter of a second before the candidate
	d := s.OnClock(journalStart)
	require.Equal(t, journal.Delays{Known: true, FromUS: 250_000, ToUS: 1_250_000, PeriodUS: 10_000, Intervals: []journal.Delay{
		{FromUS: 350_000, ToUS: 360_000, DelayUS: 8_000},
		{FromUS: 750_000, ToUS: 770_000, DelayUS: 15_000, ThrottledUS: 5_000},
	}}, d)
	held, ok := s.DelayOver(at(510), at(900))
	require.True(t, ok)
	require.Equal(t, 10*time.Millisecond, held)
	us, ok := d.Over(760_000, 1_150_000)
	require.True(t, ok)
	require.Equal(t, held.Microseconds(), us)
	require.Equal(t, journal.Delays{}, Sched{}.OnClock(t0), "an unknown run stays unknown")
}

// TestSamplingReadsThisProcess samples this test process's main thread, as the sandbox samples
// a candidate's.
func TestSamplingReadsThisProcess(t *testing.T) {
	t.Parallel()
	proc, err := os.OpenRoot("/proc/" + strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Skip("no /proc here")
	}
	defer proc.Close()
	w := &schedWatch{}
	s, err := w.read(proc)
	require.NoError(t, err)
	require.Positive(t, s.cpu, "the main thread has run")
}

// BenchmarkSchedSample measures one sample (the main thread's schedstat and a cgroup's
// cpu.stat): the host's cost of watching a candidate.
func BenchmarkSchedSample(b *testing.B) {
	proc, err := os.OpenRoot("/proc/" + strconv.Itoa(os.Getpid()))
	if err != nil {
		b.Skip("no /proc here")
	}
	defer proc.Close()
	w := &schedWatch{cpuStat: cgroupRoot + "/cpu/cpu.stat", unit: 1}
	for b.Loop() {
		if _, err := w.read(proc); err != nil {
			b.Fatal(err)
		}
	}
}
