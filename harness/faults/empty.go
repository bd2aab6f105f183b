package faults

import (
	"net/http"

	"github.com/itsm-grader/grader/harness/plan"
)

// emptyFault closes the connection without writing a byte (curl's "Empty reply from server").
func emptyFault(_ *plan.Fault, _ Options) Middleware {
	return func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			closeWithout(w, r, false)
		})
	}
}
