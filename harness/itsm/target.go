package itsm

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/itsm-grader/grader/harness/exchange"
	"github.com/itsm-grader/grader/harness/idempotency"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/problem"
	"github.com/itsm-grader/grader/harness/secrets"
)

// serveTarget creates a ticket, honouring Idempotency-Key.
func (a *API) serveTarget(w http.ResponseWriter, r *http.Request) {
	ex := exchange.From(r.Context())
	if !secrets.BearerIs(r.Header.Get("Authorization"), a.cfg.TargetToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="itsm-target"`)
		problem.Write(w, http.StatusUnauthorized, "unauthorized", "A valid bearer token for the target API is required.", nil)
		return
	}
	if ex.TooLarge {
		problem.Write(w, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("The body exceeds %d bytes.", MaxBody), nil)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		problem.Write(w, http.StatusUnsupportedMediaType, "media-type", "Send the ticket as application/json.", nil)
		return
	}
	key, err := idempotency.ParseKey(r.Header.Get("Idempotency-Key"))
	if err != nil {
		v := journal.Violation{Field: "header:Idempotency-Key", Message: err.Error()}
		ex.Violate(v)
		problem.Write(w, http.StatusBadRequest, "validation", "Invalid Idempotency-Key.", []journal.Violation{v})
		return
	}
	if bad := a.cfg.Validator.Ticket(ex.Body); len(bad) > 0 {
		ex.Violate(bad...)
		problem.Write(w, http.StatusBadRequest, "validation", "The ticket does not match the target schema.", bad)
		return
	}
	if key == "" {
		pause(r.Context(), ex.Delay)
		writeStored(w, a.create(ex, ""))
		return
	}
	digest := idempotency.Digest(ex.Body)
	switch decision, stored := a.store.Begin(key, digest); decision {
	case idempotency.Replay:
		ex.Replayed()
		stored.Header.Set("Idempotent-Replayed", "true")
		writeStored(w, stored)
	case idempotency.InFlight:
		problem.Write(w, http.StatusConflict, "idempotency-in-flight", "A request with this Idempotency-Key is still being processed; retry later.", nil)
	case idempotency.Mismatch:
		problem.Write(w, http.StatusUnprocessableEntity, "idempotency-mismatch", "This Idempotency-Key was already used with a different body.", nil)
	default:
		pause(r.Context(), ex.Delay)
		resp := a.create(ex, key)
		a.store.Complete(key, resp)
		writeStored(w, resp)
	}
}

// create stores a new ticket and returns its 201 response.
func (a *API) create(ex *exchange.Exchange, key string) idempotency.Response {
	var fields struct {
		ExternalID string `json:"externalId"`
	}
	_ = json.Unmarshal(ex.Body, &fields) // validated already
	a.mu.Lock()
	a.nextID++
	id := fmt.Sprintf("TKT-%06d", a.nextID)
	a.mu.Unlock()
	t := journal.Ticket{
		ID:             id,
		ExternalID:     fields.ExternalID,
		IdempotencyKey: key,
		BodySHA256:     idempotency.Digest(ex.Body),
		Body:           json.RawMessage(append([]byte(nil), ex.Body...)),
		Seq:            ex.Seq,
		AtUS:           a.cfg.Now(),
	}
	if a.cfg.Recorder != nil {
		a.cfg.Recorder.AddTicket(t)
	}
	ex.Created(id)
	body, _ := json.Marshal(map[string]string{"id": id, "externalId": fields.ExternalID})
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Location", TargetPath+"/"+id)
	return idempotency.Response{Status: http.StatusCreated, Header: h, Body: body}
}

func writeStored(w http.ResponseWriter, resp idempotency.Response) {
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}
