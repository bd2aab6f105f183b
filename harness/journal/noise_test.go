package journal

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// probed is a journal whose probe is due every 5 ms and journals wakes 5 ms late or more, with
// the given stalls, finished at endUS.
func probed(t *testing.T, caps Caps, stalls ...Noise) *Log {
	t.Helper()
	var sink bytes.Buffer
	j := NewCapped(NewClock(), Start{Scenario: "backoff", Noise: &Probe{PeriodUS: 5000, ThresholdUS: 5000}}, &sink, caps)
	for _, n := range stalls {
		j.AddNoise(n)
	}
	require.NoError(t, j.Finish())
	l, err := Read(&sink, 0)
	require.NoError(t, err)
	return l
}

func TestNoiseLinesRoundTrip(t *testing.T) {
	t.Parallel()
	l := probed(t, Caps{}, Noise{AtUS: 300_000, LateUS: 40_000}, Noise{AtUS: 100_000, LateUS: 8_000})
	p, ok := l.NoiseProbe()
	require.True(t, ok)
	require.Equal(t, Probe{PeriodUS: 5000, ThresholdUS: 5000}, p)
	require.Equal(t, []Noise{{Kind: KindNoise, AtUS: 100_000, LateUS: 8_000}, {Kind: KindNoise, AtUS: 300_000, LateUS: 40_000}}, l.Noise, "in the order they were due")
	require.False(t, l.End.Flooded())

	var again bytes.Buffer
	_, err := l.WriteTo(&again)
	require.NoError(t, err)
	back, err := Read(&again, 0)
	require.NoError(t, err)
	require.Equal(t, l.Noise, back.Noise, "a log written back keeps its noise")
	require.Equal(t, l.Start.Noise, back.Start.Noise)
}

// TestAJournalWithoutAProbeSaysNothingOfNoise: journals written before the probe existed parse
// as before, and NoiseOver does not take their silence for a quiet machine.
func TestAJournalWithoutAProbeSaysNothingOfNoise(t *testing.T) {
	t.Parallel()
	old := `{"kind":"start","wall":"2026-01-01T00:00:00Z","scenario":"s","seed":1,"listeners":{}}` + "\n" +
		`{"kind":"end","at_us":5000000,"requests":0,"dropped":0}` + "\n"
	l, err := Read(strings.NewReader(old), 0)
	require.NoError(t, err)
	_, ok := l.NoiseProbe()
	require.False(t, ok)
	require.Empty(t, l.Noise)
	require.Equal(t, NoiseSpan{}, l.NoiseOver(0, 1_000_000))
}

func TestNoiseLinesAreReadStrictly(t *testing.T) {
	t.Parallel()
	start := `{"kind":"start","wall":"2026-01-01T00:00:00Z","scenario":"s","seed":1,"listeners":{},"noise":{"period_us":5000,"threshold_us":5000}}` + "\n"
	_, err := Read(strings.NewReader(start+`{"kind":"noise","at_us":1,"late_us":9000,"cpu":3}`+"\n"), 0)
	require.ErrorContains(t, err, "cpu")
	_, err = Read(strings.NewReader(`{"kind":"start","wall":"2026-01-01T00:00:00Z","scenario":"s","seed":1,"listeners":{},"noise":{"period_us":5000,"hz":1}}`+"\n"), 0)
	require.ErrorContains(t, err, "hz")
}

func TestNoiseOver(t *testing.T) {
	t.Parallel()
	// The journal ends at whatever time Finish ran (a few µs after the clock started), so the
	// cases' end is set by hand after reading.
	cases := []struct {
		name     string
		stalls   []Noise
		from, to int64
		want     NoiseSpan
	}{
		{"a quiet interval", nil, 100_000, 400_000,
			NoiseSpan{Measured: true, FloorUS: 10_000}},
		{"a stall inside the interval counts from one period before it was due", []Noise{{AtUS: 200_000, LateUS: 300_000}}, 100_000, 600_000,
			NoiseSpan{Measured: true, Stalls: 1, StallUS: 305_000, LongestUS: 305_000, FloorUS: 10_000}},
		{"a stall that began before the interval counts from its start", []Noise{{AtUS: 50_000, LateUS: 100_000}}, 100_000, 600_000,
			NoiseSpan{Measured: true, Stalls: 1, StallUS: 50_000, LongestUS: 105_000, FloorUS: 10_000}},
		{"a stall that ends after the interval counts to its end", []Noise{{AtUS: 550_000, LateUS: 100_000}}, 100_000, 600_000,
			NoiseSpan{Measured: true, Stalls: 1, StallUS: 55_000, LongestUS: 105_000, FloorUS: 10_000}},
		{"stalls outside the interval do not count", []Noise{{AtUS: 10_000, LateUS: 20_000}, {AtUS: 700_000, LateUS: 50_000}}, 100_000, 600_000,
			NoiseSpan{Measured: true, FloorUS: 10_000}},
		{"several stalls add up and the longest is named", []Noise{{AtUS: 200_000, LateUS: 6_000}, {AtUS: 300_000, LateUS: 45_000}, {AtUS: 400_000, LateUS: 5_000}}, 100_000, 600_000,
			NoiseSpan{Measured: true, Stalls: 3, StallUS: 11_000 + 50_000 + 10_000, LongestUS: 50_000, FloorUS: 10_000}},
		{"an interval past the journal's end is not known", nil, 100_000, 2_000_000, NoiseSpan{}},
		{"an interval that runs backwards is not known", nil, 600_000, 100_000, NoiseSpan{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := probed(t, Caps{}, tc.stalls...)
			l.End.AtUS = 1_000_000
			require.Equal(t, tc.want, l.NoiseOver(tc.from, tc.to))
		})
	}
}

// TestNoisePastItsCapIsCountedAndEndsWhatIsKnown: past the noise lines' cap the stalls are only
// counted, that is no flood of the client's, and nothing is claimed of the time after the last
// noise line kept.
func TestNoisePastItsCapIsCountedAndEndsWhatIsKnown(t *testing.T) {
	t.Parallel()
	l := probed(t, Caps{MaxNoise: 2},
		Noise{AtUS: 100_000, LateUS: 10_000}, Noise{AtUS: 200_000, LateUS: 10_000}, Noise{AtUS: 300_000, LateUS: 10_000})
	require.Len(t, l.Noise, 2)
	require.Equal(t, 1, l.End.DroppedNoise)
	require.False(t, l.End.Flooded(), "the machine's noise is not the client's flood")
	l.End.AtUS = 1_000_000
	require.True(t, l.NoiseOver(150_000, 210_000).Measured, "up to the last noise line kept, the record is whole")
	require.False(t, l.NoiseOver(150_000, 400_000).Measured, "after it, stalls were dropped")
}

// TestAJournalCutShortIsKnownUpToItsLastLine: without an end line (the stream was cut) the
// probe's record goes as far as the last line that arrived.
func TestAJournalCutShortIsKnownUpToItsLastLine(t *testing.T) {
	t.Parallel()
	in := `{"kind":"start","wall":"2026-01-01T00:00:00Z","scenario":"s","seed":1,"listeners":{},"noise":{"period_us":5000,"threshold_us":5000}}` + "\n" +
		`{"kind":"request","seq":1,"conn":1,"listener":"https","arrival_us":100000,"end_us":900000,"method":"POST","path":"/v1/tickets","header_names":[],"endpoint":"target.create","auth":{"token":"target"},"body_bytes":0,"attempt":1,"outcome":"response","ended_by":"server"}` + "\n" +
		`{"kind":"noise","at_us":200000,"late_us":50000}` + "\n"
	l, err := Read(strings.NewReader(in), 0)
	require.NoError(t, err)
	require.Nil(t, l.End)
	require.Equal(t, NoiseSpan{Measured: true, Stalls: 1, StallUS: 55_000, LongestUS: 55_000, FloorUS: 10_000}, l.NoiseOver(100_000, 900_000))
	require.False(t, l.NoiseOver(100_000, 900_001).Measured)
}

func TestDelaysOver(t *testing.T) {
	t.Parallel()
	d := Delays{Known: true, FromUS: 0, ToUS: 1_000_000, PeriodUS: 10_000, Intervals: []Delay{
		{FromUS: 100_000, ToUS: 110_000, DelayUS: 8_000},
		{FromUS: 500_000, ToUS: 520_000, DelayUS: 15_000, ThrottledUS: 5_000},
	}}
	cases := []struct {
		name     string
		from, to int64
		want     int64
		ok       bool
	}{
		{"a span holding both intervals, throttling included", 0, 1_000_000, 28_000, true},
		{"half of the second interval", 510_000, 900_000, 10_000, true},
		{"a span between them", 200_000, 400_000, 0, true},
		{"from up to a period before the first sample", -10_000, 50_000, 0, true},
		{"past the span watched", 900_000, 1_100_000, 0, false},
		{"well before it", -100_000, 50_000, 0, false},
		{"backwards", 600_000, 500_000, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := d.Over(tc.from, tc.to)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
	_, ok := Delays{}.Over(0, 10)
	require.False(t, ok, "a run the sandbox could not watch says nothing")
}
