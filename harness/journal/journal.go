// Package journal records what the mock ITSM observed: every request, every ticket created and
// every failed TLS handshake. The journal is the ground truth of grading: times come from one
// monotonic clock started with the mock, secrets are never stored (only which token a request
// carried), and it is written as JSON Lines that Read parses back strictly.
package journal

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Kinds of journal lines.
const (
	KindStart    = "start"
	KindRequest  = "request"
	KindTicket   = "ticket"
	KindTLSError = "tls_error"
	KindEnd      = "end"
)

// Clock gives microseconds since the mock started, on the monotonic clock.
type Clock struct{ start time.Time }

// NewClock starts a clock now.
func NewClock() Clock { return Clock{start: time.Now()} }

// Now is the number of microseconds since the clock started.
func (c Clock) Now() int64 { return time.Since(c.start).Microseconds() }

// Started is the wall-clock time at which the clock started.
func (c Clock) Started() time.Time { return c.start }

// Start is the first line of a journal.
type Start struct {
	Kind      string            `json:"kind"`
	Wall      time.Time         `json:"wall"`
	Scenario  string            `json:"scenario"`
	Seed      int64             `json:"seed"`
	Listeners map[string]string `json:"listeners"`
	// Noise names the mock's scheduling probe (noise.go); nil when the probe did not run.
	Noise *Probe `json:"noise,omitempty"`
}

// Auth says how a request authenticated, without the secret.
type Auth struct {
	Scheme string `json:"scheme,omitempty"`
	// Token is "source" or "target" when the request carried one of the run's tokens,
	// "unknown" for any other credential and "none" when there was no Authorization header.
	Token string `json:"token"`
	// Fingerprint identifies an unknown credential across requests (a keyed hash, never the
	// secret itself); empty for the run's own tokens.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// Leak is one place where a run's token appeared outside the Authorization header of its own
// API.
type Leak struct {
	Token string `json:"token"` // "source" or "target"
	Where string `json:"where"` // "path", "query", "header:<name>", "body", "authorization"
	Form  string `json:"form"`  // "plain", "base64", "url-encoded", "partial"
}

// Violation is one way a request broke the contract (OpenAPI document or JSON Schema).
type Violation struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Request is what happened to one HTTP request.
type Request struct {
	Kind     string `json:"kind"`
	Seq      int64  `json:"seq"`
	Conn     int64  `json:"conn"`
	Listener string `json:"listener"`
	// Times in microseconds on the journal clock.
	ArrivalUS   int64  `json:"arrival_us"`
	RespStartUS *int64 `json:"resp_start_us,omitempty"`
	EndUS       int64  `json:"end_us"`

	Method      string   `json:"method"`
	Path        string   `json:"path"`
	Query       string   `json:"query,omitempty"`
	Host        string   `json:"host,omitempty"`
	HeaderNames []string `json:"header_names"`
	UserAgent   string   `json:"user_agent,omitempty"`
	ContentType string   `json:"content_type,omitempty"`
	Endpoint    string   `json:"endpoint"`
	Auth        Auth     `json:"auth"`

	IdempotencyKey string `json:"idempotency_key,omitempty"`
	BodyBytes      int    `json:"body_bytes"`
	BodySHA256     string `json:"body_sha256,omitempty"`
	// Ticket is the externalId a target request carried; Offset the page offset of a source
	// request. Attempt counts requests for the same ticket (or page) so far, this one included.
	Ticket  string `json:"ticket,omitempty"`
	Offset  *int   `json:"offset,omitempty"`
	Attempt int    `json:"attempt"`

	Fault  string `json:"fault,omitempty"`
	Status int    `json:"status,omitempty"`
	// Outcome is what the client received: "response" (a complete response), "reset",
	// "empty", "truncated" or "none" (it left before any response).
	Outcome string `json:"outcome"`
	// EndedBy says who ended the exchange: "server" (response complete or connection closed by a
	// fault), "client" (it went away first) or "cap" (a hang reached the mock's cap).
	EndedBy    string      `json:"ended_by"`
	Created    string      `json:"created,omitempty"`
	Replayed   bool        `json:"replayed,omitempty"`
	Violations []Violation `json:"violations,omitempty"`
	Leaks      []Leak      `json:"leaks,omitempty"`
}

// Ticket is a ticket the target created.
type Ticket struct {
	Kind           string          `json:"kind"`
	ID             string          `json:"id"`
	ExternalID     string          `json:"external_id"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	BodySHA256     string          `json:"body_sha256"`
	Body           json.RawMessage `json:"body"`
	Seq            int64           `json:"seq"`
	AtUS           int64           `json:"at_us"`
}

// TLSError is a TLS handshake the mock saw fail (for example a client refusing the untrusted
// certificate).
type TLSError struct {
	Kind     string `json:"kind"`
	Conn     int64  `json:"conn"`
	Listener string `json:"listener"`
	AtUS     int64  `json:"at_us"`
	Error    string `json:"error"`
}

// End is the last line of a journal. Besides the count of requests, it says whether and how a
// client flooded the mock: every field after Dropped is omitted when zero, so a journal written
// before they existed reads the same.
type End struct {
	Kind string `json:"kind"`
	AtUS int64  `json:"at_us"`
	// Requests is how many request lines the journal holds; Dropped how many requests were
	// counted but not journaled: past the request cap (the mock then refuses them unserved) or
	// after the byte cap stopped the stream.
	Requests int `json:"requests"`
	Dropped  int `json:"dropped"`
	// DroppedTickets and DroppedTLSErrors count the lines of those kinds past their caps.
	DroppedTickets   int `json:"dropped_tickets,omitempty"`
	DroppedTLSErrors int `json:"dropped_tls_errors,omitempty"`
	// Bytes is the size of the journal before this line; ByteCapped says the byte cap stopped
	// the stream (every record after it was counted, not written).
	Bytes      int64 `json:"bytes,omitempty"`
	ByteCapped bool  `json:"byte_capped,omitempty"`
	// BodyBytes is how many request-body bytes the mock read in the run. RefusedBodies counts
	// requests it answered 503 without reading their body (the run's body budget, or the bytes
	// it holds at once, was spent) and RefusedBodyBytes what those bodies declared.
	BodyBytes        int64 `json:"body_bytes,omitempty"`
	RefusedBodies    int   `json:"refused_bodies,omitempty"`
	RefusedBodyBytes int64 `json:"refused_body_bytes,omitempty"`
	// RefusedConnections counts connections closed unserved at the mock's connection cap.
	RefusedConnections int `json:"refused_connections,omitempty"`
	// DroppedNoise counts the probe's noise lines past their caps: the machine's noise, never
	// the client's flood.
	DroppedNoise int `json:"dropped_noise,omitempty"`
}

// Flooded reports whether any cap of the journal or of the mock was reached: the client sent
// more than the mock takes in one run.
func (e End) Flooded() bool {
	return e.Dropped > 0 || e.DroppedTickets > 0 || e.DroppedTLSErrors > 0 || e.ByteCapped ||
		e.RefusedBodies > 0 || e.RefusedConnections > 0
}

// Defaults of Caps. A correct client sends about a hundred requests per scenario, creates at
// most 27 tickets and fails a handful of TLS handshakes: each cap is hundreds of times that, and
// is there so a client in a tight loop cannot exhaust the mock's memory or the grader's read cap.
const (
	// DefaultMaxRequests caps the requests one journal keeps.
	DefaultMaxRequests = 50_000
	// DefaultMaxTickets caps the ticket lines (a ticket is at most 1 MiB).
	DefaultMaxTickets = 10_000
	// DefaultMaxTLSErrors caps the tls_error lines.
	DefaultMaxTLSErrors = 10_000
	// DefaultMaxBytes caps what is kept and streamed, start line included: 48 MiB leaves 16 MiB
	// below the sandbox's 64 MiB read cap, so the end line always arrives whole. A correct
	// client's journal is about 200 KB.
	DefaultMaxBytes = 48 << 20
)

// Caps bound one journal; zero fields take the defaults.
type Caps struct {
	MaxRequests, MaxTickets, MaxTLSErrors, MaxNoise int
	MaxBytes                                        int64
}

func (c Caps) withDefaults() Caps {
	if c.MaxRequests <= 0 {
		c.MaxRequests = DefaultMaxRequests
	}
	if c.MaxTickets <= 0 {
		c.MaxTickets = DefaultMaxTickets
	}
	if c.MaxTLSErrors <= 0 {
		c.MaxTLSErrors = DefaultMaxTLSErrors
	}
	if c.MaxNoise <= 0 {
		c.MaxNoise = DefaultMaxNoise
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	return c
}

// Journal collects records in memory and, when given a sink, streams them as JSON Lines. What
// it keeps and what it streams are the same lines, under the same caps (Caps). It is safe for
// concurrent use.
type Journal struct {
	mu        sync.Mutex
	clock     Clock
	start     Start
	caps      Caps
	requests  []Request
	tickets   []Ticket
	tlsErrors []TLSError
	noise     []Noise
	// bytes is the size of the lines kept so far; byteCapped is set once a line did not fit.
	bytes      int64
	byteCapped bool
	end        End // the counters of the end line (Kind, AtUS and Requests are filled in last)
	sink       io.Writer
	sinkErr    error
	ended      bool
}

// New starts a journal with the default caps. sink may be nil.
func New(clock Clock, start Start, sink io.Writer) *Journal {
	return NewCapped(clock, start, sink, Caps{})
}

// NewCapped starts a journal with caps (zero fields take the defaults). sink may be nil.
func NewCapped(clock Clock, start Start, sink io.Writer, caps Caps) *Journal {
	start.Kind = KindStart
	start.Wall = clock.Started().UTC()
	j := &Journal{clock: clock, start: start, caps: caps.withDefaults(), sink: sink}
	line, err := encodeLine(start)
	if err != nil {
		j.sinkErr = err
		return j
	}
	j.bytes = int64(len(line))
	j.write(line)
	return j
}

// Clock is the journal's clock.
func (j *Journal) Clock() Clock { return j.clock }

// encodeLine renders one record as a JSON line, HTML characters unescaped.
func encodeLine(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode journal line: %w", err)
	}
	return b.Bytes(), nil
}

// write streams a line that was admitted (j.mu held).
func (j *Journal) write(line []byte) {
	if j.sink == nil || j.sinkErr != nil || j.ended {
		return
	}
	if _, err := j.sink.Write(line); err != nil {
		j.sinkErr = fmt.Errorf("write journal: %w", err)
	}
}

// admit decides whether a line may be kept (j.mu held): its kind is under its count cap and it
// fits in the bytes left. Once a line does not fit, nothing more is admitted, so the journal is
// always a prefix in time of what happened.
func (j *Journal) admit(line []byte, underCount bool) bool {
	if line == nil || !underCount || j.byteCapped {
		return false
	}
	if j.bytes+int64(len(line)) > j.caps.MaxBytes {
		j.byteCapped = true
		return false
	}
	j.bytes += int64(len(line))
	return true
}

// encode renders a record outside the lock; an encoding failure is kept as the sink's error.
func (j *Journal) encode(v any) []byte {
	line, err := encodeLine(v)
	if err != nil {
		j.mu.Lock()
		if j.sinkErr == nil {
			j.sinkErr = err
		}
		j.mu.Unlock()
	}
	return line
}

// AddRequest records a finished request; past the caps it is only counted.
func (j *Journal) AddRequest(r Request) {
	r.Kind = KindRequest
	line := j.encode(r)
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.admit(line, len(j.requests) < j.caps.MaxRequests) {
		j.end.Dropped++
		return
	}
	j.requests = append(j.requests, r)
	j.write(line)
}

// AddTicket records a created ticket; past the caps it is only counted.
func (j *Journal) AddTicket(t Ticket) {
	t.Kind = KindTicket
	line := j.encode(t)
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.admit(line, len(j.tickets) < j.caps.MaxTickets) {
		j.end.DroppedTickets++
		return
	}
	j.tickets = append(j.tickets, t)
	j.write(line)
}

// AddTLSError records a failed handshake; past the caps it is only counted.
func (j *Journal) AddTLSError(e TLSError) {
	e.Kind = KindTLSError
	line := j.encode(e)
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.admit(line, len(j.tlsErrors) < j.caps.MaxTLSErrors) {
		j.end.DroppedTLSErrors++
		return
	}
	j.tlsErrors = append(j.tlsErrors, e)
	j.write(line)
}

// DropRequest counts a request the mock refused unserved, past its request cap.
func (j *Journal) DropRequest() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.end.Dropped++
}

// RefuseConnection counts a connection the mock closed unserved, at its connection cap.
func (j *Journal) RefuseConnection() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.end.RefusedConnections++
}

// RefuseBody counts a request answered without its body being read; declared is the body's
// Content-Length (negative when unknown).
func (j *Journal) RefuseBody(declared int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.end.RefusedBodies++
	j.end.RefusedBodyBytes += max(declared, 0)
}

// CountBody adds n request-body bytes read.
func (j *Journal) CountBody(n int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.end.BodyBytes += n
}

// Finish writes the end line; later records are still kept in memory (under the caps) but not
// streamed. The end line is written whatever the caps: MaxBytes leaves room for it. It returns
// the first error met while writing the sink.
func (j *Journal) Finish() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.ended {
		if line, err := encodeLine(j.endLocked()); err != nil {
			j.sinkErr = cmp.Or(j.sinkErr, err)
		} else {
			j.write(line)
		}
		j.ended = true
	}
	return j.sinkErr
}

// End is the end line as it would be written now.
func (j *Journal) End() End {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.endLocked()
}

func (j *Journal) endLocked() End {
	e := j.end
	e.Kind, e.AtUS, e.Requests = KindEnd, j.clock.Now(), len(j.requests)
	e.Bytes, e.ByteCapped = j.bytes, j.byteCapped
	return e
}

// Snapshot returns a copy of everything recorded so far, requests in arrival order.
func (j *Journal) Snapshot() *Log {
	j.mu.Lock()
	defer j.mu.Unlock()
	end := j.endLocked()
	l := &Log{
		Start:     j.start,
		Requests:  append([]Request(nil), j.requests...),
		Tickets:   append([]Ticket(nil), j.tickets...),
		TLSErrors: append([]TLSError(nil), j.tlsErrors...),
		Noise:     append([]Noise(nil), j.noise...),
		End:       &end,
	}
	l.sort()
	return l
}

// WriteTo writes the whole journal as JSON Lines.
func (j *Journal) WriteTo(w io.Writer) (int64, error) {
	return j.Snapshot().WriteTo(w)
}
