package sandbox

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/itsm-grader/grader/harness/journal"
)

// The candidate's side of the machine's noise. The mock's probe (harness/mock, NoiseProbe) sees
// what stalls the mock; it cannot see the candidate being held back while the mock runs freely
// (measured in sandbox/noise: on a loaded machine a Node client's event loop waited runnable for
// most of its first retries' window while the mock's probe saw a fraction of it: the
// candidates' cgroup got a small share of the machine against the host's own processes, and a
// client warming up needs the CPU most). So the sandbox also watches the candidate's main thread
// (Node's event loop) from the host: /proc/<pid>/schedstat counts the time it ran and the time
// it waited runnable (its run delay: another process had the core), and the container's
// cpu.stat the time its own CPU quota held it back (throttling). Sampled every schedPeriod,
// each interval in which the thread waited schedThreshold or more, or was throttled, is kept.

const (
	// schedPeriod is how often the candidate is sampled: two small files read, about 30 µs of
	// the host's CPU on this machine (BenchmarkSchedSample), 0.3 % of a core.
	schedPeriod = 10 * time.Millisecond
	// schedThreshold is the run delay in one interval worth keeping: on a quiet machine the main
	// thread of a client in the backoff scenario waited under 1 ms in most intervals
	// (sandbox/noise).
	schedThreshold = 2 * time.Millisecond
	// maxSchedWaits bounds what one run keeps (90 s of intervals at most 9,000).
	maxSchedWaits = 10_000
)

// Sched is how the machine scheduled the candidate's main thread while it ran.
type Sched struct {
	// Known is false where the host's /proc could not be read for the candidate (a remote
	// engine, or it ended before it could be found): nothing is known then.
	Known bool
	// From and To are the first and last samples: the span watched.
	From, To time.Time
	// Waits are the intervals in which the thread waited runnable for schedThreshold or more,
	// or the container was throttled.
	Waits []SchedWait
	// Delay and CPU are the thread's run delay and CPU time over the span watched; Throttled is
	// how long the container's own CPU quota held it back in that span.
	Delay, CPU, Throttled time.Duration
}

// SchedWait is one sampling interval [From, To] in which the candidate's main thread waited
// runnable for Delay and ran for CPU, and the container's quota held it back for Throttled.
type SchedWait struct {
	From, To              time.Time
	Delay, CPU, Throttled time.Duration
}

// DelayOver is how long the candidate was held back within [from, to] (journal.Delays.Over on
// the host's clock): its main thread waiting runnable, and its container throttled, each
// interval counted in proportion to its overlap. Measured in sandbox/noise: on a busy machine the
// main thread waited through 13–45 % of its first retries' window with the runs weighted, 47–78 %
// without, where those waits stretched by up to 0.5 s. ok is false when the span watched does not
// cover [from, to].
func (s Sched) DelayOver(from, to time.Time) (held time.Duration, ok bool) {
	us, ok := s.OnClock(s.From).Over(from.Sub(s.From).Microseconds(), to.Sub(s.From).Microseconds())
	return time.Duration(us) * time.Microsecond, ok
}

// OnClock is what the sandbox saw of the candidate, on a clock started at start: the journal's
// when start is its start line's wall time (journal.Start.Wall), so that it can be kept with the
// journal and weighed against its waits without the sandbox.
func (s Sched) OnClock(start time.Time) journal.Delays {
	if !s.Known {
		return journal.Delays{}
	}
	us := func(t time.Time) int64 { return t.Sub(start).Microseconds() }
	d := journal.Delays{Known: true, FromUS: us(s.From), ToUS: us(s.To), PeriodUS: schedPeriod.Microseconds()}
	for _, w := range s.Waits {
		d.Intervals = append(d.Intervals, journal.Delay{FromUS: us(w.From), ToUS: us(w.To),
			DelayUS: w.Delay.Microseconds(), ThrottledUS: w.Throttled.Microseconds()})
	}
	return d
}

// schedSample is one reading of the main thread and the container's throttling.
type schedSample struct {
	at                   time.Time
	cpu, wait, throttled time.Duration
}

// readSchedstat reads the main thread's CPU time and run delay (nanoseconds each).
func readSchedstat(proc *os.Root) (cpu, wait time.Duration, err error) {
	b, err := proc.ReadFile("schedstat")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("schedstat: %q", b)
	}
	c, err1 := strconv.ParseInt(f[0], 10, 64)
	w, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("schedstat: %q", b)
	}
	return time.Duration(c), time.Duration(w), nil
}

// schedWatch samples one process until stop.
type schedWatch struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
	// cpuStat is the container's cpu.stat (its throttling), unit the unit of its throttled time.
	cpuStat string
	unit    time.Duration
	res     Sched
}

// watchSched starts sampling pid's main thread, and the throttling of the container's cgroup
// (cpuStat, its throttled time in unit; "" when unknown). The process is held by its /proc
// directory, so a pid reused after the candidate exits is never read.
func watchSched(pid int, cpuStat string, unit time.Duration) *schedWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &schedWatch{cancel: cancel, cpuStat: cpuStat, unit: unit}
	if pid <= 0 {
		return w
	}
	proc, err := os.OpenRoot("/proc/" + strconv.Itoa(pid))
	if err != nil {
		return w
	}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		defer proc.Close()
		w.sample(ctx, proc)
	}()
	return w
}

// read takes one sample; it fails once the process is gone.
func (w *schedWatch) read(proc *os.Root) (schedSample, error) {
	cpu, wait, err := readSchedstat(proc)
	if err != nil {
		return schedSample{}, err
	}
	return schedSample{at: time.Now(), cpu: cpu, wait: wait, throttled: w.throttled()}, nil
}

func (w *schedWatch) sample(ctx context.Context, proc *os.Root) {
	first, err := w.read(proc)
	if err != nil {
		return
	}
	prev := first
	w.res = Sched{Known: true, From: first.at, To: first.at}
	t := time.NewTicker(schedPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, err := w.read(proc)
		if err != nil {
			return // the candidate has exited
		}
		iv := SchedWait{From: prev.at, To: cur.at, Delay: cur.wait - prev.wait, CPU: cur.cpu - prev.cpu,
			Throttled: max(cur.throttled-prev.throttled, 0)}
		if (iv.Delay >= schedThreshold || iv.Throttled > 0) && len(w.res.Waits) < maxSchedWaits {
			w.res.Waits = append(w.res.Waits, iv)
		}
		w.res.To = cur.at
		w.res.Delay, w.res.CPU, w.res.Throttled = w.res.Delay+iv.Delay, w.res.CPU+iv.CPU, w.res.Throttled+iv.Throttled
		prev = cur
	}
}

// throttled reads the container's throttled time so far (0 when it cannot be read: the
// container's cgroup goes with it).
func (w *schedWatch) throttled() time.Duration {
	if w.cpuStat == "" {
		return 0
	}
	st, ok := withThrottling(MockStats{}, w.cpuStat, w.unit)
	if !ok {
		return 0
	}
	return st.ThrottledTime
}

// stop ends the sampling and returns what it saw.
func (w *schedWatch) stop() Sched {
	w.cancel()
	w.done.Wait()
	return w.res
}
