// Package faults turns a plan's fault into HTTP middleware: func(http.Handler) http.Handler,
// where the wrapped handler is the real API. Response-level faults answer instead of it;
// connection-level faults (reset, empty, hang) hijack the connection; "commit" faults run the
// real handler first, so the work is done and only the response is lost. One fault a file.
package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/itsm-grader/grader/harness/exchange"
	"github.com/itsm-grader/grader/harness/plan"
)

// Middleware wraps the real handler.
type Middleware func(http.Handler) http.Handler

// Options are the run-wide settings faults need.
type Options struct {
	// HangCap bounds every hang.
	HangCap time.Duration
	// Now gives the wall-clock time (for HTTP-date Retry-After); nil means time.Now.
	Now func() time.Time
}

// ErrShutdown is the cancellation cause the mock uses when it closes: hangs then record that
// the shutdown, not the client, ended them.
var ErrShutdown = errors.New("mock shutting down")

type constructor func(f *plan.Fault, o Options) Middleware

// registry maps each fault kind to its constructor.
var registry = map[string]constructor{
	plan.KindStatus:      statusFault,
	plan.KindHang:        hangFault,
	plan.KindReset:       resetFault,
	plan.KindEmpty:       emptyFault,
	plan.KindDribble:     dribbleFault,
	plan.KindMalformed:   malformedFault,
	plan.KindCommitHang:  commitHangFault,
	plan.KindCommitReset: commitResetFault,
	plan.KindSlow:        slowFault,
}

// Build returns the middleware for f; a nil fault passes requests through.
func Build(f *plan.Fault, o Options) (Middleware, error) {
	if f == nil {
		return func(h http.Handler) http.Handler { return h }, nil
	}
	c, ok := registry[f.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HangCap <= 0 {
		o.HangCap = plan.DefaultHangCap
	}
	return c(f, o), nil
}

// hijack takes the connection over from net/http.
func hijack(w http.ResponseWriter) (net.Conn, error) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("hijack connection: %w", err)
	}
	return conn, nil
}

// rawConn unwraps TLS and tracking layers down to the socket.
func rawConn(c net.Conn) net.Conn {
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return c
		}
		c = u.NetConn()
	}
}

// closeConn closes the socket under c; with reset it sets SO_LINGER 0 first so the peer gets a
// TCP RST instead of a FIN (as WireMock and Toxiproxy do).
func closeConn(c net.Conn, reset bool) {
	raw := rawConn(c)
	if tcp, ok := raw.(*net.TCPConn); ok && reset {
		_ = tcp.SetLinger(0)
	}
	_ = raw.Close()
}

// hold waits until the client goes away, the mock shuts down or the cap passes, and records
// which. It reports whether the connection is still open (the cap ended it).
func hold(ctx context.Context, ex *exchange.Exchange, limit time.Duration) bool {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-ctx.Done():
		if errors.Is(context.Cause(ctx), ErrShutdown) {
			ex.End(exchange.OutcomeNone, exchange.EndedByShutdown)
			return true
		}
		ex.End(exchange.OutcomeNone, exchange.EndedByClient)
		return false
	case <-t.C:
		ex.End(exchange.OutcomeEmpty, exchange.EndedByCap)
		return true
	}
}
