package mock

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/plan"
)

// startProbed runs a mock with the given probe settings, its journal streamed into sink.
func startProbed(t testing.TB, probe NoiseProbe, sink io.Writer) *Server {
	t.Helper()
	p, err := plan.Parse([]byte(noFaults))
	require.NoError(t, err)
	rows, err := exercise.IncidentRows()
	require.NoError(t, err)
	srv, err := Start(context.Background(), Config{
		Plan: p, Rows: rows, OpenAPI: exercise.OpenAPI(), TicketSchema: exercise.TargetSchema(),
		Noise: probe, JournalSink: sink,
	})
	require.NoError(t, err)
	return srv
}

func TestTheStartLineNamesTheProbe(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		probe NoiseProbe
		want  *journal.Probe
	}{
		{"on by default", NoiseProbe{}, &journal.Probe{PeriodUS: 10000, ThresholdUS: 5000}},
		{"as configured", NoiseProbe{Period: 2 * time.Millisecond, Threshold: 20 * time.Millisecond}, &journal.Probe{PeriodUS: 2000, ThresholdUS: 20000}},
		{"off", NoiseProbe{Off: true}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var sink bytes.Buffer
			srv := startProbed(t, tc.probe, &sink)
			require.NoError(t, srv.Close())
			l, err := journal.Read(&sink, 0)
			require.NoError(t, err)
			require.Equal(t, tc.want, l.Start.Noise)
			if tc.want == nil {
				require.Empty(t, l.Noise, "a probe that is off journals nothing")
				require.False(t, l.NoiseOver(0, l.End.AtUS).Measured)
			} else {
				require.True(t, l.NoiseOver(0, l.End.AtUS).Measured)
			}
		})
	}
}

// helperEnv makes the test binary run TestNoiseHelperProcess as a mock whose journal streams
// to stdout until stdin closes.
const helperEnv = "ITSM_MOCK_NOISE_HELPER"

func TestNoiseHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("the mock run by TestAStalledMockJournalsTheStall in a process of its own")
	}
	out := &lockedWriter{w: os.Stdout}
	srv := startProbed(t, NoiseProbe{}, out)
	_, _ = io.Copy(io.Discard, os.Stdin)
	require.NoError(t, srv.Close())
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestAStalledMockJournalsTheStall stops a real mock process (SIGSTOP) for 300 ms, as a busy
// machine would deschedule it: the probe journals a stall as long as the stop, over the stop, and
// NoiseOver finds it over an interval that spans it.
func TestAStalledMockJournalsTheStall(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoiseHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	var journalText bytes.Buffer
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if bytes.HasPrefix(sc.Bytes(), []byte("{")) { // the test binary prints PASS after the journal
				lines <- sc.Text()
			}
		}
	}()
	next := func(what string) string {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "the mock's journal ended before %s", what)
			journalText.WriteString(line + "\n")
			return line
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s within 10 s", what)
			return ""
		}
	}
	var start journal.Start
	require.NoError(t, json.Unmarshal([]byte(next("start line")), &start))
	require.NotNil(t, start.Noise)

	const stopFor = 300 * time.Millisecond
	stopped := time.Now()
	require.NoError(t, syscall.Kill(cmd.Process.Pid, syscall.SIGSTOP))
	time.Sleep(stopFor) // the stimulus: the process is stopped this long
	require.NoError(t, syscall.Kill(cmd.Process.Pid, syscall.SIGCONT))
	resumed := time.Now()
	for {
		var head struct{ Kind string }
		line := next("noise line")
		require.NoError(t, json.Unmarshal([]byte(line), &head))
		if head.Kind == journal.KindNoise {
			break
		}
	}
	require.NoError(t, stdin.Close())
	for line := range lines {
		journalText.WriteString(line + "\n")
	}
	require.NoError(t, cmd.Wait())

	l, err := journal.Read(&journalText, 0)
	require.NoError(t, err)
	require.NotNil(t, l.End)
	onClock := func(at time.Time) int64 { return at.Sub(l.Start.Wall).Microseconds() }
	from, to := onClock(stopped), onClock(resumed)
	var stall *journal.Noise
	for i, n := range l.Noise {
		if n.AtUS <= to && n.AtUS+n.LateUS >= from && (stall == nil || n.LateUS > stall.LateUS) {
			stall = &l.Noise[i]
		}
	}
	require.NotNil(t, stall, "no stall over the stop (all stalls: %v)", l.Noise)
	require.GreaterOrEqual(t, stall.LateUS, (stopFor - 2*DefaultNoisePeriod).Microseconds(), "the stall is as long as the stop")
	span := l.NoiseOver(max(0, from-50_000), min(to, l.End.AtUS))
	require.True(t, span.Measured)
	require.GreaterOrEqual(t, span.StallUS, (stopFor - 2*DefaultNoisePeriod).Microseconds())
	require.GreaterOrEqual(t, span.LongestUS, stall.LateUS+l.Start.Noise.PeriodUS)
}

// BenchmarkNoiseProbe measures what the probe costs an idle mock (the process's CPU time per
// second of wall time, with the probe off and on) and how late its wakes are on this machine
// (every wake recorded: median, 99th and 99.9th percentile, maximum). The README quotes them.
func BenchmarkNoiseProbe(b *testing.B) {
	for _, probe := range []NoiseProbe{{Off: true}, {}} {
		name := map[bool]string{true: "off", false: "on"}[probe.Off]
		b.Run(name, func(b *testing.B) {
			srv := startProbed(b, probe, io.Discard)
			defer srv.Close()
			cpu0, wall0 := processCPU(b), time.Now()
			for range b.N {
				time.Sleep(time.Second) // what is measured: an idle second
			}
			cpu, wall := processCPU(b)-cpu0, time.Since(wall0)
			b.ReportMetric(float64(cpu.Microseconds())/wall.Seconds(), "cpu-µs/s")
		})
	}
	b.Run("lateness", func(b *testing.B) {
		var mu sync.Mutex
		var late []float64
		probe := armNoiseProbe(NoiseProbe{Period: DefaultNoisePeriod, Threshold: time.Nanosecond}, journal.NewClock())
		probe.start(func(n journal.Noise) {
			mu.Lock()
			late = append(late, float64(n.LateUS)/1000)
			mu.Unlock()
		})
		for range b.N {
			time.Sleep(time.Second)
		}
		probe.stop()
		slices.Sort(late)
		if len(late) == 0 {
			b.Fatal("no wakes recorded")
		}
		b.ReportMetric(late[len(late)/2], "ms-late-p50")
		b.ReportMetric(late[len(late)*99/100], "ms-late-p99")
		b.ReportMetric(late[len(late)*999/1000], "ms-late-p99.9")
		b.ReportMetric(late[len(late)-1], "ms-late-max")
		b.ReportMetric(float64(len(late)), "wakes")
	})
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
