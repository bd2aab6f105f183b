package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Signature headers: GitHub signs each delivery with HMAC-SHA256 (and, for old integrations,
// HMAC-SHA1 too). Only the SHA-256 one is accepted.
const (
	headerSHA256 = "X-Hub-Signature-256"
	headerSHA1   = "X-Hub-Signature"
)

// verified reads the body under the cap, checks its signature and returns the payload's JSON
// (form-encoded deliveries carry it in the "payload" field), or the status to refuse with.
// The signature header is checked for presence before the body is read, so an unsigned
// request costs nothing.
func (h *Handler) verified(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	sig := r.Header.Get(headerSHA256)
	if sig == "" {
		if r.Header.Get(headerSHA1) != "" {
			return nil, http.StatusUnauthorized, errors.New("only an X-Hub-Signature (SHA-1) signature: X-Hub-Signature-256 is required")
		}
		return nil, http.StatusUnauthorized, errors.New("unsigned delivery: X-Hub-Signature-256 is required")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", h.opts.MaxBody)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	if !validSignature(h.secret, body, sig) {
		return nil, http.StatusUnauthorized, errors.New("X-Hub-Signature-256 does not match the body")
	}
	return payloadOf(r.Header.Get("Content-Type"), body)
}

// validSignature checks "sha256=<hex HMAC-SHA256 of body>" in constant time.
func validSignature(secret, body []byte, header string) bool {
	hexMAC, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexMAC)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value GitHub sends for body: for tests and tools that
// replay deliveries.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// payloadOf returns a signed body's JSON: the body itself (application/json) or its form field
// "payload" (application/x-www-form-urlencoded), the two content types a webhook can choose.
func payloadOf(contentType string, body []byte) ([]byte, int, error) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: %w", contentType, err)
	}
	switch mediaType {
	case "application/json":
		return body, 0, nil
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("form body: %w", err)
		}
		return []byte(form.Get("payload")), 0, nil
	}
	return nil, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: want application/json", mediaType)
}
