package faults

import (
	"net/http"

	"github.com/itsm-grader/grader/harness/plan"
)

// commitHangFault creates the ticket, then never answers: the lost response that only an
// idempotent retry survives without a duplicate.
func commitHangFault(_ *plan.Fault, o Options) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			run(next, r)
			hangThenClose(w, r, o)
		})
	}
}

// commitResetFault creates the ticket, then resets the connection.
func commitResetFault(_ *plan.Fault, _ Options) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			run(next, r)
			closeWithout(w, r, true)
		})
	}
}
