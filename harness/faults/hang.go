package faults

import (
	"net/http"

	"github.com/itsm-grader/grader/harness/exchange"
	"github.com/itsm-grader/grader/harness/plan"
)

// hangFault never answers: it holds the request until the client gives up or the hang cap
// passes, then closes the connection without a response.
func hangFault(_ *plan.Fault, o Options) Middleware {
	return func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hangThenClose(w, r, o)
		})
	}
}

func hangThenClose(w http.ResponseWriter, r *http.Request, o Options) {
	ex := exchange.From(r.Context())
	if open := hold(r.Context(), ex, o.HangCap); !open {
		return
	}
	if conn, err := hijack(w); err == nil {
		closeConn(conn, false)
	}
}
