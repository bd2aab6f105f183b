package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// Log is a journal read back: the Go API graders use.
type Log struct {
	Start     Start
	Requests  []Request // by arrival (Seq)
	Tickets   []Ticket  // by creation time
	TLSErrors []TLSError
	Noise     []Noise // stalls of the mock's scheduling probe, by the time they were due
	End       *End    // nil when the journal was cut short
}

// ErrTooLarge is returned by Read when the journal exceeds the size limit.
var ErrTooLarge = errors.New("journal exceeds size limit")

// MaxLineBytes caps one journal line: a ticket body is at most 1 MiB, plus its record.
const MaxLineBytes = 3 << 20

// Read parses a JSON Lines journal strictly: unknown kinds or fields are errors, and the whole
// input may not exceed limit bytes (0 means no limit).
func Read(r io.Reader, limit int64) (*Log, error) {
	if limit > 0 {
		r = io.LimitReader(r, limit+1)
	}
	var (
		l     Log
		read  int64
		seen  bool
		sc    = bufio.NewScanner(r)
		lines int
	)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	for sc.Scan() {
		lines++
		line := sc.Bytes()
		read += int64(len(line)) + 1
		if limit > 0 && read > limit+1 {
			return nil, ErrTooLarge
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := l.add(line); err != nil {
			return nil, fmt.Errorf("journal line %d: %w", lines, err)
		}
		seen = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	if limit > 0 && read > limit {
		return nil, ErrTooLarge
	}
	if !seen || l.Start.Kind != KindStart {
		return nil, errors.New("journal has no start line")
	}
	l.sort()
	return &l, nil
}

func (l *Log) add(line []byte) error {
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	switch head.Kind {
	case KindStart:
		return strict(line, &l.Start)
	case KindRequest:
		var r Request
		if err := strict(line, &r); err != nil {
			return err
		}
		l.Requests = append(l.Requests, r)
	case KindTicket:
		var t Ticket
		if err := strict(line, &t); err != nil {
			return err
		}
		l.Tickets = append(l.Tickets, t)
	case KindTLSError:
		var e TLSError
		if err := strict(line, &e); err != nil {
			return err
		}
		l.TLSErrors = append(l.TLSErrors, e)
	case KindNoise:
		var n Noise
		if err := strict(line, &n); err != nil {
			return err
		}
		l.Noise = append(l.Noise, n)
	case KindEnd:
		var e End
		if err := strict(line, &e); err != nil {
			return err
		}
		l.End = &e
	default:
		return fmt.Errorf("unknown kind %q", head.Kind)
	}
	return nil
}

func strict(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

func (l *Log) sort() {
	sort.SliceStable(l.Requests, func(a, b int) bool { return l.Requests[a].Seq < l.Requests[b].Seq })
	sort.SliceStable(l.Tickets, func(a, b int) bool { return l.Tickets[a].Seq < l.Tickets[b].Seq })
	sort.SliceStable(l.TLSErrors, func(a, b int) bool { return l.TLSErrors[a].AtUS < l.TLSErrors[b].AtUS })
	sort.SliceStable(l.Noise, func(a, b int) bool { return l.Noise[a].AtUS < l.Noise[b].AtUS })
}

// WriteTo writes the log as JSON Lines: start, requests, tickets, TLS errors, noise, end.
func (l *Log) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	enc := json.NewEncoder(cw)
	enc.SetEscapeHTML(false)
	put := func(v any) error { return enc.Encode(v) }
	if err := put(l.Start); err != nil {
		return cw.n, fmt.Errorf("write journal: %w", err)
	}
	for _, r := range l.Requests {
		if err := put(r); err != nil {
			return cw.n, fmt.Errorf("write journal: %w", err)
		}
	}
	for _, t := range l.Tickets {
		if err := put(t); err != nil {
			return cw.n, fmt.Errorf("write journal: %w", err)
		}
	}
	for _, e := range l.TLSErrors {
		if err := put(e); err != nil {
			return cw.n, fmt.Errorf("write journal: %w", err)
		}
	}
	for _, n := range l.Noise {
		if err := put(n); err != nil {
			return cw.n, fmt.Errorf("write journal: %w", err)
		}
	}
	if l.End != nil {
		if err := put(l.End); err != nil {
			return cw.n, fmt.Errorf("write journal: %w", err)
		}
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Endpoint returns the requests made to one endpoint ("source.list", "target.create", ...).
func (l *Log) Endpoint(name string) []Request {
	var out []Request
	for _, r := range l.Requests {
		if r.Endpoint == name {
			out = append(out, r)
		}
	}
	return out
}

// ByTicket groups target requests by the externalId they carried, in arrival order.
func (l *Log) ByTicket() map[string][]Request {
	out := map[string][]Request{}
	for _, r := range l.Requests {
		if r.Ticket != "" {
			out[r.Ticket] = append(out[r.Ticket], r)
		}
	}
	return out
}

// TicketsFor returns the tickets created for one externalId.
func (l *Log) TicketsFor(externalID string) []Ticket {
	var out []Ticket
	for _, t := range l.Tickets {
		if t.ExternalID == externalID {
			out = append(out, t)
		}
	}
	return out
}
