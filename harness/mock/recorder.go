package mock

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/itsm-grader/grader/harness/exchange"
	"github.com/itsm-grader/grader/harness/faults"
	"github.com/itsm-grader/grader/harness/idempotency"
	"github.com/itsm-grader/grader/harness/itsm"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/plan"
)

// Caps on what one journal line keeps of a request: the client is untrusted.
const (
	maxPathLen    = 2048
	maxHeaderLen  = 256
	maxHeaders    = 64
	maxTicketLen  = 64
	bodyReadLimit = 30 * time.Second
)

// EndpointOther names a request to neither API.
const EndpointOther = "other"

// attempts counts requests per endpoint and ticket (or page offset).
type attempts struct {
	mu sync.Mutex
	n  map[string]int
}

func (a *attempts) next(key string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = map[string]int{}
	}
	a.n[key]++
	return a.n[key]
}

// record is the outermost handler: it reads the request, decides the fault, runs it around the
// API and journals what the client actually received.
func (s *Server) record(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrival := s.clock.Now()
		s.inflight.Add(1)
		defer s.inflight.Done()
		conn := connFrom(r.Context())
		ex := &exchange.Exchange{Seq: s.seq.Add(1), Scheme: "http"}
		if ex.Seq > int64(s.caps.Requests) {
			s.refuseRequest(w)
			return
		}
		body, tooLarge, held, ok := s.takeBody(w, r)
		if !ok {
			return
		}
		defer s.bodies.release(held)
		rec := journal.Request{Seq: ex.Seq, ArrivalUS: arrival, Method: capString(r.Method, 16)}
		if conn != nil {
			rec.Conn, rec.Listener = conn.id, conn.listener
			if conn.tls != nil {
				ex.Scheme = "https"
			}
		}
		ex.Body, ex.TooLarge = body, tooLarge
		r.Body = io.NopCloser(bytes.NewReader(ex.Body))
		s.describe(&rec, r, ex.Body)
		rec.Violations = s.validator.Request(r.Context(), r)

		fault := s.plan.Decide(s.seed, plan.Request{Endpoint: rec.Endpoint, Ticket: rec.Ticket, Offset: offsetOr(rec.Offset), Attempt: rec.Attempt})
		rec.Fault = fault.Name()
		mw, err := faults.Build(fault, s.faultOpts)
		if err != nil { // plans are validated when loaded; this is a bug, answer plainly
			s.log.Error("build fault", "err", err)
			mw = func(h http.Handler) http.Handler { return h }
		}
		rw := &recordingWriter{ResponseWriter: w, clock: s.clock}
		left := s.watchClientLeaving(r)
		mw(api).ServeHTTP(rw, r.WithContext(exchange.With(r.Context(), ex)))
		s.clientLeft(ex, rw, &rec, left)
		if !rw.hijacked {
			_ = http.NewResponseController(rw.ResponseWriter).Flush()
		} else if conn != nil {
			conn.releaseSlot() // the fault closed the socket under net/http's feet
		}
		if rec.EndUS == 0 {
			rec.EndUS = s.clock.Now()
		}
		s.finish(&rec, ex, rw)
	})
}

// watchClientLeaving notes when the client's connection closes while its request is being
// answered (net/http cancels the request's context then). The returned func says when that was
// (0: it did not) and stops the watch.
func (s *Server) watchClientLeaving(r *http.Request) func() int64 {
	var at atomic.Int64
	stop := context.AfterFunc(r.Context(), func() {
		if !errors.Is(context.Cause(r.Context()), faults.ErrShutdown) {
			at.Store(s.clock.Now())
		}
	})
	return func() int64 {
		stop()
		return at.Load()
	}
}

// clientLeft journals a request whose client left before the answer began (a slow fault works
// on and answers a closed connection): nothing reached the client, which ended it when it left.
// A fault that already said how the exchange ended keeps its word.
func (s *Server) clientLeft(ex *exchange.Exchange, rw *recordingWriter, rec *journal.Request, left func() int64) {
	at := left()
	if at == 0 || (rw.started && rw.startUS < at) {
		return
	}
	if outcome, _ := ex.Ending(); outcome != "" {
		return
	}
	ex.End(exchange.OutcomeNone, exchange.EndedByClient)
	rec.EndUS = at
}

// describe fills in everything known about a request before it is answered.
func (s *Server) describe(rec *journal.Request, r *http.Request, body []byte) {
	rec.Path = s.tokens.Redact(capString(r.URL.EscapedPath(), maxPathLen))
	rec.Query = s.tokens.Redact(capString(r.URL.RawQuery, maxPathLen))
	rec.Host = s.tokens.Redact(capString(r.Host, maxHeaderLen))
	rec.UserAgent = s.tokens.Redact(capString(r.Header.Get("User-Agent"), maxHeaderLen))
	rec.ContentType = s.tokens.Redact(capString(r.Header.Get("Content-Type"), maxHeaderLen))
	rec.HeaderNames = headerNames(r.Header)
	rec.Endpoint = classify(r)
	rec.Auth = s.tokens.Identify(r.Header.Get("Authorization"))
	rec.Leaks = s.leaks(r, rec, body)
	rec.BodyBytes = len(body)
	if len(body) > 0 {
		rec.BodySHA256 = sha256Hex(body)
	}
	if raw := r.Header.Get("Idempotency-Key"); raw != "" {
		// Journal the key as the target reads it, so "abc" and abc compare equal.
		key, err := idempotency.ParseKey(raw)
		if err != nil {
			key = raw
		}
		rec.IdempotencyKey = s.tokens.Redact(capString(key, maxHeaderLen+2))
	}
	subject := rec.Endpoint
	switch rec.Endpoint {
	case plan.EndpointTarget:
		rec.Ticket = s.tokens.Redact(externalID(body))
		subject += "|" + rec.Ticket
	case plan.EndpointSource:
		rec.Offset = pageOffset(r)
		subject += "|" + strconv.Itoa(offsetOr(rec.Offset))
	}
	rec.Attempt = s.attempts.next(subject)
}

// finish completes the journal line and the metrics.
func (s *Server) finish(rec *journal.Request, ex *exchange.Exchange, rw *recordingWriter) {
	outcome, endedBy := ex.Ending()
	if outcome == "" {
		outcome, endedBy = exchange.OutcomeResponse, exchange.EndedByServer
		if rw.status == 0 {
			outcome = exchange.OutcomeEmpty
		}
	}
	rec.Outcome, rec.EndedBy = outcome, endedBy
	if outcome == exchange.OutcomeResponse || outcome == exchange.OutcomeTruncated {
		rec.Status = rw.status
	}
	if rw.started {
		t := rw.startUS
		rec.RespStartUS = &t
	}
	created, replayed, violations := ex.Result()
	rec.Created, rec.Replayed = created, replayed
	rec.Violations = append(rec.Violations, violations...)
	s.journal.AddRequest(*rec)
	s.metrics.request(rec.Endpoint, rec.Status, rec.Fault)
}

func (s *Server) leaks(r *http.Request, rec *journal.Request, body []byte) []journal.Leak {
	var out []journal.Leak
	out = append(out, s.tokens.Find(r.URL.EscapedPath()+" "+r.URL.Path, "path")...)
	if q := r.URL.RawQuery; q != "" {
		dq, _ := url.QueryUnescape(q)
		out = append(out, s.tokens.Find(q+" "+dq, "query")...)
	}
	for name, vals := range r.Header {
		if name == "Authorization" {
			continue
		}
		out = append(out, s.tokens.Find(strings.Join(vals, " "), "header:"+capString(name, maxHeaderLen))...)
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		for _, l := range s.tokens.Find(auth, "authorization") {
			own := (rec.Endpoint == plan.EndpointSource && l.Token == "source") ||
				(rec.Endpoint == plan.EndpointTarget && l.Token == "target")
			if rec.Endpoint != EndpointOther && !(own && rec.Auth.Token == l.Token) {
				out = append(out, l)
			}
		}
	}
	out = append(out, s.tokens.Find(string(body), "body")...)
	sort.Slice(out, func(a, b int) bool {
		return out[a].Where+out[a].Token < out[b].Where+out[b].Token
	})
	return out
}

func classify(r *http.Request) string {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == itsm.SourcePath:
		return plan.EndpointSource
	case r.Method == http.MethodPost && r.URL.Path == itsm.TargetPath:
		return plan.EndpointTarget
	default:
		return EndpointOther
	}
}

// refuseRequest answers a request past the run's request cap, unread.
func (s *Server) refuseRequest(w http.ResponseWriter) {
	s.journal.DropRequest()
	s.metrics.refusedRequests.WithLabelValues(refusedRequestCap).Inc()
	refuse(w, fmt.Sprintf("The mock serves at most %d requests in one run.", s.caps.Requests))
}

// takeBody reads a request's body within the run's body budgets (Caps.BodyBytes and
// Caps.BodiesInFlight); when either is spent the request is refused with its body unread, and
// ok is false. The caller releases the held bytes when the request is done.
func (s *Server) takeBody(w http.ResponseWriter, r *http.Request) (body []byte, tooLarge bool, held int64, ok bool) {
	reserved := bodyReservation(r)
	if reserved == 0 {
		return nil, false, 0, true
	}
	if !s.bodies.reserve(reserved) {
		s.journal.RefuseBody(r.ContentLength)
		s.metrics.refusedRequests.WithLabelValues(refusedBodyBudget).Inc()
		s.metrics.bodyBytes.WithLabelValues("refused").Add(float64(max(r.ContentLength, 0)))
		refuse(w, "The mock has read all the request bodies it takes in one run, or holds as many as it takes at once.")
		return nil, false, 0, false
	}
	body, tooLarge = readBody(w, r, reserved)
	held = int64(len(body))
	s.bodies.settle(reserved, held)
	s.journal.CountBody(held)
	s.metrics.bodyBytes.WithLabelValues("read").Add(float64(held))
	if tooLarge {
		body = body[:itsm.MaxBody]
	}
	return body, tooLarge, held, true
}

// readBody reads the body up to limit bytes (at most the target's cap plus one, which tells a
// body that is too large), with its own deadline: the server has no ReadTimeout, because that
// would end hangs as if the client had left.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, tooLarge bool) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(bodyReadLimit))
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	b, err := io.ReadAll(io.LimitReader(r.Body, limit))
	var mbe *http.MaxBytesError
	return b, len(b) > itsm.MaxBody || err != nil && errors.As(err, &mbe)
}

func externalID(body []byte) string {
	var v struct {
		ExternalID json.RawMessage `json:"externalId"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	var id string
	if json.Unmarshal(v.ExternalID, &id) != nil {
		return ""
	}
	return capString(id, maxTicketLen)
}

func pageOffset(r *http.Request) *int {
	v := r.URL.Query().Get("sysparm_offset")
	if v == "" {
		zero := 0
		return &zero
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return nil
	}
	return &n
}

func offsetOr(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

func headerNames(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, capString(k, maxHeaderLen))
	}
	sort.Strings(names)
	if len(names) > maxHeaders {
		names = append(names[:maxHeaders], fmt.Sprintf("(+%d more)", len(names)-maxHeaders))
	}
	return names
}

// capString keeps at most n bytes of valid UTF-8.
func capString(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// recordingWriter notes when the response started, its status and whether a fault took the
// connection over.
type recordingWriter struct {
	http.ResponseWriter
	clock    journal.Clock
	status   int
	started  bool
	startUS  int64
	hijacked bool
}

func (w *recordingWriter) start(status int) {
	if !w.started {
		w.started, w.status, w.startUS = true, status, w.clock.Now()
	}
}

func (w *recordingWriter) WriteHeader(status int) {
	w.start(status)
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.start(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach Flush and SetReadDeadline.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack is explicit (not through Unwrap) so the journal knows the connection was taken.
func (w *recordingWriter) Hijack() (c net.Conn, rw *bufio.ReadWriter, err error) {
	c, rw, err = http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, rw, err
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
