// Package webhook receives GitHub's webhook deliveries: an http.Handler that checks each
// delivery's HMAC-SHA256 signature against the App's secret, caps its body, parses the events
// the grader acts on (push, installation, installation_repositories) and hands each valid
// delivery to a Recorder, keyed by its delivery id so that a redelivery is a no-op. It answers
// at once (202): recording queues the work, it never does it, so GitHub's 10 s are kept
// whatever the graders are doing.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"
)

// Delivery is one webhook delivery the grader acts on, as received.
type Delivery struct {
	// ID is X-GitHub-Delivery: a redelivery carries the same id.
	ID string
	// Event is X-GitHub-Event: "push", "installation" or "installation_repositories".
	Event string
	// Action is the payload's action ("created", "added", …); "" for a push.
	Action string
	// Installation is the App installation the event came through; 0 for a repository's own
	// webhook.
	Installation int64
	// Repository is the pushed repository's "owner/name"; "" for installation events.
	Repository string
	// Ref and SHA are what a push moved: the ref ("refs/heads/main") and the commit it now
	// points at. Deleted says the push deleted the ref (SHA is then "").
	Ref     string
	SHA     string
	Deleted bool
	// Added and Removed are the repositories ("owner/name") an installation event gave the App
	// or took from it.
	Added, Removed []string
	// ReceivedAt is the server's time when the delivery arrived: the time a push is on record,
	// never a commit date, which the pusher sets.
	ReceivedAt time.Time
	// Payload is the delivery's JSON, as signed.
	Payload []byte
}

// Recorder takes valid deliveries. Record stores the delivery and queues the work it calls for
// in one step, and must return quickly: it queues grading, it never grades. It reports fresh =
// false, and does nothing, for a delivery id it already holds.
type Recorder interface {
	Record(ctx context.Context, d Delivery) (fresh bool, err error)
}

// Options tune a Handler. The zero value is usable.
type Options struct {
	// MaxBody caps a delivery's body; DefaultMaxBody by default.
	MaxBody int64
	// RecordTimeout bounds one Record call, well inside GitHub's 10 s; 5 s by default.
	RecordTimeout time.Duration
	// Now is the server clock; time.Now by default.
	Now func() time.Time
	// Log receives one line a refused or failed delivery; nil discards.
	Log *slog.Logger
}

// DefaultMaxBody is 5 MiB. GitHub sends at most 25 MB, but the events taken here are small: a
// push lists at most 20 commits (a few kB each, file lists included), an installation event a
// few hundred bytes a repository. The body is read before its signature can be checked, so
// the cap is also what an unauthenticated request may make the server hold.
const DefaultMaxBody = 5 << 20

// MinSecretBytes is the shortest secret accepted: GitHub advises a random string with high
// entropy, and a short one could be guessed offline from one signed delivery.
const MinSecretBytes = 16

// Handler serves GitHub's webhook deliveries.
type Handler struct {
	secret []byte
	rec    Recorder
	opts   Options
}

// New returns a Handler for the webhook secret. It refuses an empty or short secret (an
// unsigned delivery would otherwise pass) and a nil Recorder.
func New(secret []byte, rec Recorder, opts Options) (*Handler, error) {
	if len(secret) == 0 {
		return nil, errors.New("webhook: a secret is required: set the App's webhook secret")
	}
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("webhook: the secret has %d bytes; use at least %d random bytes", len(secret), MinSecretBytes)
	}
	if rec == nil {
		return nil, errors.New("webhook: a Recorder is required")
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.RecordTimeout <= 0 {
		opts.RecordTimeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Handler{secret: append([]byte(nil), secret...), rec: rec, opts: opts}, nil
}

// deliveryID is what a delivery id may be: GitHub sends a GUID.
var deliveryID = regexp.MustCompile(`^[0-9A-Za-z-]{1,100}$`)

// ServeHTTP answers 202 for a delivery recorded now, 200 for a redelivery, a ping or an event
// the grader ignores; 400 for a malformed delivery, 401 for a missing or wrong signature, 405
// for a method other than POST, 413 for a body over the cap, 415 for a content type GitHub does
// not send, and 500 when the Recorder failed (GitHub shows the delivery failed; redeliver it).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	received := h.opts.Now().UTC()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, "POST only")
		return
	}
	id, event := r.Header.Get("X-GitHub-Delivery"), r.Header.Get("X-GitHub-Event")
	if !deliveryID.MatchString(id) || event == "" {
		h.refuse(w, r, http.StatusBadRequest, "X-GitHub-Delivery and X-GitHub-Event are required")
		return
	}
	payload, status, err := h.verified(w, r)
	if err != nil {
		h.refuse(w, r, status, err.Error())
		return
	}
	d, ok, err := parse(event, payload)
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if !ok {
		answer(w, http.StatusOK, "event "+event+" ignored")
		return
	}
	d.ID, d.ReceivedAt, d.Payload = id, received, payload
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.RecordTimeout)
	defer cancel()
	fresh, err := h.rec.Record(ctx, d)
	if err != nil {
		h.opts.Log.Error("record webhook delivery", "delivery", id, "event", event, "err", err)
		answer(w, http.StatusInternalServerError, "could not record the delivery")
		return
	}
	if !fresh {
		answer(w, http.StatusOK, "delivery "+id+" already recorded")
		return
	}
	answer(w, http.StatusAccepted, "delivery "+id+" recorded")
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	h.opts.Log.Warn("webhook delivery refused", "status", status, "why", why,
		"delivery", r.Header.Get("X-GitHub-Delivery"), "event", r.Header.Get("X-GitHub-Event"), "remote", r.RemoteAddr)
	answer(w, status, why)
}

func answer(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}
