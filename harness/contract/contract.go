// Package contract checks requests against the exercise's contract: the OpenAPI document of
// both APIs (kin-openapi) and the JSON Schema of a target ticket (santhosh-tekuri/jsonschema).
// Violations are data for the journal; nothing here decides what a request is answered.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/itsm-grader/grader/harness/journal"
)

// maxMessage caps a violation message: they can quote what the client sent.
const maxMessage = 300

// maxTicketValues caps the JSON values of a body the ticket schema is checked on. A ticket has
// 8 (the object and its 7 fields); decoding is what costs memory (measured: a 1 MiB body of
// 350,000 empty objects takes 20 MiB once decoded, a 1 MiB string nothing beyond itself), so a
// body with more values than this is a violation without being decoded.
const maxTicketValues = 1000

// Validator checks requests and ticket bodies.
type Validator struct {
	router routers.Router
	ticket *jsonschema.Schema
}

// New compiles the OpenAPI document (YAML or JSON) and the ticket JSON Schema.
func New(ctx context.Context, openAPI, ticketSchema []byte) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPI)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI document: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate OpenAPI document: %w", err)
	}
	doc.Servers = nil // match any host: the mock is reached under several names
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route OpenAPI document: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(ticketSchema))
	if err != nil {
		return nil, fmt.Errorf("parse ticket schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "mem://ticket.schema.json"
	if err := c.AddResource(url, inst); err != nil {
		return nil, fmt.Errorf("add ticket schema: %w", err)
	}
	schema, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile ticket schema: %w", err)
	}
	return &Validator{router: router, ticket: schema}, nil
}

// Request checks method, path, parameters and headers against the OpenAPI document. The body
// is checked by Ticket and credentials by the mock, so neither is looked at here.
func (v *Validator) Request(ctx context.Context, r *http.Request) []journal.Violation {
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return []journal.Violation{{Message: capMessage("no operation in the contract: " + err.Error())}}
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			ExcludeRequestBody: true,
			MultiError:         true,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	}
	err = openapi3filter.ValidateRequest(ctx, in)
	if err == nil {
		return nil
	}
	var out []journal.Violation
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		for _, e := range multi {
			out = append(out, requestViolation(e))
		}
		return out
	}
	return []journal.Violation{requestViolation(err)}
}

func requestViolation(err error) journal.Violation {
	var re *openapi3filter.RequestError
	if errors.As(err, &re) && re.Parameter != nil {
		return journal.Violation{Field: re.Parameter.In + ":" + re.Parameter.Name, Message: capMessage(re.Error())}
	}
	return journal.Violation{Message: capMessage(err.Error())}
}

// Ticket checks a target body against the ticket schema. A body that is not JSON is one
// violation.
func (v *Validator) Ticket(body []byte) []journal.Violation {
	if tooManyValues(body, maxTicketValues) {
		return []journal.Violation{{Field: "/", Message: fmt.Sprintf("body holds more than %d JSON values: not a ticket", maxTicketValues)}}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return []journal.Violation{{Message: capMessage("body is not JSON: " + err.Error())}}
	}
	err = v.ticket.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []journal.Violation{{Message: capMessage(err.Error())}}
	}
	var out []journal.Violation
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		field := u.InstanceLocation
		if field == "" {
			field = "/"
		}
		out = append(out, journal.Violation{Field: field, Message: capMessage(u.Error.String())})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Field < out[b].Field })
	if len(out) == 0 {
		out = append(out, journal.Violation{Message: capMessage(ve.Error())})
	}
	return out
}

// tooManyValues reports whether b holds more than limit JSON values, counted without decoding:
// outside strings, every value but the first follows a comma or opens an array or object.
func tooManyValues(b []byte, limit int) bool {
	n := 1
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == '[' || c == '{'):
			if n++; n > limit {
				return true
			}
		}
	}
	return false
}

func capMessage(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
