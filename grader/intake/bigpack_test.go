package intake

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// zeroBlobRepo makes a served bare repository whose one commit holds big.bin, a blob of size
// zero bytes, written straight as a pack and its index (git add of a sparse file takes tens of
// seconds: it deflates every byte). The pack is about size/160 bytes; nothing of size is ever
// on disk.
func (s *gitServer) zeroBlobRepo(t *testing.T, name string, size int64) {
	t.Helper()
	bare := filepath.Join(s.root, name+".git")
	setupGit(t, s.root, "init", "-q", "--bare", bare)
	blobID := zeroBlobID(size)
	tree := append([]byte("100644 big.bin\x00"), blobID...)
	treeID := objectID("tree", tree)
	commit := fmt.Appendf(nil, "tree %x\nauthor t <t@example.com> 1577836800 +0000\ncommitter t <t@example.com> 1577836800 +0000\n\nbig\n", treeID)
	objects := []packObject{
		{id: blobID, kind: 3, size: size, deflated: deflateZeros(size)},
		{id: treeID, kind: 2, size: int64(len(tree)), deflated: deflate(t, tree)},
		{id: objectID("commit", commit), kind: 1, size: int64(len(commit)), deflated: deflate(t, commit)},
	}
	writePack(t, filepath.Join(bare, "objects", "pack"), objects)
	setupGit(t, bare, "update-ref", "refs/heads/main", hex.EncodeToString(objects[2].id))
}

type packObject struct {
	id       []byte
	kind     byte // 1 commit, 2 tree, 3 blob
	size     int64
	deflated []byte
	offset   uint32
	crc      uint32
}

func objectID(kind string, data []byte) []byte {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(data))
	h.Write(data)
	return h.Sum(nil)
}

// zeroBlobID hashes a blob of size zero bytes as it streams.
func zeroBlobID(size int64) []byte {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", size)
	zeros := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(zeros)) {
		h.Write(zeros[:min(int64(len(zeros)), left)])
	}
	return h.Sum(nil)
}

func deflate(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// bitWriter writes a deflate bit stream (least significant bit first).
type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

// code writes a Huffman code, which deflate stores most significant bit first.
func (w *bitWriter) code(c uint64, n uint) {
	var rev uint64
	for i := range n {
		rev |= (c >> i & 1) << (n - 1 - i)
	}
	w.bits(rev, n)
}

// deflateZeros is the zlib stream of size zero bytes, made by hand: one fixed-Huffman block,
// a literal zero, then copies of 258 bytes from distance 1 (13 bits each), literals for the
// rest. The Adler-32 of n zeros is 1 + (n mod 65521) << 16.
func deflateZeros(size int64) []byte {
	w := &bitWriter{out: []byte{0x78, 0x01}}
	w.bits(1, 1)    // BFINAL
	w.bits(1, 2)    // BTYPE 01: fixed Huffman codes
	w.code(0x30, 8) // literal 0
	left := size - 1
	for ; left >= 258; left -= 258 {
		w.code(0xc5, 8) // length code 285: 258 bytes
		w.code(0, 5)    // distance code 0: distance 1
	}
	for ; left > 0; left-- {
		w.code(0x30, 8)
	}
	w.code(0, 7) // end of block
	if w.nbits > 0 {
		w.bits(0, 8-w.nbits)
	}
	return binary.BigEndian.AppendUint32(w.out, uint32(size%65521)<<16|1)
}

// writePack writes objects as pack-<id>.pack and its version 2 index into dir.
func writePack(t *testing.T, dir string, objects []packObject) {
	t.Helper()
	pack := sha1.New()
	var body bytes.Buffer
	out := io.MultiWriter(pack, &body)
	header := binary.BigEndian.AppendUint32([]byte("PACK"), 2)
	header = binary.BigEndian.AppendUint32(header, uint32(len(objects)))
	_, _ = out.Write(header)
	offset := uint32(len(header))
	for i := range objects {
		o := &objects[i]
		entry := append(objectHeader(o.kind, o.size), o.deflated...)
		o.offset, o.crc = offset, crc32.ChecksumIEEE(entry)
		_, _ = out.Write(entry)
		offset += uint32(len(entry))
	}
	packSum := pack.Sum(nil)
	body.Write(packSum)
	name := "pack-" + hex.EncodeToString(packSum)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".pack"), body.Bytes(), 0o444))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".idx"), packIndex(objects, packSum), 0o444))
}

// objectHeader is a pack entry's type and size, seven bits a byte after the first four.
func objectHeader(kind byte, size int64) []byte {
	b := []byte{kind<<4 | byte(size&15)}
	for size >>= 4; size > 0; size >>= 7 {
		b[len(b)-1] |= 0x80
		b = append(b, byte(size&0x7f))
	}
	return b
}

// packIndex is the version 2 index of a pack's objects.
func packIndex(objects []packObject, packSum []byte) []byte {
	sorted := append([]packObject(nil), objects...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i].id, sorted[j].id) < 0 })
	idx := []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}
	for b := range 256 {
		n := sort.Search(len(sorted), func(i int) bool { return int(sorted[i].id[0]) > b })
		idx = binary.BigEndian.AppendUint32(idx, uint32(n))
	}
	for _, o := range sorted {
		idx = append(idx, o.id...)
	}
	for _, o := range sorted {
		idx = binary.BigEndian.AppendUint32(idx, o.crc)
	}
	for _, o := range sorted {
		idx = binary.BigEndian.AppendUint32(idx, o.offset)
	}
	idx = append(idx, packSum...)
	sum := sha1.Sum(idx)
	return append(idx, sum[:]...)
}

// TestTheHandMadePackIsAValidRepository checks the test's own tool on a small blob: git reads
// the blob back, byte for byte.
func TestTheHandMadePackIsAValidRepository(t *testing.T) {
	t.Parallel()
	for _, size := range []int64{1, 258, 259, 1000, 70_000} {
		t.Run(strconv.FormatInt(size, 10), func(t *testing.T) {
			t.Parallel()
			s := &gitServer{root: t.TempDir()}
			s.zeroBlobRepo(t, "zeros", size)
			bare := filepath.Join(s.root, "zeros.git")
			setupGit(t, bare, "fsck", "--strict", "--full")
			require.Equal(t, strconv.FormatInt(size, 10), setupGit(t, bare, "cat-file", "-s", "main:big.bin"))
			require.Equal(t, hex.EncodeToString(zeroBlobID(size)), setupGit(t, bare, "rev-parse", "main:big.bin"))
			cmd := exec.Command("git", "cat-file", "blob", "main:big.bin")
			cmd.Dir = bare
			cmd.Env = setupEnv
			out, err := cmd.Output()
			require.NoError(t, err)
			require.Equal(t, make([]byte, size), out)
		})
	}
}
