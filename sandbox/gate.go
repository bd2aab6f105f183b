package sandbox

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// startGate staggers container starts across the runs of one Sandbox (Options.StartGate): at
// most one run creates and starts its containers at a time, and none while another run's
// candidate is inside the quiet window its Spec asked for (Spec.Quiet). Starting a container is
// the busiest thing the engine does during a grading (dockerd, containerd, runc and the kernel
// set up mounts, cgroups and namespaces). Measured in sandbox/noise with the runs at the host's
// CPU weight, two other runs starting and stopping beside a backoff run stretched its first
// retries by 260 ms at the median, 140 ms with the gate; at the sandbox's weight (weight.go), in
// whole suites with one core kept busy, the gate with 3 s quiet windows took the 90th percentile
// from 62 to 44 ms where the backoff plan's warm-up took it to 25 ms at no cost in time. So it is
// off by default. A zero startGate is ready to use.
type startGate struct {
	mu       sync.Mutex
	starting bool
	quiet    map[int]time.Time // quiet windows in force, by id, until their end
	nextID   int
	changed  chan struct{} // closed and replaced whenever the gate opens a little more
}

// wake tells every waiter to look again (g.mu held).
func (g *startGate) wake() {
	if g.changed != nil {
		close(g.changed)
	}
	g.changed = make(chan struct{})
}

// blocked says whether a start must wait now, and until when at the latest (g.mu held): the end
// of the last quiet window in force, or zero when only another start blocks it.
func (g *startGate) blocked(now time.Time) (bool, time.Time) {
	var until time.Time
	for id, end := range g.quiet {
		if !end.After(now) {
			delete(g.quiet, id)
			continue
		}
		if end.After(until) {
			until = end
		}
	}
	return g.starting || !until.IsZero(), until
}

// enter waits until no other run is starting and no quiet window is in force, then holds the
// gate until leave is called.
func (g *startGate) enter(ctx context.Context) (leave func(), err error) {
	for {
		g.mu.Lock()
		if g.changed == nil {
			g.changed = make(chan struct{})
		}
		wait, until := g.blocked(time.Now())
		if !wait {
			g.starting = true
			g.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { g.mu.Lock(); g.starting = false; g.wake(); g.mu.Unlock() }) }, nil
		}
		changed := g.changed
		g.mu.Unlock()
		if err := waitChange(ctx, changed, until); err != nil {
			return nil, err
		}
	}
}

// waitChange waits for the gate to change, for until to pass (when it is not zero), or for ctx.
func waitChange(ctx context.Context, changed <-chan struct{}, until time.Time) error {
	var expiry <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		expiry = t.C
	}
	select {
	case <-changed:
	case <-expiry:
	case <-ctx.Done():
		return fmt.Errorf("wait to start containers: %w", context.Cause(ctx))
	}
	return nil
}

// hold opens a quiet window of d from now: no run starts containers until it ends or end is
// called, whichever comes first.
func (g *startGate) hold(d time.Duration) (end func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.quiet == nil {
		g.quiet = map[int]time.Time{}
	}
	g.nextID++
	id := g.nextID
	g.quiet[id] = time.Now().Add(d)
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			delete(g.quiet, id)
			g.wake()
		})
	}
}
