package mock

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkArrivalLag measures how far the journal's arrival timestamp lies after the moment a
// Go client sends the request, both read on the journal's own monotonic clock. It reports the
// median, 99th percentile and maximum lag, for a new connection per request and for a
// kept-alive one. The README quotes the figures.
func BenchmarkArrivalLag(b *testing.B) {
	for _, keepAlive := range []bool{false, true} {
		name := map[bool]string{false: "new-connection", true: "keep-alive"}[keepAlive]
		b.Run(name, func(b *testing.B) {
			srv := startMock(b, noFaults)
			source, _ := srv.Tokens()
			c := &http.Client{Transport: &http.Transport{DisableKeepAlives: !keepAlive}}
			sent := make([]int64, 0, b.N)
			b.ResetTimer()
			for range b.N {
				req, _ := http.NewRequest(http.MethodGet, srv.URL(HTTP)+"/api/now/table/incident?sysparm_limit=1", nil)
				req.Header.Set("Authorization", "Bearer "+source)
				sent = append(sent, srv.Clock().Now())
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			b.StopTimer()
			l := srv.Journal()
			for len(l.Requests) < b.N {
				time.Sleep(time.Millisecond)
				l = srv.Journal()
			}
			lags := make([]float64, b.N)
			for i, r := range l.Requests {
				lags[i] = float64(r.ArrivalUS - sent[i])
			}
			slices.Sort(lags)
			b.ReportMetric(lags[len(lags)/2], "µs-lag-p50")
			b.ReportMetric(lags[len(lags)*99/100], "µs-lag-p99")
			b.ReportMetric(lags[len(lags)-1], "µs-lag-max")
		})
	}
}

// TestArrivalIsAfterSendAndBeforeResponse pins the clock's ordering (not its speed): a request
// is journaled as arriving after the client sent it and before the client had its answer.
func TestArrivalIsAfterSendAndBeforeResponse(t *testing.T) {
	t.Parallel()
	srv := startMock(t, noFaults)
	_, target := srv.Tokens()
	for i := range 5 {
		req, err := http.NewRequest(http.MethodPost, srv.URL(HTTP)+"/v1/tickets", bytes.NewReader(golden(t, "INC0010001")))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+target)
		req.Header.Set("Content-Type", "application/json")
		before := srv.Clock().Now()
		resp, err := client(5 * time.Second).Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		after := srv.Clock().Now()
		l := journaled(t, srv, i+1) // a request is journaled once its handler returns
		r := l.Requests[i]
		require.GreaterOrEqual(t, r.ArrivalUS, before)
		require.LessOrEqual(t, *r.RespStartUS, after)
		require.LessOrEqual(t, r.ArrivalUS, *r.RespStartUS)
	}
}
