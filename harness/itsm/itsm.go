// Package itsm serves the two APIs of the exercise: the source, shaped like ServiceNow's Table
// API (GET /api/now/table/incident, offset pagination with Link and X-Total-Count), and the
// target (POST /v1/tickets, JSON Schema validation and Idempotency-Key semantics). It knows
// nothing of faults or journals beyond recording what it did in the request's exchange.
package itsm

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/itsm-grader/grader/harness/idempotency"
	"github.com/itsm-grader/grader/harness/journal"
)

// Paths of the two APIs.
const (
	SourcePath = "/api/now/table/incident"
	TargetPath = "/v1/tickets"
)

// MaxPageSize is the largest page the source serves.
const MaxPageSize = 10

// MaxBody is the largest target body accepted.
const MaxBody = 1 << 20

// TicketValidator checks a ticket body against the target schema.
type TicketValidator interface {
	Ticket(body []byte) []journal.Violation
}

// TicketRecorder is told of every ticket created.
type TicketRecorder interface {
	AddTicket(journal.Ticket)
}

// Config is what the APIs serve and check.
type Config struct {
	Rows        []json.RawMessage // the source table, in order
	SourceToken string
	TargetToken string
	Validator   TicketValidator
	Recorder    TicketRecorder
	// Now is the journal clock, in microseconds; nil records 0.
	Now func() int64
}

// API serves both APIs. It is safe for concurrent use.
type API struct {
	cfg   Config
	store *idempotency.Store

	mu     sync.Mutex
	nextID int
}

// New makes the APIs.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = func() int64 { return 0 }
	}
	return &API{cfg: cfg, store: idempotency.NewStore()}
}

// Handler routes to the source and target; anything else is 404 or 405.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+SourcePath, a.serveSource)
	mux.HandleFunc("POST "+TargetPath, a.serveTarget)
	return mux
}

// pause waits d unless the mock shuts down; the client going away does not stop it (a server
// finishes work it has started).
func pause(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-context.WithoutCancel(ctx).Done():
	}
}
