package deps

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1" //nolint:gosec // building sha1 integrity strings for tests
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// sri is the integrity string npm writes for data: "sha512-<base64>".
func sri(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// sriOf builds an SRI token of one algorithm.
func sriOf(algo string, data []byte) string {
	var sum []byte
	switch algo {
	case "sha1":
		s := sha1.Sum(data) //nolint:gosec // test data
		sum = s[:]
	case "sha256":
		s := sha256.Sum256(data)
		sum = s[:]
	case "sha384":
		s := sha512.Sum384(data)
		sum = s[:]
	default:
		s := sha512.Sum512(data)
		sum = s[:]
	}
	return algo + "-" + base64.StdEncoding.EncodeToString(sum)
}

// makeTarball builds an npm tarball: a gzipped tar with a package/ folder holding a
// package.json and pad bytes of filler, so that tests can make tarballs of a given size.
func makeTarball(t *testing.T, name, version string, pad int) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	manifest, err := json.Marshal(map[string]string{"name": name, "version": version})
	require.NoError(t, err)
	for _, f := range []struct {
		name string
		body []byte
	}{{"package/package.json", manifest}, {"package/filler.bin", randomBytes(pad)}} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(f.body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

// randomBytes are n bytes gzip cannot shrink much (a xorshift stream).
func randomBytes(n int) []byte {
	out := make([]byte, n)
	x := uint64(88172645463325252)
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = byte(x)
	}
	return out
}

// jsonBytes marshals v for a test.
func jsonBytes(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

// lockBytes is a lockfileVersion 3 lockfile with these packages (the "" entry added).
func lockBytes(t *testing.T, packages map[string]any) []byte {
	t.Helper()
	all := map[string]any{"": map[string]any{"name": "submission", "version": "1.0.0"}}
	for k, v := range packages {
		all[k] = v
	}
	return jsonBytes(t, map[string]any{"name": "submission", "lockfileVersion": 3, "requires": true, "packages": all})
}

// requireRefusal asserts err is a *Refusal of entry whose reason holds each of reasonParts.
func requireRefusal(t *testing.T, err error, entry string, reasonParts ...string) {
	t.Helper()
	var refusal *Refusal
	require.True(t, errors.As(err, &refusal), "want a *Refusal, got %v", err)
	require.Equal(t, entry, refusal.Entry, "refusal: %v", refusal)
	for _, part := range reasonParts {
		require.Contains(t, refusal.Reason, part)
	}
}
