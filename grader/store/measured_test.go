package store

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMeasuredNumbersReadAsEncodingJSONReadsThem(t *testing.T) {
	t.Parallel()
	cases := []string{
		`{}`,
		`{"ratio":0.5}`,
		`{"attempts":3,"p95Ms":1250.25,"ratio":-1e-7,"zero":0}`,
		`{"big":1.7976931348623157e+308}`,
		`{"a,b":1,"c:d":2}`,
		`{"esc\"aped":1}`,
		`{"uni\u00e9":2}`,
		`{ "spaced" : 1 }`,
		`{"hex":0x10}`,
		`{"inf":Infinity}`,
		`{"plus":+1}`,
		`{"lead":01}`,
		`{"nan":NaN}`,
		`{"dup":1,"dup":2}`,
		`{"":1}`,
		`{"a":1,}`,
		`{"a":"1"}`,
		`[1]`,
		`{"a":1`,
		`{"a":1e}`, `{"a":1e+}`, `{"a":1.}`, `{"a":-}`, `{"a":.5}`, `{"a":1E5}`, `{"a":-0.0}`,
		`{"a":1e-5}`, `{"a":1.5e+300}`, `{"a":1e999}`, `{"a":e5}`, `{"a":}`, `{:1}`, `{"a"}`,
	}
	for _, in := range cases {
		t.Run(in, func(t *testing.T) { requireReadAsJSON(t, in) })
	}
}

func FuzzParseMeasured(f *testing.F) {
	for _, seed := range []string{`{}`, `{"ratio":0.5,"n":3}`, `{"a":1e-5}`, `{"a":1e}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) { requireReadAsJSON(t, in) })
}

func requireReadAsJSON(t *testing.T, in string) {
	var want map[string]float64
	wantErr := json.Unmarshal([]byte(in), &want)
	got, err := parseMeasured(in)
	if wantErr != nil {
		require.Error(t, err)
		return
	}
	require.NoError(t, err)
	if len(want) == 0 {
		require.Empty(t, got)
		return
	}
	require.Equal(t, want, got)
}
