package similarity

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// vocabulary is a spread of token kinds like a TypeScript client's: names and literals most,
// then punctuation and keywords.
var vocabulary = []string{"ID", "ID", "ID", "ID", "ID", "ID", "LIT", "LIT", "LIT", ".", ".", "(", ")", "{", "}", ",", ":", "=",
	"const", "return", "if", "await", "=>", "[", "]", "<", ">", "+", "!", "===", "??", "?.", "async", "function", "new", "for",
	"of", "let", "throw", "try", "catch", "typeof", "string", "number", "export", "import", "from", "type", "&&", "||", "?", "*", "-"}

// randomTokens are n tokens drawn from the vocabulary, eight to a line.
func randomTokens(rng *rand.Rand, n int) []Token {
	out := make([]Token, n)
	for i := range out {
		out[i] = Token{Kind: vocabulary[rng.IntN(len(vocabulary))], Line: 1 + i/8, Col: 1 + 4*(i%8)}
	}
	return out
}

func kindsOf(s ...string) []Token {
	out := make([]Token, len(s))
	for i, k := range s {
		out[i] = Token{Kind: k, Line: 1 + i/8, Col: 1 + 4*(i%8)}
	}
	return out
}

// renumber gives tokens the lines of their new place.
func renumber(tokens []Token) []Token {
	out := slices.Clone(tokens)
	for i := range out {
		out[i].Line, out[i].Col = 1+i/8, 1+4*(i%8)
	}
	return out
}

func doc(name string, files ...[]Token) Document {
	d := Document{Name: name}
	for i, f := range files {
		d.Files = append(d.Files, File{Path: fmt.Sprintf("src/f%d.ts", i), Tokens: f})
	}
	return d
}

func concat(parts ...[]Token) []Token {
	var out []Token
	for _, p := range parts {
		out = append(out, p...)
	}
	return renumber(out)
}

func TestWinnowKeepsTheRightmostMinimumOfEveryWindow(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 16, 17, 18, 40, 500} {
		for _, w := range []int{1, 4, 17} {
			t.Run(fmt.Sprintf("%d hashes, window %d", n, w), func(t *testing.T) {
				hashes := make([]uint64, n)
				for i := range hashes {
					hashes[i] = uint64(rng.IntN(8)) // few values: many ties
				}
				kept := winnow(hashes, w)
				require.True(t, slices.IsSorted(kept))
				require.Equal(t, len(kept), len(slices.Compact(slices.Clone(kept))), "each position once")
				windows := max(1, n-w+1)
				for start := range windows {
					want := rightmostMin(hashes, start, min(n, start+w))
					require.Contains(t, kept, want, "window at %d", start)
				}
				for _, k := range kept {
					found := false
					for start := max(0, k-w+1); start <= min(k, windows-1); start++ {
						found = found || rightmostMin(hashes, start, min(n, start+w)) == k
					}
					require.True(t, found, "%d is the rightmost minimum of a window", k)
				}
			})
		}
	}
	require.Empty(t, winnow(nil, 4))
}

// TestFingerprintsGuarantee: winnowing finds every shared run of at least k+w-1 tokens and
// none shorter than k, wherever it sits.
func TestFingerprintsGuarantee(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		name   string
		shared int
		found  bool
	}{
		{"a run of k+w-1 tokens is always found", DefaultK + DefaultW - 1, true},
		{"a long run is found", 400, true},
		{"a run of k-1 tokens never is", DefaultK - 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for trial := range 50 {
				run := randomTokens(rng, c.shared)
				a := doc("a", concat(randomTokens(rng, rng.IntN(300)), run, randomTokens(rng, rng.IntN(300))))
				b := doc("b", concat(randomTokens(rng, rng.IntN(300)), run, randomTokens(rng, rng.IntN(300))))
				p := Compare(a, b, Index{})
				if c.found {
					require.Positive(t, p.Left.Covered, "trial %d", trial)
				} else {
					// Chance matches of 23 random tokens do not happen; only the planted run could.
					require.Zero(t, p.Left.Covered, "trial %d", trial)
				}
			}
		})
	}
}

func TestLayoutTokensDoNotCount(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	body := randomTokens(rng, 200)
	plain := doc("plain", body)
	var noisy []Token
	for i, tk := range body {
		if tk.Kind == ";" || tk.Kind == "," && i+1 < len(body) && slices.Contains([]string{")", "]", "}"}, body[i+1].Kind) {
			continue
		}
		noisy = append(noisy, tk)
		if i%5 == 0 {
			noisy = append(noisy, Token{Kind: ";"})
		}
		if tk.Kind == "ID" && i+1 < len(body) && body[i+1].Kind == ")" {
			noisy = append(noisy, Token{Kind: ","})
		}
	}
	hashes := func(d Document) []uint64 {
		var out []uint64
		for _, f := range Fingerprints(d, 0, 0) {
			out = append(out, f.Hash)
		}
		return out
	}
	require.Equal(t, hashes(plain), hashes(doc("noisy", renumber(noisy))))
	require.NotEqual(t, len(body), len(noisy))
}

func TestCompare(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	half1, half2, other := randomTokens(rng, 600), randomTokens(rng, 600), randomTokens(rng, 600)
	template := randomTokens(rng, 400)
	for _, c := range []struct {
		name     string
		a, b     Document
		base     Index
		min, max float64
	}{
		{"identical documents", doc("a", concat(half1, half2)), doc("b", concat(half1, half2)), Index{}, 1, 1},
		{"files in another order", doc("a", half1, half2), doc("b", half2, half1), Index{}, 1, 1},
		{"nothing in common", doc("a", half1), doc("b", other), Index{}, 0, 0},
		{"half copied", doc("a", concat(half1, half2)), doc("b", concat(half1, other)), Index{}, 0.4, 0.6},
		{"one document empty", doc("a", concat(half1, half2)), doc("b"), Index{}, 0, 0},
		{"both empty", doc("a"), doc("b", nil, nil), Index{}, 0, 0},
		{"shorter than a k-gram", doc("a", half1[:DefaultK-1]), doc("b", half1[:DefaultK-1]), Index{}, 0, 0},
		{"only the template shared, subtracted", doc("a", template, half1), doc("b", template, half2), NewIndex(0, 0, doc("t", template)), 0, 0},
		{"only the template shared, not subtracted", doc("a", template, half1), doc("b", template, half2), Index{}, 0.2, 0.5},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := Compare(c.a, c.b, c.base)
			require.GreaterOrEqual(t, p.Similarity, c.min)
			require.LessOrEqual(t, p.Similarity, c.max)
			require.Equal(t, p.Similarity, Compare(c.b, c.a, c.base).Similarity, "symmetric")
			require.Equal(t, c.a.Name, p.Left.Name)
			if p.Similarity == 0 {
				require.Empty(t, p.Fragments)
				require.Empty(t, p.Left.Lines)
			} else {
				require.NotEmpty(t, p.Fragments)
				require.Equal(t, p.Fragments[0], p.Longest)
			}
		})
	}
}

func TestFragmentsShowWhereTheCopyIs(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	copied := randomTokens(rng, 240) // 30 lines
	a := doc("a", concat(randomTokens(rng, 400), copied, randomTokens(rng, 400)))
	b := doc("b", randomTokens(rng, 80), concat(copied, randomTokens(rng, 160)))
	p := Compare(a, b, Index{})
	require.Len(t, p.Fragments, 1)
	f := p.Longest
	require.Equal(t, "src/f0.ts", f.Left.File)
	require.True(t, 51 <= f.Left.From && f.Left.To <= 80 && f.Left.To-f.Left.From >= 20, "the copy is lines 51-80 on the left: %v", f.Left)
	require.Equal(t, "src/f1.ts", f.Right.File)
	require.True(t, 1 <= f.Right.From && f.Right.To <= 30 && f.Right.To-f.Right.From >= 20, "and lines 1-30 on the right: %v", f.Right)
	require.GreaterOrEqual(t, f.Tokens, 240-2*(DefaultK+DefaultW))
	require.Len(t, p.Left.Lines, 1)
	require.Equal(t, p.Left.Lines[0].File, "src/f0.ts")
}

// TestCohortFindsWhatCompareFinds: the inverted index selects exactly the pairs a full
// comparison of every pair puts at or above the threshold, with the same numbers.
func TestCohortFindsWhatCompareFinds(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	docs := plantedCohort(rng, 30, 800)
	base := NewIndex(0, 0, docs[0])
	for _, threshold := range []float64{0, 0.1, DefaultThreshold, 0.5, 0.9} {
		t.Run(fmt.Sprintf("threshold %.2f", threshold), func(t *testing.T) {
			var want []Pair
			for i := range docs {
				for j := i + 1; j < len(docs); j++ {
					p := Compare(docs[i], docs[j], base)
					if p.Left.Covered > 0 && p.Similarity >= threshold {
						want = append(want, p)
					}
				}
			}
			sortPairs(want)
			got := Cohort(docs, base, threshold)
			require.Equal(t, want, got)
			if threshold <= 0.5 {
				require.NotEmpty(t, got)
			}

			var wantDrafts []Pair
			drafts := docs[25:]
			for i := range docs[:25] {
				for d := range drafts {
					p := Compare(docs[i], drafts[d], base)
					if p.Left.Covered > 0 && p.Similarity >= threshold {
						wantDrafts = append(wantDrafts, p)
					}
				}
			}
			sortPairs(wantDrafts)
			require.Equal(t, wantDrafts, AgainstDrafts(docs[:25], drafts, base, threshold))
		})
	}
	require.Empty(t, Cohort(nil, Index{}, 0))
	require.Empty(t, Cohort(docs[:1], Index{}, 0))
	require.Empty(t, AgainstDrafts(docs, nil, Index{}, 0))
}

// plantedCohort makes n documents of about size tokens in two files; every tenth copies an
// earlier one with a token changed every 60, every other fifth copies half a file of an
// earlier one (renamed names do not matter: kinds are all there is).
func plantedCohort(rng *rand.Rand, n, size int) []Document {
	docs := make([]Document, n)
	for i := range docs {
		a, b := randomTokens(rng, size/2), randomTokens(rng, size/2)
		switch {
		case i > 0 && i%10 == 0:
			src := docs[rng.IntN(i)]
			a, b = slices.Clone(src.Files[0].Tokens), slices.Clone(src.Files[1].Tokens)
			for _, f := range [][]Token{a, b} {
				for j := 0; j < len(f); j += 60 {
					f[j].Kind = "while"
				}
			}
		case i > 0 && i%5 == 0:
			src := docs[rng.IntN(i)].Files[0].Tokens
			cut := rng.IntN(len(src) / 2)
			a = concat(randomTokens(rng, rng.IntN(50)), src[cut:cut+len(src)/2], randomTokens(rng, size/4))
		}
		docs[i] = doc(fmt.Sprintf("candidate-%03d", i), a, b)
	}
	return docs
}

// TestDegenerateInputsStayFast: a file of one token repeated (every k-gram the same hash) makes a
// fingerprint at every position; comparing such documents must stay linear, not pair every
// occurrence with every other.
func TestDegenerateInputsStayFast(t *testing.T) {
	t.Parallel()
	same := make([]Token, 30_000)
	for i := range same {
		same[i] = Token{Kind: "ID", Line: 1, Col: 1 + i}
	}
	var alternating []Token
	for i := range 30_000 {
		alternating = append(alternating, Token{Kind: []string{"ID", "("}[i%2], Line: 1 + i/100, Col: 1 + i%100})
	}
	docs := []Document{doc("same", same), doc("same-again", same), doc("alternating", alternating), doc("half", same[:15_000]), doc("empty")}
	done := make(chan []Pair, 1)
	started := time.Now()
	go func() { done <- Cohort(docs, NewIndex(0, 0, doc("base", same[:10])), 0) }()
	select {
	case pairs := <-done:
		t.Logf("cohort of degenerate documents: %v", time.Since(started).Round(time.Millisecond))
		require.NotEmpty(t, pairs)
		for _, p := range pairs {
			require.LessOrEqual(t, len(p.Fragments), maxFragments)
			require.LessOrEqual(t, p.Similarity, 1.0)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("comparing degenerate documents took over 20 s")
	}
}

func TestFingerprintParameters(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 14))
	d := doc("d", randomTokens(rng, 2000))
	require.Equal(t, Fingerprints(d, DefaultK, DefaultW), Fingerprints(d, 0, -1), "under 1: the defaults")
	dense := len(Fingerprints(d, 5, 4))
	sparse := len(Fingerprints(d, 5, 40))
	require.Greater(t, dense, sparse, "a wider window keeps fewer")
	// Density is about 2/(w+1) of the k-grams.
	n := float64(len(Fingerprints(d, 0, 0)))
	require.InDelta(t, 2.0/(DefaultW+1)*float64(2000-DefaultK+1), n, 0.25*n)
	k, w := NewIndex(7, 9).KW()
	require.Equal(t, []int{7, 9}, []int{k, w})
	k, w = Index{}.KW()
	require.Equal(t, []int{DefaultK, DefaultW}, []int{k, w})
}

// TestPairGolden pins the whole shape of a comparison (sides, lines, fragments) on two small
// documents.
func TestPairGolden(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(15, 16))
	shared, moved := randomTokens(rng, 120), randomTokens(rng, 80)
	template := randomTokens(rng, 60)
	a := doc("alice", concat(template, randomTokens(rng, 40), shared), concat(moved, randomTokens(rng, 30)))
	b := doc("bob", concat(randomTokens(rng, 30), moved), concat(template, shared, randomTokens(rng, 50)))
	p := Compare(a, b, NewIndex(0, 0, doc("template", template)))
	got, err := json.MarshalIndent(p, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	path := filepath.Join("testdata", "pair.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "go test -update writes it")
	require.JSONEq(t, string(want), string(got))
	require.Equal(t, string(want), string(got))
}

// BenchmarkCohort: a cohort of 200 documents of about 3,000 tokens, every fifth copying part of
// an earlier one, at the default threshold.
func BenchmarkCohort(b *testing.B) {
	rng := rand.New(rand.NewPCG(17, 18))
	docs := plantedCohort(rng, 200, 3000)
	base := NewIndex(0, 0, docs[0])
	b.ResetTimer()
	for b.Loop() {
		if len(Cohort(docs, base, DefaultThreshold)) == 0 {
			b.Fatal("the planted copies were not found")
		}
	}
}
