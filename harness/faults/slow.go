package faults

import (
	"net/http"

	"github.com/itsm-grader/grader/harness/exchange"
	"github.com/itsm-grader/grader/harness/plan"
)

// slowFault asks the API to take Delay over its work. The API applies it after it has claimed
// the request's idempotency key, so a retry meanwhile meets a key in flight (409), and it
// finishes the work even when the client has gone.
func slowFault(f *plan.Fault, _ Options) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			exchange.From(r.Context()).Delay = f.Delay.D()
			next.ServeHTTP(w, r)
		})
	}
}
