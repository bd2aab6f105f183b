package faults

import (
	"net/http"
	"strconv"

	"github.com/itsm-grader/grader/harness/plan"
	"github.com/itsm-grader/grader/harness/problem"
)

// statusFault answers with an error status instead of the API, with Connection: close so that
// nothing of the fault lingers on a kept-alive connection.
func statusFault(f *plan.Fault, o Options) Middleware {
	return func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Connection", "close")
			switch {
			case f.RetryAfterSeconds != nil:
				h.Set("Retry-After", strconv.Itoa(*f.RetryAfterSeconds))
			case f.RetryAfterDate != 0:
				// HTTP dates have one-second resolution: round up so the client is never told
				// less than the plan says.
				at := o.Now().Add(f.RetryAfterDate.D()).Truncate(1e9).Add(1e9)
				h.Set("Retry-After", at.UTC().Format(http.TimeFormat))
			}
			kind, detail := describe(f.Status)
			if f.Status == http.StatusUnauthorized {
				h.Set("WWW-Authenticate", `Bearer realm="itsm"`)
			}
			problem.Write(w, f.Status, kind, detail, nil)
		})
	}
}

func describe(status int) (kind, detail string) {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate-limited", "Too many requests; slow down."
	case status == http.StatusUnauthorized:
		return "unauthorized", "The credentials were not accepted."
	case status == http.StatusBadRequest:
		return "rejected", "The target rejected this ticket."
	case status == http.StatusUnprocessableEntity:
		return "unprocessable", "The target cannot process this ticket."
	case status >= 500:
		return "unavailable", "The service is temporarily unable to handle the request."
	default:
		return "error", http.StatusText(status)
	}
}
