package sandbox

import (
	"bytes"
	"io"
	"sync"
)

// Output is what a stream produced: at most the cap is kept, everything is counted.
type Output struct {
	Data      []byte
	Total     int64
	Truncated bool
}

// capped keeps the first n bytes written and counts the rest. Writes never fail, so a
// flooding process is drained, not blocked.
type capped struct {
	mu    sync.Mutex
	n     int
	buf   bytes.Buffer
	total int64
}

func newCapped(n int) *capped { return &capped{n: n} }

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += int64(len(p))
	if room := c.n - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *capped) Output() Output {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Output{Data: bytes.Clone(c.buf.Bytes()), Total: c.total, Truncated: c.total > int64(c.buf.Len())}
}

// firstLine passes writes through to w and closes ready when the first newline has gone by.
type firstLine struct {
	w     io.Writer
	once  sync.Once
	ready chan struct{}
	seen  bool
}

func newFirstLine(w io.Writer) *firstLine { return &firstLine{w: w, ready: make(chan struct{})} }

func (f *firstLine) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if !f.seen && bytes.IndexByte(p, '\n') >= 0 {
		f.seen = true
		f.once.Do(func() { close(f.ready) })
	}
	return n, err
}
