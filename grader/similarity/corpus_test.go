package similarity_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/grader/similarity"
	"github.com/itsm-grader/grader/grader/static"
	"github.com/itsm-grader/grader/sandbox/sandboxtest"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// updating reports the -update flag (declared by the package's internal tests, in the same
// test binary).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// The corpus's unreviewed AI draft: the first known draft (issue 11).
const draftName = "unreviewed-ai-draft"

// Documents made for the tests, tokenized with the corpus.
const (
	briefDoc      = "brief"            // the brief's code (BRIEF.md section 1): the base of every comparison
	renamedDoc    = "renamed-monolith" // monolith disguised: renamed, reworded, reordered
	derivativeDoc = "draft-derivative" // a candidate's rework of the draft (testdata/draft-derivative)
	templateDoc   = "template"         // ideal's config, log and limit files, as a starter template
	onTemplateDoc = "draft-on-template"
	poolDoc       = "pool-client" // written separately from the brief (testdata/independent)
	classDoc      = "class-client"
)

// lineage says which separately written client a submission comes from: the modular reference
// client (ideal and its one-flaw variants), monolith, the draft (and its rework), or one of the
// two clients written for the calibration.
func lineage(name string) string {
	switch name {
	case draftName, derivativeDoc:
		return draftName
	case "monolith", renamedDoc, poolDoc, classDoc:
		return name
	}
	return "ideal"
}

// Kinds of pair in the calibration.
const (
	independentPair = "independent" // written separately
	reusePair       = "reuse"       // monolith × ideal's lineage: monolith copies ideal's helpers verbatim
	derivedPair     = "derived"     // the same lineage: one edited from the other
)

func kindOf(a, b string) string {
	la, lb := lineage(a), lineage(b)
	switch {
	case la == lb:
		return derivedPair
	case la == "monolith" && lb == "ideal", la == "ideal" && lb == "monolith":
		return reusePair
	}
	return independentPair
}

type corpus struct {
	names []string                       // the corpus's submissions, sorted
	docs  map[string]similarity.Document // by name: the submissions and the made-up documents
	base  similarity.Index               // the brief's code
}

func (c *corpus) all(names []string) []similarity.Document {
	out := make([]similarity.Document, len(names))
	for i, n := range names {
		out[i] = c.docs[n]
	}
	return out
}

// TestOnTheCorpus tokenizes the calibration corpus and the documents made for these tests in
// one sandbox call (the pinned TypeScript's scanner on Node 24), then checks what similarity
// must and must not find.
func TestOnTheCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the TypeScript scanner in Docker")
	}
	c := tokenizeCorpus(t)
	t.Run("the threshold separates independent pairs from derived ones", func(t *testing.T) { calibration(t, c) })
	t.Run("a renamed, reworded and reordered copy is found", func(t *testing.T) { renamedCopy(t, c) })
	t.Run("a rework of the AI draft is matched against it", func(t *testing.T) { draftDerivative(t, c) })
	t.Run("two independent good clients are not flagged", func(t *testing.T) { independentClients(t, c) })
	t.Run("code shared only through the base scores about 0", func(t *testing.T) { baseSubtracted(t, c) })
}

func tokenizeCorpus(t *testing.T) *corpus {
	t.Helper()
	sb := sandboxtest.New(t)
	names, err := submissions.Names()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(names), 39)
	made := makeDocuments(t)
	var dirs, all []string
	for _, n := range names {
		dirs = append(dirs, filepath.Join(submissions.Dir(), n))
		all = append(all, n)
	}
	for _, n := range []string{briefDoc, renamedDoc, derivativeDoc, templateDoc, onTemplateDoc, poolDoc, classDoc} {
		dirs = append(dirs, made[n])
		all = append(all, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	started := time.Now()
	docs, err := static.Tokens(ctx, sb, dirs, static.Options{Toolchain: testenv.TypeScript(t)})
	require.NoError(t, err)
	t.Logf("tokenized %d documents in %v", len(docs), time.Since(started).Round(time.Millisecond))
	c := &corpus{names: names, docs: map[string]similarity.Document{}}
	for i, d := range docs {
		d.Name = all[i]
		require.Empty(t, d.Notes, "%s: the tokenizer skipped nothing", d.Name)
		require.NotEmpty(t, d.Files, d.Name)
		c.docs[all[i]] = d
	}
	c.base = similarity.NewIndex(0, 0, c.docs[briefDoc])
	return c
}

// makeDocuments writes the made-up submissions into folders the sandbox can read.
func makeDocuments(t *testing.T) map[string]string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.Chmod(root, 0o755))
	corpusFile := func(name, file string) string {
		b, err := os.ReadFile(filepath.Join(submissions.Dir(), name, file))
		require.NoError(t, err)
		return string(b)
	}
	template := map[string]string{}
	for _, f := range []string{"src/config.ts", "src/log.ts", "src/limit.ts"} {
		template[f] = corpusFile("ideal", f)
	}
	onTemplate := map[string]string{"src/index.ts": corpusFile(draftName, "src/index.ts")}
	for f, s := range template {
		onTemplate[f] = s
	}
	made := map[string]map[string]string{
		briefDoc:      {"src/index.ts": briefCode(t)},
		renamedDoc:    {"src/sync.ts": disguise(corpusFile("monolith", "src/index.ts"))},
		derivativeDoc: sources(t, filepath.Join("testdata", "draft-derivative")),
		templateDoc:   template,
		onTemplateDoc: onTemplate,
		poolDoc:       sources(t, filepath.Join("testdata", "independent", poolDoc)),
		classDoc:      sources(t, filepath.Join("testdata", "independent", classDoc)),
	}
	dirs := map[string]string{}
	for name, files := range made {
		dirs[name] = filepath.Join(root, name)
		for f, s := range files {
			p := filepath.Join(dirs[name], f)
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		}
	}
	return dirs
}

// sources reads the TypeScript files under dir/src, by path relative to dir.
func sources(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, err := filepath.Glob(filepath.Join(dir, "src", "*.ts"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out["src/"+filepath.Base(f)] = string(b)
	}
	return out
}

// briefCode is the TypeScript the brief gives every candidate (section 1: the entry point).
func briefCode(t *testing.T) string {
	t.Helper()
	brief := string(exercise.Brief())
	start := strings.Index(brief, "```ts\n")
	require.GreaterOrEqual(t, start, 0, "the brief shows the entry point's TypeScript")
	code := brief[start+len("```ts\n"):]
	end := strings.Index(code, "```")
	require.Positive(t, end)
	require.Contains(t, code[:end], "syncTickets")
	return code[:end]
}

// calibrationSet is what the threshold is measured on: the corpus, the two clients written
// separately for it and the draft's rework.
func (c *corpus) calibrationSet() []string {
	return append(slices.Clone(c.names), poolDoc, classDoc, derivativeDoc)
}

// scored is a pair measured.
type scored struct {
	left, right string
	pair        similarity.Pair
}

// classify compares every pair of the calibration set and sorts them by kind, the most similar
// first.
func classify(c *corpus) map[string][]scored {
	out := map[string][]scored{}
	names := c.calibrationSet()
	for i, a := range names {
		for _, b := range names[i+1:] {
			k := kindOf(a, b)
			out[k] = append(out[k], scored{a, b, similarity.Compare(c.docs[a], c.docs[b], c.base)})
		}
	}
	for _, l := range out {
		sort.SliceStable(l, func(i, j int) bool { return l[i].pair.Similarity > l[j].pair.Similarity })
	}
	return out
}

// quantile is the q-quantile of sorted values (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func distribution(pairs []scored) string {
	v := make([]float64, len(pairs))
	for i, p := range pairs {
		v[i] = p.pair.Similarity
	}
	slices.Sort(v)
	return fmt.Sprintf("n=%d min=%.3f p10=%.3f median=%.3f p90=%.3f p99=%.3f max=%.3f",
		len(v), v[0], quantile(v, 0.1), quantile(v, 0.5), quantile(v, 0.9), quantile(v, 0.99), v[len(v)-1])
}

func listPairs(b *strings.Builder, pairs []scored) {
	for _, s := range pairs {
		fmt.Fprintf(b, "%.3f %4d %s %s\n", s.pair.Similarity, s.pair.Longest.Tokens, s.left, s.right)
	}
}

// calibration measures every pair of the calibration set and writes the distributions to
// testdata/calibration.golden: DefaultThreshold's comment explains the bar they justify.
func calibration(t *testing.T, c *corpus) {
	byKind := classify(c)
	independent, reuse, derived := byKind[independentPair], byKind[reusePair], byKind[derivedPair]
	var b strings.Builder
	fmt.Fprintf(&b, "k=%d w=%d, the brief's code subtracted; %d documents\n", similarity.DefaultK, similarity.DefaultW, len(c.calibrationSet()))
	fmt.Fprintf(&b, "independent pairs (written separately): %s\n", distribution(independent))
	fmt.Fprintf(&b, "reuse pairs (monolith x ideal's lineage): %s\n", distribution(reuse))
	fmt.Fprintf(&b, "derived pairs (the same lineage):        %s\n", distribution(derived))
	fmt.Fprintf(&b, "\nthe 20 most similar independent pairs (similarity, longest fragment in tokens):\n")
	listPairs(&b, independent[:min(20, len(independent))])
	fmt.Fprintf(&b, "\nthe 5 least similar reuse pairs:\n")
	listPairs(&b, reuse[max(0, len(reuse)-5):])
	fmt.Fprintf(&b, "\nthe 10 least similar derived pairs:\n")
	listPairs(&b, derived[max(0, len(derived)-10):])
	golden(t, "calibration.golden", []byte(b.String()))

	highest, lowestReuse, lowestDerived := independent[0], reuse[len(reuse)-1], derived[len(derived)-1]
	t.Logf("highest independent pair %s × %s: %.3f; lowest reuse pair %s × %s: %.3f; lowest derived pair %s × %s: %.3f",
		highest.left, highest.right, highest.pair.Similarity, lowestReuse.left, lowestReuse.right, lowestReuse.pair.Similarity,
		lowestDerived.left, lowestDerived.right, lowestDerived.pair.Similarity)
	require.Less(t, 3*highest.pair.Similarity, similarity.DefaultThreshold, "the bar keeps a factor of three above every independent pair")
	require.Less(t, similarity.DefaultThreshold, lowestReuse.pair.Similarity, "verbatim helpers make a quarter of monolith: shown")
	require.Less(t, similarity.DefaultThreshold, lowestDerived.pair.Similarity)

	// Cohort, through its inverted index, finds exactly the pairs a full comparison puts at or
	// above the bar: the derived and reuse ones.
	found := similarity.Cohort(c.all(c.calibrationSet()), c.base, similarity.DefaultThreshold)
	require.Len(t, found, len(reuse)+len(derived))
	for _, p := range found {
		require.NotEqual(t, independentPair, kindOf(p.Left.Name, p.Right.Name), "%s × %s: %.3f", p.Left.Name, p.Right.Name, p.Similarity)
	}
}

func renamedCopy(t *testing.T, c *corpus) {
	original, copied := c.docs["monolith"], c.docs[renamedDoc]
	require.Equal(t, kinds(original), kinds(copied), "the disguise changed names, texts, comments and order, not the tokens")
	require.NotEqual(t, flat(original), flat(copied), "the tokens are in another order")
	pair := similarity.Compare(copied, original, c.base)
	t.Logf("renamed copy × monolith: %.3f, longest fragment %d tokens (%s:%d-%d)", pair.Similarity, pair.Longest.Tokens,
		pair.Longest.Left.File, pair.Longest.Left.From, pair.Longest.Left.To)
	// Reordering cuts the k-grams that spanned two of the 60 top-level declarations (most of
	// them one-line constants and types): 0.84 is what is left, measured.
	require.GreaterOrEqual(t, pair.Similarity, 0.75)
	require.Greater(t, pair.Longest.Tokens, 1000, "syncTickets, one function, is found whole")

	found := similarity.Cohort(c.all(append(slices.Clone(c.names), renamedDoc)), c.base, similarity.DefaultThreshold)
	partners := func(name string) []string {
		var out []string
		for _, p := range found {
			if p.Left.Name == name {
				out = append(out, p.Right.Name)
			}
			if p.Right.Name == name {
				out = append(out, p.Left.Name)
			}
		}
		return out
	}
	copyOf := partners(renamedDoc)
	require.NotEmpty(t, copyOf)
	require.Equal(t, "monolith", copyOf[0], "the copy's closest match is its original")
	require.ElementsMatch(t, append(partners("monolith"), "monolith"), append(copyOf, renamedDoc),
		"and otherwise it matches what its original matches (ideal's helpers, which monolith reuses)")
}

func draftDerivative(t *testing.T, c *corpus) {
	docs := c.all(append(slices.Clone(c.names), derivativeDoc))
	found := similarity.AgainstDrafts(docs, []similarity.Document{c.docs[draftName]}, c.base, similarity.DefaultThreshold)
	var matched []string
	for _, p := range found {
		require.Equal(t, draftName, p.Right.Name)
		matched = append(matched, p.Left.Name)
	}
	require.ElementsMatch(t, []string{draftName, derivativeDoc}, matched, "the draft itself and its rework, nothing written separately")

	pair := similarity.Compare(c.docs[derivativeDoc], c.docs[draftName], c.base)
	t.Logf("rework × draft: %.3f, longest fragment %d tokens; %d fragments", pair.Similarity, pair.Longest.Tokens, len(pair.Fragments))
	for _, other := range []string{"ideal", "monolith"} {
		o := similarity.Compare(c.docs[derivativeDoc], c.docs[other], c.base)
		t.Logf("rework × %s: %.3f", other, o.Similarity)
		require.Less(t, o.Similarity, similarity.DefaultThreshold)
	}
	// The longest fragment is the pagination loop, kept from the draft with its names changed.
	require.Equal(t, "src/index.ts", pair.Longest.Left.File)
	require.GreaterOrEqual(t, pair.Longest.Tokens, 100)
	js, err := json.MarshalIndent(pair, "", "  ")
	require.NoError(t, err)
	golden(t, "draft-derivative.golden.json", append(js, '\n'))
}

func independentClients(t *testing.T, c *corpus) {
	// ideal (the corpus's reference) and pool-client were written separately and both follow
	// the brief: the same behaviour must not read as a copy. (monolith is no such partner for
	// ideal: it reuses ideal's helpers verbatim, and similarity says so.)
	for _, pair := range [][2]string{{"ideal", poolDoc}, {"ideal", classDoc}, {poolDoc, classDoc}} {
		p := similarity.Compare(c.docs[pair[0]], c.docs[pair[1]], c.base)
		t.Logf("%s × %s: %.3f, longest fragment %d tokens", pair[0], pair[1], p.Similarity, p.Longest.Tokens)
		require.Less(t, p.Similarity, similarity.DefaultThreshold/3)
	}
	found := similarity.Cohort([]similarity.Document{c.docs["ideal"], c.docs[poolDoc], c.docs[classDoc]}, c.base, similarity.DefaultThreshold)
	require.Empty(t, found)
}

func baseSubtracted(t *testing.T, c *corpus) {
	// The draft written on top of a template (ideal's config, log and limit files), against
	// ideal, which holds the same files: all they share beyond what independent clients share
	// is the template.
	left, right := c.docs[onTemplateDoc], c.docs["ideal"]
	independent := similarity.Compare(c.docs[draftName], right, c.base).Similarity
	without := similarity.Compare(left, right, c.base)
	withBase := similarity.Compare(left, right, similarity.NewIndex(0, 0, c.docs[briefDoc], c.docs[templateDoc]))
	t.Logf("draft on the template × ideal: %.3f without the template as base, %.3f with it; draft × ideal: %.3f",
		without.Similarity, withBase.Similarity, independent)
	require.GreaterOrEqual(t, without.Similarity, similarity.DefaultThreshold, "the template alone would flag the pair")
	require.Less(t, withBase.Similarity, 0.05, "subtracted, it scores about 0")
	require.InDelta(t, independent, withBase.Similarity, 0.02, "as the two clients do without the template")
	require.Positive(t, withBase.Left.Ignored)
	require.Positive(t, withBase.Right.Ignored)
}

// kinds are a document's token kinds, sorted: what a disguise must keep.
func kinds(d similarity.Document) []string {
	out := flat(d)
	slices.Sort(out)
	return out
}

func flat(d similarity.Document) []string {
	var out []string
	for _, f := range d.Files {
		for _, tk := range f.Tokens {
			out = append(out, tk.Kind)
		}
	}
	return out
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if updating() {
		require.NoError(t, os.WriteFile(p, got, 0o644))
		return
	}
	want, err := os.ReadFile(p)
	require.NoError(t, err, "run go test -update to record it")
	require.Equal(t, string(want), string(got), "testdata/%s (go test -update rewrites it)", name)
}
