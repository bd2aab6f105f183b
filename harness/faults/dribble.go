package faults

import (
	"net/http"
	"strconv"
	"time"

	"github.com/itsm-grader/grader/harness/exchange"
	"github.com/itsm-grader/grader/harness/plan"
)

// dribbleChunks is how many pieces a dribbled body is sent in.
const dribbleChunks = 10

// dribbleFault sends the real response with its body spread over the fault's duration: the
// status arrives at once, the last byte only at the end (WireMock's chunked dribble).
func dribbleFault(f *plan.Fault, _ Options) Middleware {
	total := f.DribbleDuration()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := run(next, r)
			body := c.body.Bytes()
			c.header.Set("Content-Length", strconv.Itoa(len(body)))
			c.sendHeader(w)
			rc := http.NewResponseController(w)
			_ = rc.Flush()
			ex := exchange.From(r.Context())
			step := total / dribbleChunks
			t := time.NewTicker(step)
			defer t.Stop()
			for i := range dribbleChunks {
				select {
				case <-r.Context().Done():
					ex.End(exchange.OutcomeTruncated, exchange.EndedByClient)
					return
				case <-t.C:
				}
				lo, hi := len(body)*i/dribbleChunks, len(body)*(i+1)/dribbleChunks
				if _, err := w.Write(body[lo:hi]); err != nil {
					ex.End(exchange.OutcomeTruncated, exchange.EndedByClient)
					return
				}
				_ = rc.Flush()
			}
		})
	}
}
