// Package noise holds the experiments behind the grader's timing noise (issue 10): where the
// stretch of a backoff wait comes from, and what keeps it out of the measured windows. They are
// measurements, not checks of the code, and run only when asked:
//
//	GRADER_NOISE_EXPERIMENT=1 go test ./sandbox/noise -run Stretch -v -timeout 60m
//
// Each backoff run is read three ways: the mock's journal (every wait, and the mock's own
// scheduling probe), the sandbox's watch of the candidate's main thread (its run delay and its
// container's throttling), and, for the probe client (testdata/probe.mjs: fixed waits of 100,
// 200, 400 and 800 ms), the client's own clock, which splits each wait into receiving the
// failure, the timer, the wait for a request slot and sending the next attempt.
//
// GRADER_NOISE_CONDITIONS lists the conditions, which take turns one trial each so that they
// share whatever else the machine was doing: alone, churn (two other runs starting and
// stopping back to back beside it), hog (a `yes` process), parallel (three backoff runs at
// once), suite and suite2 (a whole grading's suite, 3 or 2 runs at a time, its backoff runs
// measured), combined with +hog, +gate (the sandbox's start gate), +quiet (suite: 3 s quiet
// windows for the timing-sensitive runs), +nw (the runs at the host's CPU weight instead of the
// sandbox's; put back after each trial) and +warm (the plan <scenario>-warm, which the grader
// binary under test must hold). GRADER_NOISE_CLIENTS (probe, or a calibration submission such
// as monolith), GRADER_NOISE_TRIALS (rounds, default 6), GRADER_NOISE_SCENARIO (default
// backoff), GRADER_NOISE_OUT (a directory for the raw records, one JSON file per condition and
// client) and GRADER_BINARY (the static grader for the mock image) tune them.
package noise

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/grader/prepare"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/secrets"
	"github.com/itsm-grader/grader/harness/tlsca"
	"github.com/itsm-grader/grader/sandbox"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

//go:embed testdata/probe.mjs
var probeJS []byte

// probeAsks are the probe client's fixed waits after its 1st to 4th failed attempt.
var probeAsks = []float64{100, 200, 400, 800}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func TestStretch(t *testing.T) {
	if os.Getenv("GRADER_NOISE_EXPERIMENT") != "1" {
		t.Skip("an experiment: set GRADER_NOISE_EXPERIMENT=1")
	}
	trials, err := strconv.Atoi(envOr("GRADER_NOISE_TRIALS", "6"))
	require.NoError(t, err)
	scenario := envOr("GRADER_NOISE_SCENARIO", "backoff")
	lab := newLab(t)
	conds := strings.Split(envOr("GRADER_NOISE_CONDITIONS", "alone,churn,hog,churn+hog"), ",")
	for _, client := range strings.Split(envOr("GRADER_NOISE_CLIENTS", "probe,monolith"), ",") {
		c := lab.client(t, client)
		// Conditions take turns, one trial each, so that they share whatever else the machine
		// was doing at the time.
		recs := map[string][]record{}
		for range trials {
			for _, cond := range conds {
				recs[cond] = append(recs[cond], lab.measure(t, cond, c, scenario, len(recs[cond])+1)...)
			}
		}
		for _, cond := range conds {
			lab.attribute(recs[cond])
			lab.save(t, cond, client, recs[cond])
			t.Logf("\n== %s, client %s, scenario %s, %d runs\n%s", cond, client, scenario, len(recs[cond]), summarise(recs[cond]))
		}
	}
}

// lab holds the sandboxes (with and without the start gate) and what every run did, so that
// a wait can be matched with other runs' container starts and stops.
type lab struct {
	plain, gated *sandbox.Sandbox
	out          string

	mu     sync.Mutex
	phases []phase
}

// phase is a span in which a run's containers were being made and started, or stopped and
// removed.
type phase struct {
	Kind     string // "start" or "stop"
	From, To time.Time
	RunID    string
}

func newLab(t *testing.T) *lab {
	testenv.Client(t)
	node, bin := testenv.Node24(t), testenv.GraderBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	plain, err := sandbox.New(ctx, sandbox.Options{NodeBinary: node, GraderBinary: bin, MaxRuns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { _ = plain.Close() })
	gated, err := sandbox.New(ctx, sandbox.Options{NodeBinary: node, GraderBinary: bin, MaxRuns: 4, StartGate: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = gated.Close() })
	return &lab{plain: plain, gated: gated, out: os.Getenv("GRADER_NOISE_OUT")}
}

// client is a bundle to run: its directory, entry file and kind.
type client struct {
	Name, Dir, Entry string
}

func (l *lab) client(t *testing.T, name string) client {
	switch name {
	case "probe":
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "main.mjs"), probeJS, 0o644))
		golden, err := exercise.Golden()
		require.NoError(t, err)
		b, err := json.Marshal(golden)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "tickets.json"), b, 0o644))
		return client{Name: name, Dir: dir, Entry: "main.mjs"}
	default:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		sub := filepath.Join(testenv.RepoRoot(t), "fixtures", "submissions", name)
		b, failure, err := prepare.Prepare(ctx, l.plain, sub, prepare.Options{Workdir: t.TempDir()})
		require.NoError(t, err)
		require.Nil(t, failure)
		return client{Name: name, Dir: b.Dir, Entry: prepare.Entry}
	}
}

// spec is one run of a client in a scenario, as grader/runner makes it (HTTPS, fresh tokens
// and CA).
func spec(t *testing.T, c client, scenario string, budget time.Duration) sandbox.Spec {
	tok := secrets.New("", "")
	trusted, err := tlsca.New("noise CA")
	require.NoError(t, err)
	untrusted, err := tlsca.New("noise untrusted CA")
	require.NoError(t, err)
	tb, err := trusted.Encode()
	require.NoError(t, err)
	ub, err := untrusted.Encode()
	require.NoError(t, err)
	return sandbox.Spec{
		MockArgs: []string{"--sandbox", "--scenario", scenario, "--tls-dir", sandbox.FilesDir,
			"--source-token", tok.Source, "--target-token", tok.Target,
			"--http-port", "8080", "--https-port", "8443", "--untrusted-port", "9443"},
		MockFiles:      map[string][]byte{"trusted.pem": tb, "untrusted.pem": ub},
		CandidateFiles: map[string][]byte{"ca.pem": trusted.CertPEM},
		Bundle:         c.Dir,
		Command:        []string{sandbox.BundleDir + "/" + c.Entry},
		Env: map[string]string{
			"ITSM_SOURCE_URL":     "https://source.itsm.test:8443",
			"ITSM_SOURCE_TOKEN":   tok.Source,
			"ITSM_TARGET_URL":     "https://target.itsm.test:8443",
			"ITSM_TARGET_TOKEN":   tok.Target,
			"NODE_EXTRA_CA_CERTS": sandbox.FilesDir + "/ca.pem",
		},
		Hosts:  []string{"source.itsm.test", "target.itsm.test"},
		Limits: sandbox.Limits{Wall: budget},
	}
}

// churnJS is a run that starts, reads one page and ends: other gradings' runs, as seen from
// the machine (containers made, started, stopped, removed).
const churnJS = `const r = await fetch(process.env.ITSM_SOURCE_URL + "/api/now/table/incident?sysparm_limit=1", {headers: {Authorization: "Bearer " + process.env.ITSM_SOURCE_TOKEN}}); await r.arrayBuffer();`

// run runs one spec and records its container phases.
func (l *lab) run(ctx context.Context, sb *sandbox.Sandbox, sp sandbox.Spec) (*sandbox.Result, error) {
	res, err := sb.Run(ctx, sp)
	if res != nil && !res.Timeline.CandidateStarted.IsZero() {
		tl := res.Timeline
		l.mu.Lock()
		l.phases = append(l.phases, phase{Kind: "start", From: tl.Gated, To: tl.CandidateStarted, RunID: res.RunID})
		if !tl.CandidateExited.IsZero() {
			l.phases = append(l.phases, phase{Kind: "stop", From: tl.CandidateExited, To: tl.Done, RunID: res.RunID})
		}
		l.mu.Unlock()
	}
	return res, err
}

// churn keeps n runs going back to back until ctx ends.
func (l *lab) churn(ctx context.Context, t *testing.T, sb *sandbox.Sandbox, n int) *sync.WaitGroup {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.mjs"), []byte(churnJS), 0o644))
	c := client{Name: "churn", Dir: dir, Entry: "main.mjs"}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := l.run(ctx, sb, spec(t, c, "happy", 30*time.Second)); err != nil && ctx.Err() == nil {
					t.Errorf("churn run: %v", err)
					return
				}
			}
		}()
	}
	return &wg
}

// measure runs one trial of c under cond (three at once for "parallel") and returns what each
// run showed, numbered from trial.
func (l *lab) measure(t *testing.T, cond string, c client, scenario string, trial int) []record {
	if strings.Contains(cond, "+warm") {
		scenario += "-warm" // an experimental plan with a warm-up, in the grader binary under test
	}
	sb := l.plain
	if strings.Contains(cond, "+gate") {
		sb = l.gated
	}
	ctx, cancel := context.WithCancel(context.Background())
	var churners *sync.WaitGroup
	if strings.Contains(cond, "churn") {
		churners = l.churn(ctx, t, sb, 2)
	}
	if strings.Contains(cond, "+nw") {
		// The runs weigh what a host process does, as before the sandbox weighted them
		// (sandbox/weight.go; the sandbox's weight is put back afterwards).
		defer weigh(t, 1024, "itsm-grader", "itsm-grader-mock")()
	}
	if strings.Contains(cond, "hog") {
		h, err := testenv.StartHog()
		require.NoError(t, err)
		defer func() {
			u, err := h.Stop()
			require.NoError(t, err)
			t.Logf("hog: %.0f %% of a core", 100*u.Share())
		}()
	}
	defer func() {
		cancel()
		if churners != nil {
			churners.Wait()
		}
	}()
	if strings.HasPrefix(cond, "suite") {
		return l.suite(t, sb, cond, c, scenario, trial)
	}
	parallel := 1
	if strings.Contains(cond, "parallel") {
		parallel = 3
	}
	var (
		mu   sync.Mutex
		recs []record
	)
	{
		var wg sync.WaitGroup
		for i := range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				before := readCPUStat(t)
				res, err := l.run(context.Background(), sb, spec(t, c, scenario, 75*time.Second))
				if err != nil {
					t.Errorf("%s run: %v", cond, err)
					return
				}
				r := read(t, c, res)
				r.HostBusy, r.HostSteal = readCPUStat(t).since(before)
				r.Condition, r.Client, r.Trial = cond, c.Name, trial+i
				mu.Lock()
				recs = append(recs, r)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	sort.Slice(recs, func(a, b int) bool { return recs[a].Trial < recs[b].Trial })
	return recs
}

// suite runs a whole grading's suite (grader/suite.Default) as grader/runner does, longest
// first, 3 runs at a time ("suite2": 2), with the scenario under study in place of backoff, and
// returns what its backoff runs showed. A run with Quiet set asks the gate to keep the first
// seconds of the timing-sensitive runs free of starts ("+quiet").
func (l *lab) suite(t *testing.T, sb *sandbox.Sandbox, cond string, c client, scenario string, trial int) []record {
	parallel := 3
	if strings.HasPrefix(cond, "suite2") {
		parallel = 2
	}
	var (
		mu   sync.Mutex
		recs []record
		wg   sync.WaitGroup
	)
	slots := make(chan struct{}, parallel)
	for _, sc := range suite.Default() {
		name := sc.Name
		if name == "backoff" {
			name = scenario
		}
		for range sc.Trials {
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				sp := spec(t, c, name, sc.Budget)
				if strings.Contains(cond, "+quiet") && sc.TimingSensitive {
					sp.Quiet = 3 * time.Second
				}
				before := readCPUStat(t)
				res, err := l.run(context.Background(), sb, sp)
				if err != nil {
					t.Errorf("%s run %s: %v", cond, name, err)
					return
				}
				if sc.Name != "backoff" {
					return
				}
				r := read(t, c, res)
				r.HostBusy, r.HostSteal = readCPUStat(t).since(before)
				mu.Lock()
				r.Condition, r.Client, r.Trial = cond, c.Name, trial+len(recs)
				recs = append(recs, r)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return recs
}

// record is what one backoff run showed.
type record struct {
	Condition, Client string
	Trial             int
	RunID             string
	Timeline          sandbox.Timeline
	JournalStart      time.Time
	Wall, CPU         time.Duration
	MockCPU           time.Duration
	MockThrottled     int64
	Sched             sandbox.Sched
	Stalls            []journal.Noise
	ClientLag         []lagEvent
	Waits             []wait
	NodeStartMS       float64 // from the candidate container's start to the client's first line
	// HostBusy and HostSteal are the machine's CPU (all cores) busy and stolen by the
	// hypervisor over the run, as shares of its time (/proc/stat): other engineers' work included.
	HostBusy, HostSteal float64
}

// cpuStat is the first line of /proc/stat: jiffies spent per state, all cores.
type cpuStat struct{ total, idle, steal float64 }

func readCPUStat(t *testing.T) cpuStat {
	b, err := os.ReadFile("/proc/stat")
	require.NoError(t, err)
	fields := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])[1:]
	var st cpuStat
	for i, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		require.NoError(t, err)
		st.total += v
		switch i {
		case 3, 4: // idle, iowait
			st.idle += v
		case 7:
			st.steal += v
		}
	}
	return st
}

// since is the busy and stolen shares of the time between before and s.
func (s cpuStat) since(before cpuStat) (busy, steal float64) {
	d := s.total - before.total
	if d <= 0 {
		return 0, 0
	}
	return 1 - (s.idle-before.idle)/d, (s.steal - before.steal) / d
}

// wait is one wait between two attempts at a ticket.
type wait struct {
	Ticket         string
	Retry          int
	From, To       time.Time // the failed attempt's end, the next attempt's arrival (mock)
	GapMS, AskMS   float64
	StretchMS      float64 // GapMS - AskMS
	MockStallMS    float64 // the mock's probe: stall time overlapping the wait
	MockMeasured   bool
	ClientLagMS    float64 // the client's event loop: lag overlapping the wait (probe client)
	CandDelayMS    float64 // the candidate's main thread: run delay overlapping the wait (-1: unknown)
	RecvMS         float64 // mock's end of the failed attempt to the client having its response
	TimerLateMS    float64 // the client's timer firing after its due time
	QueueMS        float64 // waiting for one of the client's 4 slots
	SendMS         float64 // from fetch() to the mock's arrival stamp (connect, TLS, headers)
	OtherStarts    int     // other runs' container starts overlapping the wait
	OtherStops     int     // other runs' container stops and removals overlapping the wait
	SinceNodeMS    float64 // from the candidate container's start to the wait's start
	FromCandidate0 float64
}

type lagEvent struct {
	At   float64 `json:"at"`
	Late float64 `json:"late"`
}

type probeEvent struct {
	Ev      string  `json:"ev"`
	ID      string  `json:"id"`
	Attempt int     `json:"attempt"`
	T       float64 `json:"t"`
	At      float64 `json:"at"`
	Late    float64 `json:"late"`
	Queued  float64 `json:"queued"`
	Send    float64 `json:"send"`
	Got     float64 `json:"got"`
	Status  int     `json:"status"`
	Asleep  float64 `json:"asleep"`
	Ask     float64 `json:"ask"`
	Woke    float64 `json:"woke"`
}

func epochMS(t time.Time) float64 { return float64(t.UnixMicro()) / 1000 }

func msOf(us int64) float64 { return float64(us) / 1000 }

// read turns a run's journal and output into a record.
func read(t *testing.T, c client, res *sandbox.Result) record {
	l, err := journal.Read(bytes.NewReader(res.Journal.Data), 0)
	require.NoError(t, err)
	r := record{RunID: res.RunID, Timeline: res.Timeline, JournalStart: l.Start.Wall, Wall: res.Wall, CPU: res.CPU,
		MockCPU: res.MockStats.CPU, MockThrottled: res.MockStats.ThrottledPeriods, Stalls: l.Noise, Sched: res.Sched}
	abs := func(us int64) time.Time { return l.Start.Wall.Add(time.Duration(us) * time.Microsecond) }
	asks, events := clientView(t, c, res)
	for _, e := range events {
		if e.Ev == "lag" {
			r.ClientLag = append(r.ClientLag, lagEvent{At: e.At, Late: e.Late})
		}
		if e.Ev == "start" {
			r.NodeStartMS = e.T - epochMS(res.Timeline.CandidateStarted)
		}
	}
	by := l.ByTicket()
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for k := range by {
			if !yield(k) {
				return
			}
		}
	}) {
		rs := by[id]
		for i := 1; i < len(rs) && i <= 4; i++ {
			prev, next := rs[i-1], rs[i]
			w := wait{Ticket: id, Retry: i, From: abs(prev.EndUS), To: abs(next.ArrivalUS), GapMS: msOf(next.ArrivalUS - prev.EndUS)}
			w.AskMS = asks[askKey{id, i}]
			w.StretchMS = w.GapMS - w.AskMS
			span := l.NoiseOver(prev.EndUS, next.ArrivalUS)
			w.MockMeasured, w.MockStallMS = span.Measured, msOf(span.StallUS)
			if d, ok := res.Sched.DelayOver(w.From, w.To); ok {
				w.CandDelayMS = float64(d.Microseconds()) / 1000
			} else {
				w.CandDelayMS = -1
			}
			w.SinceNodeMS = epochMS(w.From) - epochMS(res.Timeline.CandidateStarted)
			decompose(&w, events, r.ClientLag)
			r.Waits = append(r.Waits, w)
		}
	}
	return r
}

type askKey struct {
	id      string
	attempt int
}

// clientView reads what the client asked for: the monolith's request_failed lines (retryInMs),
// or the probe client's events.
func clientView(t *testing.T, c client, res *sandbox.Result) (map[askKey]float64, []probeEvent) {
	asks := map[askKey]float64{}
	if c.Name == "probe" {
		var events []probeEvent
		out := strings.TrimSpace(string(res.Stdout.Data))
		require.NoError(t, json.Unmarshal([]byte(out[strings.LastIndexByte(out, '\n')+1:]), &events), out)
		for _, e := range events {
			if e.Ev == "woke" {
				asks[askKey{e.ID, e.Attempt}] = e.Ask
			}
		}
		return asks, events
	}
	for _, line := range strings.Split(string(res.Stderr.Data), "\n") {
		var f struct {
			Event      string  `json:"event"`
			ExternalID string  `json:"externalId"`
			Attempt    int     `json:"attempt"`
			Retry      bool    `json:"retry"`
			RetryInMs  float64 `json:"retryInMs"`
		}
		if json.Unmarshal([]byte(line), &f) == nil && f.Event == "request_failed" && f.Retry && f.ExternalID != "" {
			asks[askKey{f.ExternalID, f.Attempt}] = f.RetryInMs
		}
	}
	return asks, nil
}

// decompose splits a probe client's wait into its parts, from the client's own clock.
func decompose(w *wait, events []probeEvent, lag []lagEvent) {
	var failed, slept, next *probeEvent
	for i := range events {
		e := &events[i]
		switch {
		case e.Ev == "attempt" && e.ID == w.Ticket && e.Attempt == w.Retry:
			failed = e
		case e.Ev == "woke" && e.ID == w.Ticket && e.Attempt == w.Retry:
			slept = e
		case e.Ev == "attempt" && e.ID == w.Ticket && e.Attempt == w.Retry+1:
			next = e
		}
	}
	if failed == nil || slept == nil || next == nil {
		return
	}
	w.RecvMS = failed.Got - epochMS(w.From)
	w.TimerLateMS = slept.Woke - slept.Asleep - slept.Ask
	w.QueueMS = next.Send - next.Queued
	w.SendMS = epochMS(w.To) - next.Send
	from, to := epochMS(w.From), epochMS(w.To)
	for _, g := range lag {
		lo, hi := max(g.At, from), min(g.At+g.Late, to)
		if hi > lo {
			w.ClientLagMS += hi - lo
		}
	}
}

// attribute counts, for every wait, the other runs' container starts and stops it overlapped.
func (l *lab) attribute(recs []record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ri := range recs {
		for wi := range recs[ri].Waits {
			w := &recs[ri].Waits[wi]
			for _, p := range l.phases {
				if p.RunID == recs[ri].RunID || p.To.Before(w.From) || p.From.After(w.To) {
					continue
				}
				if p.Kind == "start" {
					w.OtherStarts++
				} else {
					w.OtherStops++
				}
			}
		}
	}
}

func (l *lab) save(t *testing.T, cond, client string, recs []record) {
	if l.out == "" {
		return
	}
	require.NoError(t, os.MkdirAll(l.out, 0o755))
	b, err := json.MarshalIndent(recs, "", " ")
	require.NoError(t, err)
	name := strings.NewReplacer("+", "_").Replace(cond) + "-" + client + ".json"
	require.NoError(t, os.WriteFile(filepath.Join(l.out, name), b, 0o644))
}

// summarise prints, per retry index, how far waits stretched beyond what the client asked and
// what the stretched ones overlapped; then what the backoff check's envelope made of each
// grading's worth (3 runs) of waits.
func summarise(recs []record) string {
	var b strings.Builder
	byRetry := map[int][]wait{}
	for _, r := range recs {
		for _, w := range r.Waits {
			byRetry[w.Retry] = append(byRetry[w.Retry], w)
		}
	}
	fmt.Fprintf(&b, "retry   n  stretch p50  p90   max | >50ms  mock stall>=20ms  cand delay>=20ms  either  other start  other stop | recv timer queue send (mean of >50ms)\n")
	for i := 1; i <= 4; i++ {
		ws := byRetry[i]
		if len(ws) == 0 {
			continue
		}
		var st []float64
		var big []wait
		for _, w := range ws {
			st = append(st, w.StretchMS)
			if w.StretchMS > 50 {
				big = append(big, w)
			}
		}
		slices.Sort(st)
		stall, delay, either, start, stop := 0, 0, 0, 0, 0
		var recv, timer, queue, send float64
		for _, w := range big {
			if w.MockStallMS >= 20 {
				stall++
			}
			if w.CandDelayMS >= 20 {
				delay++
			}
			if w.MockStallMS >= 20 || w.CandDelayMS >= 20 {
				either++
			}
			if w.OtherStarts > 0 {
				start++
			}
			if w.OtherStops > 0 {
				stop++
			}
			recv, timer, queue, send = recv+w.RecvMS, timer+w.TimerLateMS, queue+w.QueueMS, send+w.SendMS
		}
		n := math.Max(1, float64(len(big)))
		fmt.Fprintf(&b, "%5d %3d %11.1f %4.0f %5.0f | %5d %17d %17d %7d %12d %11d | %4.0f %5.0f %5.0f %4.0f\n", i, len(ws),
			st[len(st)/2], st[len(st)*9/10], st[len(st)-1], len(big), stall, delay, either, start, stop, recv/n, timer/n, queue/n, send/n)
	}
	var stalls, stallMS float64
	var nodeStart []float64
	for _, r := range recs {
		for _, s := range r.Stalls {
			stalls++
			stallMS += msOf(s.LateUS)
		}
		if r.NodeStartMS > 0 {
			nodeStart = append(nodeStart, r.NodeStartMS)
		}
	}
	var busy []float64
	for _, r := range recs {
		busy = append(busy, r.HostBusy)
	}
	slices.Sort(busy)
	fmt.Fprintf(&b, "mock probe: %.0f stalls of 5 ms or more, %.0f ms in all, over %d runs; host CPU busy p50 %.0f %%, max %.0f %%\n",
		stalls, stallMS, len(recs), 100*busy[len(busy)/2], 100*busy[len(busy)-1])
	if len(nodeStart) > 0 {
		slices.Sort(nodeStart)
		fmt.Fprintf(&b, "node start to first line: p50 %.0f ms, max %.0f ms\n", nodeStart[len(nodeStart)/2], nodeStart[len(nodeStart)-1])
	}
	for g := 0; g+3 <= len(recs); g += 3 {
		fmt.Fprintf(&b, "grading %d: %s\n", g/3+1, growth(recs[g:g+3]))
	}
	return b.String()
}

// growth is backoff.growth's reading of three runs' waits (grader/checks/backoff.go): the mean
// of the 2nd to 5th longest wait per retry index, its growth per retry overall and late.
func growth(recs []record) string {
	byRetry := map[int][]float64{}
	for _, r := range recs {
		for _, w := range r.Waits {
			byRetry[w.Retry] = append(byRetry[w.Retry], w.GapMS)
		}
	}
	var env []float64
	for i := 1; i <= 4; i++ {
		d := byRetry[i]
		if len(d) < 8 {
			return "too few waits"
		}
		slices.Sort(d)
		n := len(d)
		env = append(env, (d[n-5]+d[n-4]+d[n-3]+d[n-2])/4)
	}
	g := math.Pow(env[3]/env[0], 1.0/3)
	late := math.Pow(env[3]/env[1], 0.5)
	verdict := "linear-like (warn)"
	switch {
	case g >= 1.5 && late >= 1.5:
		verdict = "exponential (pass)"
	case g < 1.15:
		verdict = "constant (fail)"
	}
	return fmt.Sprintf("envelopes %.0f / %.0f / %.0f / %.0f ms, growth %.2f, late %.2f: %s", env[0], env[1], env[2], env[3], g, late, verdict)
}

// weigh sets the CPU weight (cgroup v1 cpu.shares) of the candidates' and the mocks' parent
// cgroups, and returns what puts the old weights back.
func weigh(t *testing.T, shares int, groups ...string) (restore func()) {
	var undo []func()
	for _, g := range groups {
		file := filepath.Join("/sys/fs/cgroup/cpu", g, "cpu.shares")
		old, err := os.ReadFile(file)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(file, []byte(strconv.Itoa(shares)), 0o644))
		undo = append(undo, func() { require.NoError(t, os.WriteFile(file, old, 0o644)) })
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}
}
