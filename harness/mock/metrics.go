package mock

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the mock's Prometheus series, on a registry of its own (never the global one, so
// several mocks can run in one process).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	tlsFails *prometheus.CounterVec
	tickets  prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itsm_mock_requests_total",
			Help: "Requests the mock ITSM received, by endpoint, status answered (0: none) and fault applied.",
		}, []string{"endpoint", "status", "fault"}),
		tlsFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itsm_mock_tls_handshake_failures_total",
			Help: "TLS handshakes that failed, by listener.",
		}, []string{"listener"}),
		tickets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "itsm_mock_tickets_created_total",
			Help: "Tickets the mock target created.",
		}),
	}
	m.registry.MustRegister(m.requests, m.tlsFails, m.tickets)
	return m
}

func (m *metrics) request(endpoint string, status int, fault string) {
	if fault == "" {
		fault = "none"
	}
	m.requests.WithLabelValues(endpoint, strconv.Itoa(status), fault).Inc()
}
