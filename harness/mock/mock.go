// Package mock runs the mock ITSM: the source and target APIs behind a fault plan, on three
// loopback listeners (plain HTTP, HTTPS with a CA the client is given, HTTPS with a CA it is
// not), journaling every exchange. It is shaped like httptest.Server: Start listens on free
// ports, URL tells where, Close waits for in-flight requests and finishes the journal.
package mock

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/itsm-grader/grader/harness/contract"
	"github.com/itsm-grader/grader/harness/faults"
	"github.com/itsm-grader/grader/harness/itsm"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/plan"
	"github.com/itsm-grader/grader/harness/secrets"
	"github.com/itsm-grader/grader/harness/tlsca"
)

// Listener names.
const (
	HTTP      = "http"
	HTTPS     = "https"
	Untrusted = "untrusted"
)

// Config says what a mock serves.
type Config struct {
	Plan *plan.Plan
	// Seed overrides the plan's seed when non-nil.
	Seed *int64
	// Rows is the source table, in order (the plan may serve only its first rows).
	Rows []json.RawMessage
	// OpenAPI and TicketSchema are the contract documents.
	OpenAPI, TicketSchema []byte
	// SourceToken and TargetToken are generated when empty.
	SourceToken, TargetToken string
	// Host is the address to listen on; default 127.0.0.1. Ports are chosen freely when 0.
	Host                               string
	HTTPPort, HTTPSPort, UntrustedPort int
	// Trusted and Untrusted are the TLS authorities of the two HTTPS listeners; made fresh when
	// nil (a grader that runs the mock in a container makes them itself, to hand the CA to the
	// client).
	Trusted, Untrusted *tlsca.Authority
	// JournalSink receives the journal as JSON Lines while it is written; may be nil.
	JournalSink io.Writer
	// Caps bound what one run takes from a client (zero fields take the defaults).
	Caps Caps
	// Noise configures the scheduling probe that journals the machine's noise during the run
	// (on by default).
	Noise  NoiseProbe
	Logger *slog.Logger
}

// Server is a running mock.
type Server struct {
	cfg       Config
	plan      *plan.Plan
	seed      int64
	clock     journal.Clock
	journal   *journal.Journal
	tokens    *secrets.Tokens
	validator *contract.Validator
	metrics   *metrics
	faultOpts faults.Options
	caps      Caps
	bodies    *bodyBudget
	noise     NoiseProbe
	probe     *noiseProbe
	log       *slog.Logger

	trusted   *tlsca.Authority
	urls      map[string]string
	srv       *http.Server
	cancel    context.CancelCauseFunc
	seq       atomic.Int64
	connIDs   atomic.Int64
	openConns atomic.Int64
	attempts  attempts

	serving   sync.WaitGroup
	inflight  sync.WaitGroup // handlers running, hijacked ones included
	closeOnce sync.Once
	closeErr  error
}

// Start validates the configuration, listens and serves until Close.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Plan == nil {
		return nil, errors.New("mock needs a plan")
	}
	if err := cfg.Plan.Validate(); err != nil {
		return nil, err
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	validator, err := contract.New(ctx, cfg.OpenAPI, cfg.TicketSchema)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		plan:      cfg.Plan,
		seed:      cfg.Plan.Seed,
		clock:     journal.NewClock(),
		tokens:    secrets.New(cfg.SourceToken, cfg.TargetToken),
		validator: validator,
		metrics:   newMetrics(),
		caps:      cfg.Caps.withDefaults(),
		noise:     cfg.Noise.withDefaults(),
		log:       cfg.Logger,
		urls:      map[string]string{},
	}
	s.bodies = newBodyBudget(s.caps)
	if cfg.Seed != nil {
		s.seed = *cfg.Seed
	}
	s.faultOpts = faults.Options{HangCap: cfg.Plan.HangLimit()}
	if err := s.listen(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) listen() error {
	trusted, untrusted := s.cfg.Trusted, s.cfg.Untrusted
	var err error
	if trusted == nil {
		if trusted, err = tlsca.New("ITSM mock CA"); err != nil {
			return err
		}
	}
	if untrusted == nil {
		if untrusted, err = tlsca.New("ITSM untrusted CA"); err != nil {
			return err
		}
	}
	s.trusted = trusted
	specs := []struct {
		name string
		port int
		auth *tlsca.Authority
	}{
		{HTTP, s.cfg.HTTPPort, nil},
		{HTTPS, s.cfg.HTTPSPort, trusted},
		{Untrusted, s.cfg.UntrustedPort, untrusted},
	}
	var listeners []net.Listener
	for _, sp := range specs {
		l, err := net.Listen("tcp", net.JoinHostPort(s.cfg.Host, strconv.Itoa(sp.port)))
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
			return fmt.Errorf("listen %s: %w", sp.name, err)
		}
		tl := &trackingListener{Listener: l, name: sp.name, nextID: &s.connIDs, onTLS: s.tlsFailed, clock: s.clock,
			open: &s.openConns, maxOpen: int64(s.caps.Connections), onRefuse: s.connRefused}
		scheme := "http"
		if sp.auth != nil {
			scheme = "https"
			tl.tls = &tls.Config{
				Certificates: []tls.Certificate{sp.auth.Leaf},
				NextProtos:   []string{"http/1.1"}, // HTTP/1.1 only: faults hijack connections
				MinVersion:   tls.VersionTLS12,
			}
		}
		s.urls[sp.name] = fmt.Sprintf("%s://%s", scheme, l.Addr().String())
		listeners = append(listeners, tl)
	}
	s.probe = armNoiseProbe(s.noise, s.clock)
	s.journal = journal.NewCapped(s.clock, journal.Start{Scenario: s.plan.Name, Seed: s.seed, Listeners: s.urls, Noise: s.noise.describe()},
		s.cfg.JournalSink, s.caps.Journal)
	s.metrics.watch(s.journal)
	s.probe.start(s.stalled)
	rows := s.cfg.Rows
	if n := s.plan.Records; n > 0 && n < len(rows) {
		rows = rows[:n]
	}
	api := itsm.New(itsm.Config{
		Rows:        rows,
		SourceToken: s.tokens.Source,
		TargetToken: s.tokens.Target,
		Validator:   s.validator,
		Recorder:    ticketRecorder{s},
		Now:         s.clock.Now,
	})
	base, cancel := context.WithCancelCause(context.Background())
	s.cancel = cancel
	s.srv = &http.Server{
		Handler:           s.record(api.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return base },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*trackedConn); ok {
				return context.WithValue(ctx, connKey{}, tc)
			}
			return ctx
		},
	}
	s.srv.SetKeepAlivesEnabled(true)
	for _, l := range listeners {
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("serve", "listener", l.Addr().String(), "err", err)
			}
		}()
	}
	return nil
}

type ticketRecorder struct{ s *Server }

func (t ticketRecorder) AddTicket(tk journal.Ticket) {
	t.s.journal.AddTicket(tk)
	t.s.metrics.tickets.Inc()
}

// connRefused counts a connection closed at the connection cap.
func (s *Server) connRefused(listener string) {
	s.journal.RefuseConnection()
	s.metrics.refusedConns.WithLabelValues(listener).Inc()
}

// stalled records a stall of the scheduling probe.
func (s *Server) stalled(n journal.Noise) {
	s.journal.AddNoise(n)
	s.metrics.stalls.Inc()
}

func (s *Server) tlsFailed(e journal.TLSError) {
	s.journal.AddTLSError(e)
	s.metrics.tlsFails.WithLabelValues(e.Listener).Inc()
}

// URL is the base URL of a listener (HTTP, HTTPS or Untrusted).
func (s *Server) URL(listener string) string { return s.urls[listener] }

// CACertPEM is the certificate of the CA a client should trust (HTTPS listener).
func (s *Server) CACertPEM() []byte { return s.trusted.CertPEM }

// Tokens are the run's credentials.
func (s *Server) Tokens() (source, target string) { return s.tokens.Source, s.tokens.Target }

// Seed is the seed in force.
func (s *Server) Seed() int64 { return s.seed }

// Clock is the journal's clock.
func (s *Server) Clock() journal.Clock { return s.clock }

// Journal is a snapshot of the journal so far.
func (s *Server) Journal() *journal.Log { return s.journal.Snapshot() }

// Metrics serves the Prometheus metrics.
func (s *Server) Metrics() http.Handler {
	return promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
}

// ClientEnv is what a client needs to reach this mock.
type ClientEnv struct {
	SourceURL, SourceToken, TargetURL, TargetToken string
	// NeedsCA is true when either URL is https: the client must trust CACertPEM.
	NeedsCA bool
}

// ClientEnv returns the client's settings with both APIs on the listener named by scheme
// ("http" or "https"), except where the plan sends the target elsewhere.
func (s *Server) ClientEnv(listener string) ClientEnv {
	target := listener
	if s.plan.TargetListener != "" {
		target = s.plan.TargetListener
	}
	e := ClientEnv{
		SourceURL: s.urls[listener], SourceToken: s.tokens.Source,
		TargetURL: s.urls[target], TargetToken: s.tokens.Target,
	}
	e.NeedsCA = listener != HTTP || target != HTTP
	return e
}

// Close stops serving: in-flight hangs end at once (journaled as ended by the shutdown), other
// requests get up to five seconds to finish. Then the noise probe stops and the journal is
// finished.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel(faults.ErrShutdown)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		if err != nil {
			err = errors.Join(fmt.Errorf("shut down mock: %w", err), s.srv.Close())
		}
		s.serving.Wait()
		waitTimeout(&s.inflight, 5*time.Second)
		s.probe.stop()
		s.closeErr = errors.Join(err, s.journal.Finish())
	})
	return s.closeErr
}

// waitTimeout waits for wg, or gives up after d (a handler stuck past shutdown must not hang
// the grader; its journal line is then missing, which End.Requests makes visible).
func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}
