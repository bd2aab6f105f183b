package mock

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/itsm-grader/grader/harness/journal"
)

// metrics are the mock's Prometheus series, on a registry of its own (never the global one, so
// several mocks can run in one process).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	tlsFails *prometheus.CounterVec
	tickets  prometheus.Counter
	// What the caps (Caps) refused: connections by listener, requests by reason, and body
	// bytes read or refused unread.
	refusedConns    *prometheus.CounterVec
	refusedRequests *prometheus.CounterVec
	bodyBytes       *prometheus.CounterVec
	// stalls counts the noise probe's stalls (NoiseProbe).
	stalls prometheus.Counter
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
		refusedConns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itsm_mock_connections_refused_total",
			Help: "Connections reset unserved at the run's connection cap, by listener.",
		}, []string{"listener"}),
		refusedRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itsm_mock_requests_refused_total",
			Help: "Requests answered 503 unserved, by cap: request_cap (requests per run) or body_budget (body bytes per run, or held at once).",
		}, []string{"reason"}),
		bodyBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itsm_mock_request_body_bytes_total",
			Help: "Request-body bytes, by outcome: read, or refused unread (as declared by Content-Length).",
		}, []string{"outcome"}),
		stalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "itsm_mock_noise_stalls_total",
			Help: "Wakes of the scheduling probe at least its threshold late: the machine's noise.",
		}),
	}
	m.registry.MustRegister(m.requests, m.tlsFails, m.tickets, m.refusedConns, m.refusedRequests, m.bodyBytes, m.stalls)
	return m
}

// watch exports the journal's own caps: lines dropped by kind and bytes kept.
func (m *metrics) watch(j *journal.Journal) {
	dropped := map[string]func(journal.End) int{
		journal.KindRequest:  func(e journal.End) int { return e.Dropped },
		journal.KindTicket:   func(e journal.End) int { return e.DroppedTickets },
		journal.KindTLSError: func(e journal.End) int { return e.DroppedTLSErrors },
		journal.KindNoise:    func(e journal.End) int { return e.DroppedNoise },
	}
	for kind, count := range dropped {
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "itsm_mock_journal_dropped_total",
			Help:        "Journal records counted but not kept, past the journal's line or byte caps, by kind.",
			ConstLabels: prometheus.Labels{"kind": kind},
		}, func() float64 { return float64(count(j.End())) }))
	}
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "itsm_mock_journal_bytes",
		Help: "Bytes of journal kept (and streamed), under the journal's byte cap.",
	}, func() float64 { return float64(j.End().Bytes) }))
}

func (m *metrics) request(endpoint string, status int, fault string) {
	if fault == "" {
		fault = "none"
	}
	m.requests.WithLabelValues(endpoint, strconv.Itoa(status), fault).Inc()
}
