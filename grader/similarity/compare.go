package similarity

import (
	"cmp"
	"slices"
)

// Index is the base code (the brief's starter code, a template) and the fingerprint parameters
// every comparison made with it uses. Its zero value has no base and the default k and w.
type Index struct {
	k, w int
	base map[uint64]struct{}
}

// NewIndex holds the base documents for comparisons with k and w (under 1: the defaults):
// every comparison with the index ignores a fingerprint whose k-gram occurs anywhere in them.
// All the base's k-grams are kept, not only its winnowed ones: a template's passage is then
// subtracted whichever of its k-grams a submission's windows happen to select.
func NewIndex(k, w int, base ...Document) Index {
	ix := Index{base: map[uint64]struct{}{}}
	ix.k, ix.w = params(k, w)
	for _, d := range base {
		for _, f := range d.Files {
			for _, h := range fileHashes(f.Tokens, ix.k) {
				ix.base[h] = struct{}{}
			}
		}
	}
	return ix
}

// KW returns the k-gram length and window the index fingerprints with.
func (ix Index) KW() (k, w int) { return params(ix.k, ix.w) }

// Has says whether hash occurs in the base.
func (ix Index) Has(hash uint64) bool {
	_, ok := ix.base[hash]
	return ok
}

// Limits that keep a degenerate input (thousands of identical k-grams, as in a file of one
// repeated token) from turning a comparison quadratic.
const (
	// maxPairings is how many occurrence pairs one shared hash may make; beyond it the
	// occurrences of both sides are paired in order.
	maxPairings = 64
	// maxFragments is how many fragments a pair keeps, the longest first.
	maxFragments = 200
)

// prepared is a document fingerprinted against a base.
type prepared struct {
	doc     *Document
	fps     []Fingerprint
	occ     map[uint64][]int // hash → indexes into fps, the base's left out
	total   int
	ignored int
}

func prepare(doc *Document, base Index) *prepared {
	k, w := base.KW()
	p := &prepared{doc: doc, fps: Fingerprints(*doc, k, w), occ: map[uint64][]int{}}
	for i, f := range p.fps {
		if base.Has(f.Hash) {
			p.ignored++
			continue
		}
		p.occ[f.Hash] = append(p.occ[f.Hash], i)
		p.total++
	}
	return p
}

// Compare compares two documents, the base subtracted: their similarity, the lines their
// shared fingerprints span on each side, and the passages found in both, the longest first.
func Compare(a, b Document, base Index) Pair {
	return compare(prepare(&a, base), prepare(&b, base))
}

func compare(l, r *prepared) Pair {
	pair := Pair{
		Left:  Side{Name: l.doc.Name, Total: l.total, Ignored: l.ignored},
		Right: Side{Name: r.doc.Name, Total: r.total, Ignored: r.ignored},
	}
	var shared []uint64
	for h, li := range l.occ {
		if ri, ok := r.occ[h]; ok {
			shared = append(shared, h)
			pair.Left.Covered += len(li)
			pair.Right.Covered += len(ri)
		}
	}
	slices.Sort(shared)
	pair.Similarity = ratio(pair.Left.Covered+pair.Right.Covered, l.total+r.total)
	pair.Left.Lines = coveredLines(l, shared)
	pair.Right.Lines = coveredLines(r, shared)
	pair.Fragments = fragments(l, r, shared)
	if len(pair.Fragments) > 0 {
		pair.Longest = pair.Fragments[0]
	}
	return pair
}

func ratio(part, whole int) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// span is a fingerprint's lines.
func (p *prepared) span(i int) LineRange {
	f := p.fps[i]
	file := p.doc.Files[f.File]
	return LineRange{File: file.Path, From: file.Tokens[f.Start].Line, To: file.Tokens[f.End].Line}
}

// coveredLines merges the lines of every shared fingerprint of one side, in file order.
func coveredLines(p *prepared, shared []uint64) []LineRange {
	type fileRange struct {
		file     int
		from, to int
	}
	var spans []fileRange
	for _, h := range shared {
		for _, i := range p.occ[h] {
			s := p.span(i)
			spans = append(spans, fileRange{p.fps[i].File, s.From, s.To})
		}
	}
	slices.SortFunc(spans, func(a, b fileRange) int {
		return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to))
	})
	var out []LineRange
	lastFile := -1
	for _, s := range spans {
		if n := len(out); n > 0 && s.file == lastFile && s.from <= out[n-1].To+1 {
			out[n-1].To = max(out[n-1].To, s.to)
			continue
		}
		out = append(out, LineRange{File: p.doc.Files[s.file].Path, From: s.from, To: s.to})
		lastFile = s.file
	}
	return out
}
