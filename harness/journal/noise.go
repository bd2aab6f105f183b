package journal

// The mock measures the machine's scheduling noise during every run: a probe in the mock's
// process is due every period and journals each wake that comes at least a threshold late (a
// noise line). A late wake means the mock could not run, or its timer could not fire, for that
// long: the machine was busy (other containers starting, another process, the mock's own CPU
// quota), and any time the mock stamped then, and any wait of the client's that spanned it, may
// be bent by as much. NoiseOver says, for an interval of the journal's clock, how much of it the
// probe saw stalled, so a timing check can tell a measured wait from bent time.

// KindNoise is a stall of the mock's scheduling probe.
const KindNoise = "noise"

// DefaultMaxNoise caps the noise lines of one journal. A probe due every 10 ms stalls at most 100
// times a second, so 10,000 lines hold 100 s of a stall at every wake (a run lasts at most 90 s);
// a busy machine measured about 50 in a backoff run (sandbox/noise). 10,000 lines are about
// 500 KB.
const DefaultMaxNoise = 10_000

// Probe describes the mock's scheduling probe, in the start line. A journal whose start line
// names no probe says nothing about noise: it was written before the probe existed, or with the
// probe switched off.
type Probe struct {
	// PeriodUS is how often the probe is due; ThresholdUS how late a wake must be to be
	// journaled. A stall of PeriodUS+ThresholdUS or more is always journaled; a shorter one may
	// fall between two wakes.
	PeriodUS    int64 `json:"period_us"`
	ThresholdUS int64 `json:"threshold_us"`
}

// Noise is one stall the probe saw: due at AtUS, it ran LateUS later. The mock could not run
// during [AtUS, AtUS+LateUS], and the stall may have begun up to one period earlier.
type Noise struct {
	Kind   string `json:"kind"`
	AtUS   int64  `json:"at_us"`
	LateUS int64  `json:"late_us"`
}

// AddNoise records a stall of the probe; past the caps it is only counted (DroppedNoise), and
// never counts as the client flooding the mock.
func (j *Journal) AddNoise(n Noise) {
	n.Kind = KindNoise
	line := j.encode(n)
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.admit(line, len(j.noise) < j.caps.MaxNoise) {
		j.end.DroppedNoise++
		return
	}
	j.noise = append(j.noise, n)
	j.write(line)
}

// NoiseSpan is the scheduling noise the mock's probe saw over an interval of the journal's
// clock.
type NoiseSpan struct {
	// Measured says the probe watched the whole interval: the start line names a probe and the
	// interval ends before the probe's record ends (the end line; or the last line kept, when
	// the journal was cut short or its noise lines were capped). When it is false nothing is
	// known of the noise, and the other fields are zero.
	Measured bool
	// Stalls counts the stalls that overlap the interval. StallUS is how much of the interval
	// they cover, each taken from one period before it was due to when it ran (an upper bound:
	// where the stall began within that period is not known). LongestUS is the longest stall
	// overlapping, in the same measure and whole.
	Stalls    int
	StallUS   int64
	LongestUS int64
	// FloorUS is the shortest stall the probe is sure to have seen (its period plus its
	// threshold): the interval may hold shorter stalls that were not journaled.
	FloorUS int64
}

// NoiseProbe is the probe the journal's start line names; ok is false when it names none.
func (l *Log) NoiseProbe() (p Probe, ok bool) {
	if l.Start.Noise == nil {
		return Probe{}, false
	}
	return *l.Start.Noise, true
}

// NoiseOver says how much scheduling noise the probe saw over [fromUS, toUS] (journal clock),
// for example over a wait of the client's: from the end of its failed attempt
// (Request.EndUS) to the arrival of the next (Request.ArrivalUS).
func (l *Log) NoiseOver(fromUS, toUS int64) NoiseSpan {
	p, ok := l.NoiseProbe()
	if !ok || fromUS > toUS || fromUS < 0 || toUS > l.noiseWatchedUntil() {
		return NoiseSpan{}
	}
	span := NoiseSpan{Measured: true, FloorUS: p.PeriodUS + p.ThresholdUS}
	for _, n := range l.Noise {
		from, to := n.AtUS-p.PeriodUS, n.AtUS+n.LateUS
		if to < fromUS || from > toUS {
			continue
		}
		span.Stalls++
		span.StallUS += min(to, toUS) - max(from, fromUS)
		span.LongestUS = max(span.LongestUS, to-from)
	}
	return span
}

// noiseWatchedUntil is the last time the probe's record is whole for: the end line's time,
// unless a cap cut the record short, in which case the last time any kept line speaks of.
func (l *Log) noiseWatchedUntil() int64 {
	if l.End != nil && !l.End.ByteCapped && l.End.DroppedNoise == 0 {
		return l.End.AtUS
	}
	var last int64
	for _, r := range l.Requests {
		last = max(last, r.EndUS)
	}
	for _, t := range l.Tickets {
		last = max(last, t.AtUS)
	}
	for _, e := range l.TLSErrors {
		last = max(last, e.AtUS)
	}
	for _, n := range l.Noise {
		last = max(last, n.AtUS+n.LateUS)
	}
	if l.End != nil && l.End.DroppedNoise > 0 && len(l.Noise) > 0 {
		// The count cap stopped the noise lines while other lines went on: the record of noise
		// ends with its last line.
		lastNoise := l.Noise[len(l.Noise)-1]
		last = min(last, lastNoise.AtUS+lastNoise.LateUS)
	}
	return last
}

// Delays is the candidate's side of a run's noise, on the journal's clock: how long the
// sandbox saw the candidate's main thread wait runnable (the machine ran something else) or its
// container held back by its CPU quota, in the intervals it sampled. The journal holds what
// stalled the mock (NoiseOver); a grader keeps this beside it, so that a wait can be weighed
// against both.
type Delays struct {
	// Known is false where the sandbox could not watch the candidate: nothing is known then.
	Known bool `json:"known"`
	// FromUS and ToUS bound the span watched.
	FromUS int64 `json:"from_us"`
	ToUS   int64 `json:"to_us"`
	// PeriodUS is how often the candidate was sampled.
	PeriodUS int64 `json:"period_us"`
	// Intervals are the sampling intervals in which the candidate was held back.
	Intervals []Delay `json:"intervals,omitempty"`
}

// Delay is one sampling interval [FromUS, ToUS] in which the candidate's main thread waited
// runnable for DelayUS, and its container's quota held it back for ThrottledUS.
type Delay struct {
	FromUS      int64 `json:"from_us"`
	ToUS        int64 `json:"to_us"`
	DelayUS     int64 `json:"delay_us"`
	ThrottledUS int64 `json:"throttled_us,omitempty"`
}

// Over is how long the candidate was held back within [fromUS, toUS]: each interval's delay
// and throttling counted in proportion to its overlap (where in its interval they fell is not
// known). It bounds from above what the machine added to a wait of the client's then: a delay
// while the client had nothing due stretched nothing. ok is false when the span watched does
// not cover [fromUS, toUS].
func (d Delays) Over(fromUS, toUS int64) (heldUS int64, ok bool) {
	if !d.Known || fromUS > toUS || fromUS < d.FromUS-d.PeriodUS || toUS > d.ToUS {
		return 0, false
	}
	var held float64
	for _, iv := range d.Intervals {
		lo, hi := max(iv.FromUS, fromUS), min(iv.ToUS, toUS)
		if span := iv.ToUS - iv.FromUS; hi > lo && span > 0 {
			held += float64(iv.DelayUS+iv.ThrottledUS) * float64(hi-lo) / float64(span)
		}
	}
	return int64(held + 0.5), true
}
