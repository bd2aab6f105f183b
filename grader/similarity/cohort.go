package similarity

import (
	"cmp"
	"slices"
)

// posting is a document holding a hash, and how many times.
type posting struct {
	doc   int32
	count int32
}

// Cohort compares every pair of docs, the base subtracted, and returns those whose similarity is
// at least threshold (under or at 0: every pair sharing a fingerprint), the most similar first.
// It counts shared fingerprints through an inverted index of hashes, so only the pairs above the
// threshold are compared in full (fragments and lines); the counts take 8 bytes per pair.
func Cohort(docs []Document, base Index, threshold float64) []Pair {
	ps := make([]*prepared, len(docs))
	for i := range docs {
		ps[i] = prepare(&docs[i], base)
	}
	n := len(ps)
	covered := make([][2]int32, n*(n-1)/2) // pair (i < j) → its covered fingerprints in i, in j
	at := func(i, j int) int { return i*(2*n-i-1)/2 + (j - i - 1) }
	for _, postings := range invert(ps) {
		for x := 0; x < len(postings); x++ {
			for y := x + 1; y < len(postings); y++ {
				c := &covered[at(int(postings[x].doc), int(postings[y].doc))]
				c[0] += postings[x].count
				c[1] += postings[y].count
			}
		}
	}
	var out []Pair
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			c := covered[at(i, j)]
			if c == [2]int32{} || !reaches(int(c[0]+c[1]), ps[i].total+ps[j].total, threshold) {
				continue
			}
			out = append(out, compare(ps[i], ps[j]))
		}
	}
	sortPairs(out)
	return out
}

// AgainstDrafts compares every document with every known draft (an AI assistant's, say), the
// base subtracted, and returns the pairs (document left, draft right) whose similarity is at
// least threshold (under or at 0: every pair sharing a fingerprint), the most similar first.
// The first known draft is the corpus's unreviewed one,
// fixtures/submissions/unreviewed-ai-draft/src/index.ts.
func AgainstDrafts(docs, drafts []Document, base Index, threshold float64) []Pair {
	dp := make([]*prepared, len(drafts))
	for i := range drafts {
		dp[i] = prepare(&drafts[i], base)
	}
	index := invert(dp)
	var out []Pair
	for i := range docs {
		p := prepare(&docs[i], base)
		covered := make([][2]int, len(dp))
		for h, occ := range p.occ {
			for _, post := range index[h] {
				covered[post.doc][0] += len(occ)
				covered[post.doc][1] += int(post.count)
			}
		}
		for d, c := range covered {
			if c != [2]int{} && reaches(c[0]+c[1], p.total+dp[d].total, threshold) {
				out = append(out, compare(p, dp[d]))
			}
		}
	}
	sortPairs(out)
	return out
}

// invert maps every hash (the base's excluded) to the documents holding it, in document order.
func invert(ps []*prepared) map[uint64][]posting {
	index := map[uint64][]posting{}
	for d, p := range ps {
		for h, occ := range p.occ {
			index[h] = append(index[h], posting{doc: int32(d), count: int32(len(occ))})
		}
	}
	return index
}

func reaches(covered, total int, threshold float64) bool {
	return threshold <= 0 || ratio(covered, total) >= threshold
}

func sortPairs(pairs []Pair) {
	slices.SortStableFunc(pairs, func(a, b Pair) int {
		return cmp.Or(cmp.Compare(b.Similarity, a.Similarity), cmp.Compare(a.Left.Name, b.Left.Name), cmp.Compare(a.Right.Name, b.Right.Name))
	})
}
