package faults

import (
	"bytes"
	"net/http"
)

// captured is a response the real handler wrote, held back so a fault can decide what the
// client gets of it.
type captured struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captured) Header() http.Header { return c.header }

func (c *captured) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *captured) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(p)
}

// run lets the real handler do its work (a ticket is created) into a held-back response.
func run(next http.Handler, r *http.Request) *captured {
	c := &captured{header: http.Header{}}
	next.ServeHTTP(c, r)
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c
}

// sendHeader copies the held-back headers to w and writes the status.
func (c *captured) sendHeader(w http.ResponseWriter) {
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.Header().Set("Connection", "close")
	w.WriteHeader(c.status)
}
