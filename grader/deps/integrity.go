package deps

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // sha1 is accepted only when a lockfile has nothing stronger, as npm does
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// algorithm is a hash an SRI string may name.
type algorithm struct {
	name    string
	size    int // bytes of a digest
	newHash func() hash.Hash
}

// algorithms are the SRI hashes npm writes, strongest first. sha1 is last and is used only
// when a lockfile entry has nothing stronger: npm does the same for packages published before
// the registry computed sha512 (2017), and the bytes still come from the configured registry
// by name and version, so a candidate cannot substitute a colliding tarball of their own.
var algorithms = []algorithm{
	{"sha512", sha512.Size, sha512.New},
	{"sha384", sha512.Size384, sha512.New384},
	{"sha256", sha256.Size, sha256.New},
	{"sha1", sha1.Size, sha1.New},
}

// digest is the one hash of a tarball that is verified.
type digest struct {
	algo algorithm
	sum  []byte
}

// String is the SRI form, "sha512-<base64>".
func (d digest) String() string {
	return d.algo.name + "-" + base64.StdEncoding.EncodeToString(d.sum)
}

// fileName is the cache file of the tarball: derived from the hash only, "<algo>-<hex>.tgz".
func (d digest) fileName() string {
	return d.algo.name + "-" + hex.EncodeToString(d.sum) + ".tgz"
}

// parseIntegrity reads an SRI string (space-separated "algo-base64[?options]") and keeps the
// digest of its strongest algorithm. Unknown algorithms are ignored, as the SRI spec says; a
// malformed hash of a known one, or two different hashes of the strongest, are refused.
func parseIntegrity(sri string) (digest, error) {
	best := digest{}
	rank := len(algorithms)
	for token := range strings.FieldsSeq(sri) {
		name, value, _ := strings.Cut(token, "-")
		value, _, _ = strings.Cut(value, "?")
		i := algorithmIndex(name)
		if i < 0 || i > rank {
			continue
		}
		sum, err := base64.StdEncoding.DecodeString(value)
		if err != nil || len(sum) != algorithms[i].size {
			return digest{}, fmt.Errorf("integrity %q has a malformed %s hash", sri, name)
		}
		if i == rank && !bytes.Equal(sum, best.sum) {
			return digest{}, fmt.Errorf("integrity %q has two different %s hashes", sri, name)
		}
		best, rank = digest{algo: algorithms[i], sum: sum}, i
	}
	if best.sum == nil {
		return digest{}, errors.New("no integrity hash (sha512, sha384, sha256 or sha1): npm writes one for every registry package")
	}
	return best, nil
}

// algorithmIndex is the rank of an algorithm name in algorithms, or -1.
func algorithmIndex(name string) int {
	for i, a := range algorithms {
		if a.name == name {
			return i
		}
	}
	return -1
}
