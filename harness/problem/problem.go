// Package problem writes error responses as application/problem+json (RFC 9457).
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/itsm-grader/grader/harness/journal"
)

// Details is an RFC 9457 problem document, with the contract violations listed.
type Details struct {
	Type       string              `json:"type"`
	Title      string              `json:"title"`
	Status     int                 `json:"status"`
	Detail     string              `json:"detail,omitempty"`
	Violations []journal.Violation `json:"violations,omitempty"`
}

// TypeBase prefixes the problem type URIs.
const TypeBase = "https://itsm.test/problems/"

// Body renders a problem document.
func Body(status int, kind, detail string, violations []journal.Violation) []byte {
	b, _ := json.Marshal(Details{
		Type:       TypeBase + kind,
		Title:      http.StatusText(status),
		Status:     status,
		Detail:     detail,
		Violations: violations,
	})
	return b
}

// Write sends a problem response. kind names the problem type ("validation", "unavailable").
func Write(w http.ResponseWriter, status int, kind, detail string, violations []journal.Violation) {
	body := Body(status, kind, detail, violations)
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
