package similarity

import (
	"cmp"
	"slices"
)

// pairing is one occurrence of a shared hash on each side (indexes into the fingerprints).
type pairing struct{ l, r int }

// run is a chain of pairings (l, r), (l+1, r+1), …: the same fingerprints in the same order on
// both sides, within one file on each.
type run struct {
	l0, r0, l1, r1 int
	n              int
}

// fragments chains the shared fingerprints into passages found on both sides, drops those
// nested in a longer one, and returns the longest first (at most maxFragments).
func fragments(l, r *prepared, shared []uint64) []Fragment {
	runs := chain(l, r, pairings(l, r, shared))
	slices.SortFunc(runs, func(a, b run) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(l.fps[b.l1].End-l.fps[b.l0].Start, l.fps[a.l1].End-l.fps[a.l0].Start),
			cmp.Compare(a.l0, b.l0), cmp.Compare(a.r0, b.r0))
	})
	var kept []run
	for _, x := range runs {
		if len(kept) == maxFragments {
			break
		}
		if !slices.ContainsFunc(kept, func(k run) bool { return k.l0 <= x.l0 && x.l1 <= k.l1 && k.r0 <= x.r0 && x.r1 <= k.r1 }) {
			kept = append(kept, x)
		}
	}
	out := make([]Fragment, len(kept))
	for i, x := range kept {
		left, right := l.span(x.l0), r.span(x.r0)
		left.To, right.To = l.span(x.l1).To, r.span(x.r1).To
		out[i] = Fragment{Left: left, Right: right, Fingerprints: x.n, Tokens: l.fps[x.l1].End - l.fps[x.l0].Start + 1}
	}
	return out
}

// pairings pairs every occurrence of each shared hash on the left with every one on the right,
// sorted by position; a hash repeated so often that this would exceed maxPairings pairs its
// occurrences in order instead.
func pairings(l, r *prepared, shared []uint64) []pairing {
	var out []pairing
	for _, h := range shared {
		li, ri := l.occ[h], r.occ[h]
		if len(li)*len(ri) > maxPairings {
			for x := range min(len(li), len(ri)) {
				out = append(out, pairing{li[x], ri[x]})
			}
			continue
		}
		for _, i := range li {
			for _, j := range ri {
				out = append(out, pairing{i, j})
			}
		}
	}
	slices.SortFunc(out, func(a, b pairing) int { return cmp.Or(cmp.Compare(a.l, b.l), cmp.Compare(a.r, b.r)) })
	return out
}

// chain extends a run ending at (l-1, r-1) with (l, r) when both steps stay in one file.
func chain(l, r *prepared, pairs []pairing) []run {
	var runs []run
	ends := make(map[pairing]int, len(pairs))
	for _, p := range pairs {
		prev := pairing{p.l - 1, p.r - 1}
		if at, ok := ends[prev]; ok && l.fps[p.l].File == l.fps[prev.l].File && r.fps[p.r].File == r.fps[prev.r].File {
			delete(ends, prev)
			runs[at].l1, runs[at].r1 = p.l, p.r
			runs[at].n++
			ends[p] = at
			continue
		}
		runs = append(runs, run{l0: p.l, r0: p.r, l1: p.l, r1: p.r, n: 1})
		ends[p] = len(runs) - 1
	}
	return runs
}
