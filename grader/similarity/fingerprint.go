package similarity

// Fingerprint is a k-gram kept by winnowing: its hash and where it lies.
type Fingerprint struct {
	Hash uint64
	// File is the index of the k-gram's file in Document.Files.
	File int
	// Start and End are the k-gram's first and last tokens (indexes into File.Tokens).
	Start, End int
}

// Fingerprints winnows each file of doc separately (no k-gram spans two files): the hash of
// every k consecutive significant tokens' kinds, and of every w consecutive hashes the minimum,
// the rightmost on ties, kept once. A file shorter than k+w-1 tokens keeps the minimum of the
// hashes it has. k or w under 1 take DefaultK and DefaultW. Fingerprints come in file order,
// then position.
func Fingerprints(doc Document, k, w int) []Fingerprint {
	k, w = params(k, w)
	var out []Fingerprint
	for fi, f := range doc.Files {
		at := significant(f.Tokens)
		hashes := kgramHashes(kindValues(f.Tokens, at), k)
		for _, p := range winnow(hashes, w) {
			out = append(out, Fingerprint{Hash: hashes[p], File: fi, Start: at[p], End: at[p+k-1]})
		}
	}
	return out
}

// fileHashes are the hashes of every k-gram of a file's significant tokens.
func fileHashes(tokens []Token, k int) []uint64 {
	return kgramHashes(kindValues(tokens, significant(tokens)), k)
}

func kindValues(tokens []Token, at []int) []uint64 {
	values := make([]uint64, len(at))
	for i, ti := range at {
		values[i] = kindValue(tokens[ti].Kind)
	}
	return values
}

func params(k, w int) (int, int) {
	if k < 1 {
		k = DefaultK
	}
	if w < 1 {
		w = DefaultW
	}
	return k, w
}

// significant lists the tokens that count: a semicolon and a comma before a closing bracket
// are layout (automatic semicolon insertion, a formatter's trailing commas), not structure.
func significant(tokens []Token) []int {
	at := make([]int, 0, len(tokens))
	for i, t := range tokens {
		switch t.Kind {
		case ";":
			continue
		case ",":
			if i+1 < len(tokens) {
				if next := tokens[i+1].Kind; next == ")" || next == "]" || next == "}" {
					continue
				}
			}
		}
		at = append(at, i)
	}
	return at
}

// kindValue is a token kind as a well-spread 64-bit number: FNV-1a, then mixed.
func kindValue(kind string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(kind); i++ {
		h ^= uint64(kind[i])
		h *= 1099511628211
	}
	return mix(h)
}

// mix is splitmix64's finalizer: every input bit moves about half the output bits, so the
// minimum of a window is not biased towards some k-grams.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// rollingBase is the odd multiplier of the rolling hash (arithmetic modulo 2^64).
const rollingBase = 0x100000001b3

// kgramHashes hashes every k consecutive values with a Rabin–Karp rolling hash:
// h = Σ v[i+j]·B^(k-1-j), updated in O(1) per step, then mixed.
func kgramHashes(values []uint64, k int) []uint64 {
	if len(values) < k {
		return nil
	}
	top := uint64(1) // B^(k-1)
	for i := 1; i < k; i++ {
		top *= rollingBase
	}
	var h uint64
	for _, v := range values[:k] {
		h = h*rollingBase + v
	}
	out := make([]uint64, 0, len(values)-k+1)
	out = append(out, mix(h))
	for i := k; i < len(values); i++ {
		h = (h-values[i-k]*top)*rollingBase + values[i]
		out = append(out, mix(h))
	}
	return out
}

// winnow returns the positions kept: in each window of w hashes the minimum, the rightmost on
// ties, recorded when it changes (Schleimer et al., figure 5). Fewer than w hashes make one
// window.
func winnow(hashes []uint64, w int) []int {
	if len(hashes) == 0 {
		return nil
	}
	if len(hashes) <= w {
		return []int{rightmostMin(hashes, 0, len(hashes))}
	}
	var kept []int
	min := -1
	for start := 0; start+w <= len(hashes); start++ {
		last := start + w - 1
		switch {
		case min < start: // the minimum left the window: find the new one
			min = rightmostMin(hashes, start, last+1)
			kept = append(kept, min)
		case hashes[last] <= hashes[min]:
			min = last
			kept = append(kept, min)
		}
	}
	return kept
}

func rightmostMin(hashes []uint64, from, to int) int {
	at := from
	for i := from + 1; i < to; i++ {
		if hashes[i] <= hashes[at] {
			at = i
		}
	}
	return at
}
