// Package exchange carries what one request/response exchange learned on its way through the
// mock: the recorder fills in what it parsed, the API handler what it did (a ticket created, a
// replay), a fault how the exchange ended. The recorder writes the journal line from it.
package exchange

import (
	"context"
	"sync"
	"time"

	"github.com/itsm-grader/grader/harness/journal"
)

// Outcomes: what the client received.
const (
	OutcomeResponse  = "response"
	OutcomeReset     = "reset"
	OutcomeEmpty     = "empty"
	OutcomeTruncated = "truncated"
	OutcomeNone      = "none"
)

// Who ended an exchange.
const (
	EndedByServer   = "server"
	EndedByClient   = "client"
	EndedByCap      = "cap"
	EndedByShutdown = "shutdown"
)

// Exchange is the shared record of one request. Fields set before the handler runs are
// read-only afterwards; the rest are set through methods.
type Exchange struct {
	Seq      int64  // the request's journal sequence number
	Scheme   string // "http" or "https"
	Body     []byte // the request body, read in full (capped)
	TooLarge bool   // the body exceeded the cap
	// Delay is a processing delay a slow fault asks the API to apply.
	Delay time.Duration

	mu         sync.Mutex
	outcome    string
	endedBy    string
	created    string
	replayed   bool
	violations []journal.Violation
}

type ctxKey struct{}

// With attaches e to ctx.
func With(ctx context.Context, e *Exchange) context.Context {
	return context.WithValue(ctx, ctxKey{}, e)
}

// From returns the exchange attached to ctx, or a fresh one that nobody reads (so handlers can
// run outside the recorder, as in unit tests).
func From(ctx context.Context) *Exchange {
	if e, ok := ctx.Value(ctxKey{}).(*Exchange); ok {
		return e
	}
	return &Exchange{Scheme: "http"}
}

// End records how the exchange ended; the first call wins.
func (e *Exchange) End(outcome, endedBy string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.outcome == "" {
		e.outcome, e.endedBy = outcome, endedBy
	}
}

// Ending returns what End recorded ("" when nothing did).
func (e *Exchange) Ending() (outcome, endedBy string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.outcome, e.endedBy
}

// Created records that this request created a ticket.
func (e *Exchange) Created(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.created = id
}

// Replayed records that this request was answered from the idempotency store.
func (e *Exchange) Replayed() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.replayed = true
}

// Violate records contract violations.
func (e *Exchange) Violate(v ...journal.Violation) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.violations = append(e.violations, v...)
}

// Result returns what the handlers recorded.
func (e *Exchange) Result() (created string, replayed bool, violations []journal.Violation) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.created, e.replayed, append([]journal.Violation(nil), e.violations...)
}
