package faults

import (
	"net/http"

	"github.com/itsm-grader/grader/harness/exchange"
	"github.com/itsm-grader/grader/harness/plan"
)

// resetFault answers with a TCP reset.
func resetFault(_ *plan.Fault, _ Options) Middleware {
	return func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			closeWithout(w, r, true)
		})
	}
}

func closeWithout(w http.ResponseWriter, r *http.Request, reset bool) {
	conn, err := hijack(w)
	if err != nil {
		return
	}
	outcome := exchange.OutcomeEmpty
	if reset {
		outcome = exchange.OutcomeReset
	}
	exchange.From(r.Context()).End(outcome, exchange.EndedByServer)
	closeConn(conn, reset)
}
