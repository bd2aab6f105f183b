package plan

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRejectsMistakes(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, yaml, err string }{
		{"no name", "rules: []", "no name"},
		{"unknown field", "name: x\nrulez: []", "rulez"},
		{"unknown fault", "name: x\nrules:\n  - fault: {kind: explode}", "unknown fault kind"},
		{"fault without kind", "name: x\nrules:\n  - fault: {}", "no kind"},
		{"status out of range", "name: x\nrules:\n  - fault: {kind: status, status: 200}", "400..599"},
		{"two Retry-After forms", "name: x\nrules:\n  - fault: {kind: status, status: 429, retry_after_seconds: 1, retry_after_date: 3s}", "not both"},
		{"HTTP date too close", "name: x\nrules:\n  - fault: {kind: status, status: 429, retry_after_date: 1s}", "one-second resolution"},
		{"commit fault on the source", "name: x\nrules:\n  - endpoint: source.list\n    fault: {kind: commit_hang}", "needs endpoint target.create"},
		{"tickets on the source", "name: x\nrules:\n  - endpoint: source.list\n    tickets: [INC0010001]\n    fault: {kind: reset}", "tickets only"},
		{"offsets on the target", "name: x\nrules:\n  - endpoint: target.create\n    offsets: [0]\n    fault: {kind: reset}", "offsets only"},
		{"bad endpoint", "name: x\nrules:\n  - endpoint: target\n    fault: {kind: reset}", "endpoint"},
		{"bad attempts", "name: x\nrules:\n  - attempts: [0]\n    fault: {kind: reset}", "attempt number"},
		{"backwards range", "name: x\nrules:\n  - attempts: \"3-1\"\n    fault: {kind: reset}", "backwards"},
		{"probability above 1", "name: x\nrules:\n  - probability: 1.5\n    fault: {kind: reset}", "outside"},
		{"slow without delay", "name: x\nrules:\n  - fault: {kind: slow}", "slow delay"},
		{"slow longer than the hang cap", "name: x\nhang_cap: 1s\nrules:\n  - fault: {kind: slow, delay: 2s}", "slow delay"},
		{"delay on a reset", "name: x\nrules:\n  - fault: {kind: reset, delay: 1s}", "delay belongs"},
		{"bad duration", "name: x\nhang_cap: soon", "time"},
		{"bad target listener", "name: x\ntarget_listener: ftp", "target_listener"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.yaml))
			require.ErrorContains(t, err, tc.err)
		})
	}
}

func TestDecideAddressesEndpointTicketOffsetAndAttempt(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`
name: addressed
rules:
  - endpoint: target.create
    tickets: [INC0010002]
    attempts: ["2+"]
    fault: {kind: status, status: 400}
  - endpoint: target.create
    attempts: [1, "3-4"]
    fault: {kind: status, status: 503}
  - endpoint: source.list
    offsets: [10]
    fault: {kind: reset}
`))
	require.NoError(t, err)
	cases := []struct {
		req  Request
		want string
	}{
		{Request{Endpoint: EndpointTarget, Ticket: "INC0010001", Attempt: 1}, "status_503"},
		{Request{Endpoint: EndpointTarget, Ticket: "INC0010001", Attempt: 2}, ""},
		{Request{Endpoint: EndpointTarget, Ticket: "INC0010001", Attempt: 4}, "status_503"},
		{Request{Endpoint: EndpointTarget, Ticket: "INC0010001", Attempt: 5}, ""},
		{Request{Endpoint: EndpointTarget, Ticket: "INC0010002", Attempt: 1}, "status_503"},
		{Request{Endpoint: EndpointTarget, Ticket: "INC0010002", Attempt: 9}, "status_400"},
		{Request{Endpoint: EndpointSource, Offset: 10, Attempt: 3}, "reset"},
		{Request{Endpoint: EndpointSource, Offset: 0, Attempt: 1}, ""},
		{Request{Endpoint: "other", Attempt: 1}, ""},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, p.Decide(1, tc.req).Name(), "%+v", tc.req)
	}
}

// TestProbabilisticRulesDependOnSeedAndAddressOnly: the same seed gives the same faults in any
// order of arrival; another seed gives another draw; the rate is near the probability.
func TestProbabilisticRulesDependOnSeedAndAddressOnly(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte("name: p\nrules:\n  - endpoint: target.create\n    probability: 0.3\n    fault: {kind: status, status: 503}\n"))
	require.NoError(t, err)
	draw := func(seed int64, order []int) map[int]bool {
		out := map[int]bool{}
		for _, i := range order {
			req := Request{Endpoint: EndpointTarget, Ticket: "INC" + string(rune('A'+i%26)), Attempt: 1 + i/26}
			out[i] = p.Decide(seed, req) != nil
		}
		return out
	}
	forward, backward := make([]int, 2000), make([]int, 2000)
	for i := range forward {
		forward[i], backward[len(backward)-1-i] = i, i
	}
	a, b, c := draw(1, forward), draw(1, backward), draw(2, forward)
	require.Equal(t, a, b)
	require.NotEqual(t, a, c)
	hits := 0
	for _, v := range a {
		if v {
			hits++
		}
	}
	require.InDelta(t, 600, hits, 90, "about 30%% of 2000")
}

func TestFaultNamesAndDefaults(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`
name: n
rules:
  - fault: {kind: status, status: 429, retry_after_seconds: 2}
  - fault: {kind: status, status: 503, retry_after_date: 3s}
  - fault: {kind: dribble}
`))
	require.NoError(t, err)
	require.Equal(t, "status_429_retry_after_seconds", p.Rules[0].Fault.Name())
	require.Equal(t, "status_503_retry_after_date", p.Rules[1].Fault.Name())
	require.Equal(t, DefaultDribble, p.Rules[2].Fault.DribbleDuration())
	require.Equal(t, DefaultHangCap, p.HangLimit())
	require.Equal(t, "", (*Fault)(nil).Name())
	require.Equal(t, 15*time.Second, DefaultHangCap)
}
