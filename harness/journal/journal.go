// Package journal records what the mock ITSM observed: every request, every ticket created and
// every failed TLS handshake. The journal is the ground truth of grading: times come from one
// monotonic clock started with the mock, secrets are never stored (only which token a request
// carried), and it is written as JSON Lines that Read parses back strictly.
package journal

import (
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

// End is the last line of a journal.
type End struct {
	Kind     string `json:"kind"`
	AtUS     int64  `json:"at_us"`
	Requests int    `json:"requests"`
	Dropped  int    `json:"dropped"`
}

// DefaultMaxRequests caps how many requests one journal keeps: a client in a tight loop must not
// exhaust the mock's memory. Requests past the cap are counted in End.Dropped.
const DefaultMaxRequests = 50_000

// Journal collects records in memory and, when given a sink, streams them as JSON Lines.
// It is safe for concurrent use.
type Journal struct {
	mu          sync.Mutex
	clock       Clock
	start       Start
	requests    []Request
	tickets     []Ticket
	tlsErrors   []TLSError
	dropped     int
	maxRequests int
	sink        *json.Encoder
	sinkErr     error
	ended       bool
}

// New starts a journal. sink may be nil.
func New(clock Clock, start Start, sink io.Writer) *Journal {
	start.Kind = KindStart
	start.Wall = clock.Started().UTC()
	j := &Journal{clock: clock, start: start, maxRequests: DefaultMaxRequests}
	if sink != nil {
		j.sink = json.NewEncoder(sink)
		j.sink.SetEscapeHTML(false)
		j.emit(start)
	}
	return j
}

// Clock is the journal's clock.
func (j *Journal) Clock() Clock { return j.clock }

func (j *Journal) emit(v any) {
	if j.sink == nil || j.sinkErr != nil {
		return
	}
	if err := j.sink.Encode(v); err != nil {
		j.sinkErr = fmt.Errorf("write journal: %w", err)
	}
}

// AddRequest records a finished request.
func (j *Journal) AddRequest(r Request) {
	r.Kind = KindRequest
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.requests) >= j.maxRequests {
		j.dropped++
		return
	}
	j.requests = append(j.requests, r)
	j.emit(r)
}

// AddTicket records a created ticket.
func (j *Journal) AddTicket(t Ticket) {
	t.Kind = KindTicket
	j.mu.Lock()
	defer j.mu.Unlock()
	j.tickets = append(j.tickets, t)
	j.emit(t)
}

// AddTLSError records a failed handshake.
func (j *Journal) AddTLSError(e TLSError) {
	e.Kind = KindTLSError
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.tlsErrors) >= j.maxRequests {
		j.dropped++
		return
	}
	j.tlsErrors = append(j.tlsErrors, e)
	j.emit(e)
}

// Finish writes the end line; later records are still kept in memory but not streamed.
// It returns the first error met while writing the sink.
func (j *Journal) Finish() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.ended {
		j.emit(j.endLocked())
		j.ended = true
		if j.sink != nil && j.sinkErr == nil {
			j.sink = nil
		}
	}
	return j.sinkErr
}

func (j *Journal) endLocked() End {
	return End{Kind: KindEnd, AtUS: j.clock.Now(), Requests: len(j.requests), Dropped: j.dropped}
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
		End:       &end,
	}
	l.sort()
	return l
}

// WriteTo writes the whole journal as JSON Lines.
func (j *Journal) WriteTo(w io.Writer) (int64, error) {
	return j.Snapshot().WriteTo(w)
}
