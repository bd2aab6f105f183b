package mock

import (
	"net/http"
	"sync/atomic"

	"github.com/itsm-grader/grader/harness/itsm"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/problem"
)

// Caps bound what one run of the mock takes from a client, so that a client flooding it leaves
// a journal that says so instead of a mock that died. A correct client has at most 4 requests in
// flight (the brief) and sends about a hundred requests of about a kilobyte per scenario: every
// default is hundreds of times that. Zero fields take the defaults.
type Caps struct {
	// Connections is how many connections may be open at once, over all three listeners; past
	// it a new connection is accepted and closed at once (a reset), never queued: a queued
	// connection would look like a hang to the client. Default 128: Node's fetch opens one
	// connection per request in flight and keeps a few idle ones, so a correct client holds
	// under 10.
	Connections int
	// Requests is how many requests one run serves; past it a request is answered 503 unread
	// and counted as dropped. Default journal.DefaultMaxRequests: every request served is then
	// journaled, and the state the mock keeps per request (attempt counters, idempotency keys)
	// stays bounded.
	Requests int
	// BodyBytes is how many request-body bytes one run reads; past it a request with a body is
	// answered 503 with its body unread. Default 256 MiB: a correct client sends about 100 KB.
	BodyBytes int64
	// BodiesInFlight is how many body bytes the mock holds at once (a body is held until its
	// request is journaled); past it, as for BodyBytes. Default 16 MiB, sized on memory
	// (measured in the sandbox, grader/runner's TestUploadFloodsLeaveTheMockStanding): without
	// it, 1,000 concurrent 1 MiB tickets took the mock container to 472 MiB of its 512 MiB
	// (128 bodies handled at once, about 3.5 MiB each: read buffer, leak scan, schema
	// validation, canonical digest, journal line); with it, to 146-152 MiB. A correct client
	// holds about 4 KB.
	BodiesInFlight int64
	// Journal caps the journal's lines and bytes (journal.Caps; its defaults apply).
	Journal journal.Caps
}

// Default caps.
const (
	DefaultConnections    = 128
	DefaultBodyBytes      = 256 << 20
	DefaultBodiesInFlight = 16 << 20
)

func (c Caps) withDefaults() Caps {
	if c.Connections <= 0 {
		c.Connections = DefaultConnections
	}
	if c.Requests <= 0 {
		c.Requests = journal.DefaultMaxRequests
	}
	if c.BodyBytes <= 0 {
		c.BodyBytes = DefaultBodyBytes
	}
	if c.BodiesInFlight <= 0 {
		c.BodiesInFlight = DefaultBodiesInFlight
	}
	return c
}

// bodyBudget holds what is left of the run's body bytes and of the bytes that may be held at
// once. Both are reserved before a body is read, so neither is ever exceeded, whatever many
// requests arrive together.
type bodyBudget struct {
	total, held atomic.Int64
}

func newBodyBudget(c Caps) *bodyBudget {
	b := &bodyBudget{}
	b.total.Store(c.BodyBytes)
	b.held.Store(c.BodiesInFlight)
	return b
}

// reserve takes n bytes of both budgets, or nothing.
func (b *bodyBudget) reserve(n int64) bool {
	if b.held.Add(-n) < 0 {
		b.held.Add(n)
		return false
	}
	if b.total.Add(-n) < 0 {
		b.total.Add(n)
		b.held.Add(n)
		return false
	}
	return true
}

// settle gives back what was reserved but not read, of both budgets.
func (b *bodyBudget) settle(reserved, read int64) {
	b.total.Add(reserved - read)
	b.held.Add(reserved - read)
}

// release gives back the bytes held once the request is done.
func (b *bodyBudget) release(read int64) { b.held.Add(read) }

// bodyReservation is how many bytes to reserve for a request's body: its declared length, or
// the target's cap (plus the byte that tells a body is too large) when it is unknown or larger.
func bodyReservation(r *http.Request) int64 {
	if r.ContentLength >= 0 && r.ContentLength <= itsm.MaxBody {
		return r.ContentLength
	}
	return itsm.MaxBody + 1
}

// Reasons a request is refused unserved (the metrics' label).
const (
	refusedRequestCap = "request_cap"
	refusedBodyBudget = "body_budget"
)

// refuse answers 503 and closes the connection, without reading the body.
func refuse(w http.ResponseWriter, detail string) {
	w.Header().Set("Connection", "close")
	problem.Write(w, http.StatusServiceUnavailable, "flooded", detail, nil)
}
