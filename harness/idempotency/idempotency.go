// Package idempotency implements the Idempotency-Key semantics of Stripe and the IETF httpapi
// draft for the mock target: the first processed request with a key stores its response; the
// same key with the same body replays it and does nothing else; the same key with a different
// body is refused (422); a second request while the first is still being processed gets 409.
// Requests that fail validation are not stored, so their key may be used again.
package idempotency

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// MaxKeyLength is the longest key accepted (Stripe's limit).
const MaxKeyLength = 255

// ParseKey reads an Idempotency-Key header value. The draft makes it a structured-field string
// ("abc", quoted); Stripe and most clients send it bare (abc). Both mean the key abc.
// An absent header is ("", nil).
func ParseKey(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return "", nil
	}
	if strings.HasPrefix(v, `"`) {
		if len(v) < 2 || !strings.HasSuffix(v, `"`) {
			return "", errors.New("unterminated quoted Idempotency-Key")
		}
		v = strings.ReplaceAll(strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`), `\\`, `\`)
	}
	if v == "" || len(v) > MaxKeyLength {
		return "", fmt.Errorf("Idempotency-Key must have 1 to %d characters", MaxKeyLength)
	}
	for _, c := range []byte(v) {
		if c < 0x20 || c > 0x7e {
			return "", errors.New("Idempotency-Key must be printable ASCII")
		}
	}
	return v, nil
}

// Digest fingerprints a body as a JSON value, so key order and whitespace do not count as a
// different payload. A body that is not JSON is fingerprinted byte for byte.
func Digest(body []byte) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err == nil && !dec.More() {
		if canon, err := json.Marshal(v); err == nil {
			body = canon
		}
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Response is a stored response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decision is what to do with a request that carries a key.
type Decision int

const (
	// Proceed: process the request, then Complete or Release the key.
	Proceed Decision = iota
	// Replay: answer with the stored response and do nothing else.
	Replay
	// InFlight: a request with this key is still being processed (409).
	InFlight
	// Mismatch: the key was used with a different body (422).
	Mismatch
)

func (d Decision) String() string {
	return [...]string{"proceed", "replay", "in_flight", "mismatch"}[d]
}

type entry struct {
	digest string
	done   bool
	resp   Response
}

// Store holds keys for the lifetime of one mock run. It is safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	entries map[string]*entry
}

// NewStore makes an empty store.
func NewStore() *Store { return &Store{entries: map[string]*entry{}} }

// Begin looks a key up. On Proceed the key is now in flight and the caller must call Complete or
// Release. On Replay the stored response is returned.
func (s *Store) Begin(key, digest string) (Decision, Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	switch {
	case !ok:
		s.entries[key] = &entry{digest: digest}
		return Proceed, Response{}
	case e.digest != digest:
		return Mismatch, Response{}
	case !e.done:
		return InFlight, Response{}
	default:
		return Replay, cloneResponse(e.resp)
	}
}

// Complete stores the response of a processed request under its key.
func (s *Store) Complete(key string, resp Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok {
		e.done, e.resp = true, cloneResponse(resp)
	}
}

// Release forgets a key whose request was not processed (it failed validation), so the key may
// be used again.
func (s *Store) Release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok && !e.done {
		delete(s.entries, key)
	}
}

func cloneResponse(r Response) Response {
	return Response{Status: r.Status, Header: r.Header.Clone(), Body: bytes.Clone(r.Body)}
}
