package secrets

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Tokens shaped like NewToken's (a prefix and 32 base64url characters), written out so the
// cases read: "tgt_AbCd" is the target's prefix and its first 4 random characters.
const (
	sourceToken = "src_Qm7vT2xKpL9wRb4nZc8yHd3fJs6gVa1e"
	targetToken = "tgt_AbCdX9kLm2QwErTy7uIoP4sDfGh5JkZx"
)

func TestFragments(t *testing.T) {
	t.Parallel()
	tok := New(sourceToken, targetToken)
	type frag = Fragment
	cases := []struct {
		name, text string
		want       []Fragment
		find       bool   // Find reports a leak too (a whole form, or PartialWindow characters or more)
		redacted   string // Redact's result, when the case pins it
	}{
		{name: "the prefix alone is no fragment", text: "using token tgt_… (masked)"},
		{name: "the prefix and 2 random characters are none", text: "using token tgt_Ab…"},
		{name: "the prefix and 3 random characters are none", text: "using token tgt_AbC…"},
		{name: "the prefix and 4 random characters are one", text: "using token tgt_AbCd…",
			want: []frag{{Token: "target", Length: 8, Random: 4}}, redacted: "using token [REDACTED-target-token-fragment len=8 random=4]…"},
		{name: "7 random characters are none", text: "key …X9kLm2Q…"},
		{name: "8 random characters are one", text: "key …X9kLm2Qw…",
			want: []frag{{Token: "target", Length: 8, Random: 8}}, redacted: "key …[REDACTED-target-token-fragment len=8 random=8]…"},
		{name: "the last 4 characters are none", text: "token ending in …JkZx"},
		{name: "11 characters are a fragment only", text: "tgt_AbCdX9k",
			want: []frag{{Token: "target", Length: 11, Random: 7}}},
		{name: "12 characters are a partial leak", text: "tgt_AbCdX9kL",
			want: []frag{{Token: "target", Length: 12, Random: 8}}, find: true, redacted: "[REDACTED-target-token-fragment len=12 random=8]"},
		{name: "the whole token", text: "Bearer " + targetToken,
			want: []frag{{Token: "target", Length: 36, Random: 32, Whole: true}}, find: true, redacted: "Bearer [REDACTED-target-token]"},
		{name: "the longest of overlapping fragments counts", text: "a=tgt_AbCdX9 b=CdX9kLm2Qw",
			want:     []frag{{Token: "target", Length: 10, Random: 10}},
			redacted: "a=[REDACTED-target-token-fragment len=10 random=6] b=[REDACTED-target-token-fragment len=10 random=10]"},
		{name: "a repeated fragment is redacted every time", text: "tgt_AbCd tgt_AbCd tgt_AbCd",
			want:     []frag{{Token: "target", Length: 8, Random: 4}},
			redacted: strings.Repeat("[REDACTED-target-token-fragment len=8 random=4] ", 2) + "[REDACTED-target-token-fragment len=8 random=4]"},
		{name: "a fragment of each token", text: "src=src_Qm7v tgt=tgt_AbCdX",
			want:     []frag{{Token: "source", Length: 8, Random: 4}, {Token: "target", Length: 9, Random: 5}},
			redacted: "src=[REDACTED-source-token-fragment len=8 random=4] tgt=[REDACTED-target-token-fragment len=9 random=5]"},
		{name: "fragments of both tokens side by side", text: "src_Qm7vtgt_AbCd",
			want:     []frag{{Token: "source", Length: 8, Random: 4}, {Token: "target", Length: 8, Random: 4}},
			redacted: "[REDACTED-source-token-fragment len=8 random=4][REDACTED-target-token-fragment len=8 random=4]"},
		{name: "a fragment beside a whole token", text: targetToken + " and tgt_AbCd",
			want: []frag{{Token: "target", Length: 36, Random: 32, Whole: true}}, find: true,
			redacted: "[REDACTED-target-token] and [REDACTED-target-token-fragment len=8 random=4]"},
		{name: "ordinary log lines are clean", text: `{"level":"error","externalId":"INC0010001","attempt":3,"status":503,"msg":"retrying in 412 ms"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tok.Fragments(tc.text))
			require.Equal(t, tc.find, len(tok.Find(tc.text, "stderr")) > 0, "Find")
			red := tok.Redact(tc.text)
			if tc.redacted != "" {
				require.Equal(t, tc.redacted, red)
			}
			if tc.want == nil {
				require.Equal(t, tc.text, red, "nothing to redact")
			}
			require.Empty(t, tok.Fragments(red), "no fragment survives redaction: %q", red)
			require.Empty(t, tok.Find(red, "stderr"), "no form survives redaction: %q", red)
		})
	}
}

// TestRedactLeavesNoFragment: whatever piece of either token, in whatever company, nothing of
// FragmentMinRandom random characters survives Redact, and what is not a token stays.
func TestRedactLeavesNoFragment(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		tok := New("", "")
		var b strings.Builder
		for range 1 + rng.IntN(6) {
			token := tok.Source
			if rng.IntN(2) == 0 {
				token = tok.Target
			}
			from := rng.IntN(len(token))
			to := from + rng.IntN(len(token)-from+1)
			b.WriteString(randomText(rng, rng.IntN(6)))
			b.WriteString(token[from:to])
		}
		text := b.String()
		red := tok.Redact(text)
		require.Empty(t, tok.Fragments(red), "%q → %q", text, red)
		require.Empty(t, tok.Find(red, "x"), "%q → %q", text, red)
		if len(tok.Fragments(text)) == 0 && len(tok.Find(text, "x")) == 0 {
			require.Equal(t, text, red)
		}
	}
}

func TestPrefixLength(t *testing.T) {
	t.Parallel()
	for token, want := range map[string]int{
		"tgt_AbCd": 4, "src_x": 4, "abcdefgh_x": 9, "abcdefghi_x": 0, "AbCd_x": 0, "_abc": 0, "abc": 0, "": 0,
	} {
		require.Equal(t, want, prefixLength(token), token)
	}
}

const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func randomText(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = base64URL[rng.IntN(len(base64URL))]
	}
	return string(b)
}

// TestFragmentFalsePositives measures how often text that holds no token still shows a
// fragment, in the two kinds of output the minimums must survive (fragment.go gives the
// arithmetic): output that is itself random base64url, where only chance makes a fragment;
// and the worst an honest client could print, nothing but "tgt_" and four random characters,
// where each place is a 2^-24 chance. With SECRETS_MEASURE=MiB it measures that many MiB of
// each and logs the rates (go test -run FragmentFalsePositives -v); by default 16 MiB of
// random text, where fragments of 4 characters (a control: 2^-24 a place, about 4 a MiB) show
// in most MiB and fragments as defined in none.
func TestFragmentFalsePositives(t *testing.T) {
	t.Parallel()
	mib := 16
	measure := os.Getenv("SECRETS_MEASURE")
	if measure != "" {
		var err error
		mib, err = strconv.Atoi(measure)
		require.NoError(t, err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	rate := func(r rule, chunk func() string) (hit, total int) {
		for range mib {
			source, target := "src_"+randomText(rng, 32), "tgt_"+randomText(rng, 32)
			text := chunk()
			if len(matches(text, source, r))+len(matches(text, target, r)) > 0 {
				hit++
			}
		}
		return hit, mib
	}
	random := func() string { return randomText(rng, 1<<20) }
	hit, total := rate(fragmentRule, random)
	t.Logf("random base64url output: %d of %d MiB show a fragment", hit, total)
	require.Zero(t, hit, "random output holds no fragment")
	control, total := rate(rule{minLength: 4, minRandom: 1}, random)
	t.Logf("random base64url output: %d of %d MiB show a 4-character piece of a token", control, total)
	require.Greater(t, control, total/2, "the measurement sees pieces too short to be fragments")
	if measure == "" {
		return
	}
	saturated := func(n int) func() string {
		return func() string {
			var b strings.Builder
			for b.Len()+4+n <= 1<<20 {
				b.WriteString("tgt_")
				b.WriteString(randomText(rng, n))
			}
			return b.String()
		}
	}
	for _, c := range []struct {
		name string
		r    rule
		n    int
	}{
		{"8 characters (tgt_ + 4)", fragmentRule, 4},
		{"7 characters (tgt_ + 3)", rule{minLength: 7, minRandom: 3}, 3},
	} {
		hit, total := rate(c.r, saturated(c.n))
		t.Logf("output of nothing but tgt_ and %d random characters, fragments of %s: %d of %d MiB (%.2f %%)", c.n, c.name, hit, total, 100*float64(hit)/float64(total))
	}
}
