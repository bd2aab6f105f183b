package mock

import (
	"context"
	"sync"
	"time"

	"github.com/itsm-grader/grader/harness/journal"
)

// NoiseProbe configures the mock's scheduling probe: a timer due every Period whose wakes at
// least Threshold late are journaled as noise lines (journal.Noise). It is how every run
// measures the machine's noise while it happens: the mock runs in its own container beside the
// client, so a stall it sees (another container starting, a busy host, its own CPU quota) is time
// in which the client's waits and the mock's time stamps may have been bent. Zero fields take
// the defaults; Off switches the probe off (the start line then names no probe, and nothing is
// known of the noise).
type NoiseProbe struct {
	Period, Threshold time.Duration
	Off               bool
}

// Defaults of NoiseProbe, from measurement (BenchmarkNoiseProbe; README, "How noisy a run
// was"). On this machine (2 vCPUs, Firecracker) a quiet machine wakes a probe due every 10 ms
// 0.21 ms late at the median, 1.0 ms at the 99th percentile and 2.2 ms at worst in 500 wakes,
// so a 5 ms threshold journals nothing on a quiet machine. Every stall of 15 ms (period plus
// threshold) or more is journaled: under a third of the 50 ms the backoff checks call "back to
// back". The probe costs about 1 % of a core while the mock runs (in-process 9–12 ms of CPU a
// second against 0.1–0.2 without it; in the container the mock's CPU over a backoff run went
// from 59 to 70 ms a second, median of 12 runs each): each wake costs this VM about 0.1 ms, and
// a 20 ms period saved only a quarter of it.
const (
	DefaultNoisePeriod    = 10 * time.Millisecond
	DefaultNoiseThreshold = 5 * time.Millisecond
)

func (p NoiseProbe) withDefaults() NoiseProbe {
	if p.Period <= 0 {
		p.Period = DefaultNoisePeriod
	}
	if p.Threshold <= 0 {
		p.Threshold = DefaultNoiseThreshold
	}
	return p
}

// describe is the probe as the journal's start line names it; nil when it is off.
func (p NoiseProbe) describe() *journal.Probe {
	if p.Off {
		return nil
	}
	return &journal.Probe{PeriodUS: p.Period.Microseconds(), ThresholdUS: p.Threshold.Microseconds()}
}

// noiseProbe is the probe of one mock: armed (its first wake due) before the journal's start
// line is written, so that any stall after that line is seen; started once the journal exists.
type noiseProbe struct {
	cfg    NoiseProbe
	clock  journal.Clock
	timer  *time.Timer
	due    int64
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// armNoiseProbe sets the probe's first wake one period from now.
func armNoiseProbe(p NoiseProbe, clock journal.Clock) *noiseProbe {
	np := &noiseProbe{cfg: p, clock: clock, cancel: func() {}}
	if !p.Off {
		np.due = clock.Now() + p.Period.Microseconds()
		np.timer = time.NewTimer(p.Period)
	}
	return np
}

// start runs the probe until stop; onStall is told of every wake at least Threshold late.
func (np *noiseProbe) start(onStall func(journal.Noise)) {
	if np.timer == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	np.cancel = cancel
	np.done.Add(1)
	go func() {
		defer np.done.Done()
		np.watch(ctx, onStall)
	}()
}

// watch is the probe's loop: each wake is measured against the time it was due, and the next
// is due one period after it.
func (np *noiseProbe) watch(ctx context.Context, onStall func(journal.Noise)) {
	defer np.timer.Stop()
	period, threshold := np.cfg.Period.Microseconds(), np.cfg.Threshold.Microseconds()
	for {
		select {
		case <-ctx.Done():
			return
		case <-np.timer.C:
		}
		now := np.clock.Now()
		if late := now - np.due; late >= threshold {
			onStall(journal.Noise{AtUS: np.due, LateUS: late})
		}
		np.due = np.clock.Now() + period
		np.timer.Reset(np.cfg.Period)
	}
}

// stop ends the probe and waits for it.
func (np *noiseProbe) stop() {
	np.cancel()
	np.done.Wait()
}
