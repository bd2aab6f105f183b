package faults

import (
	"net/http"
	"strconv"

	"github.com/itsm-grader/grader/harness/plan"
)

// garbage follows half the real body: the response is well-formed HTTP whose JSON is broken.
// Fixed bytes, like WireMock's, so runs are reproducible.
const garbage = "\x00lskdu018973t09sylgasjkfg1][]'./.sdlv"

// malformedFault lets the real handler work (on the target the ticket is created), then sends
// its status and headers with a body that is not JSON.
func malformedFault(_ *plan.Fault, _ Options) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := run(next, r)
			real := c.body.Bytes()
			body := append(append([]byte{}, real[:len(real)/2]...), garbage...)
			c.header.Set("Content-Length", strconv.Itoa(len(body)))
			c.sendHeader(w)
			_, _ = w.Write(body)
		})
	}
}
