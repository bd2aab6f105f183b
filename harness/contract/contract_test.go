package contract

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/exercise"
)

func validator(t *testing.T) *Validator {
	t.Helper()
	v, err := New(context.Background(), exercise.OpenAPI(), exercise.TargetSchema())
	require.NoError(t, err)
	return v
}

func TestRequestAgainstTheOpenAPIDocument(t *testing.T) {
	t.Parallel()
	v := validator(t)
	cases := []struct {
		name, method, target string
		headers              map[string]string
		field                string // "" when the request is valid
	}{
		{"a page", "GET", "/api/now/table/incident?sysparm_limit=10&sysparm_offset=20", nil, ""},
		{"a page on any host", "GET", "http://source.itsm.test:8443/api/now/table/incident", nil, ""},
		{"a create", "POST", "/v1/tickets", map[string]string{"Idempotency-Key": "k", "Content-Type": "application/json"}, ""},
		{"a non-integer limit", "GET", "/api/now/table/incident?sysparm_limit=ten", nil, "query:sysparm_limit"},
		{"an over-long key", "POST", "/v1/tickets", map[string]string{"Idempotency-Key": strings.Repeat("k", 300), "Content-Type": "application/json"}, "header:Idempotency-Key"},
		{"an unknown path", "GET", "/api/now/table/problem", nil, "no operation"},
		{"a wrong method", "DELETE", "/v1/tickets", nil, "no operation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader("{}"))
			for k, val := range tc.headers {
				r.Header.Set(k, val)
			}
			got := v.Request(context.Background(), r)
			if tc.field == "" {
				require.Empty(t, got)
				return
			}
			require.NotEmpty(t, got)
			require.Contains(t, got[0].Field+" "+got[0].Message, tc.field)
		})
	}
}

func TestTicketAgainstTheSchema(t *testing.T) {
	t.Parallel()
	v := validator(t)
	golden, err := exercise.Golden()
	require.NoError(t, err)
	for id, body := range golden {
		require.Empty(t, v.Ticket(body), id)
	}
	cases := []struct{ name, body, field string }{
		{"not JSON", `{"externalId":`, "body is not JSON"},
		{"extra property", `{"externalId":"INC0010001","title":"t","description":"","priority":"low","status":"new","openedAt":null,"assignee":null,"category":"x"}`, "/"},
		{"bad enum", `{"externalId":"INC0010001","title":"t","description":"","priority":"urgent","status":"new","openedAt":null,"assignee":null}`, "/priority"},
		{"fractional seconds", `{"externalId":"INC0010001","title":"t","description":"","priority":"low","status":"new","openedAt":"2024-01-01T00:00:00.000Z","assignee":null}`, "/openedAt"},
	}
	for _, tc := range cases {
		got := v.Ticket([]byte(tc.body))
		require.NotEmpty(t, got, tc.name)
		require.Contains(t, got[0].Field+" "+got[0].Message, tc.field, tc.name)
	}
	long := v.Ticket([]byte(`{"externalId":"` + strings.Repeat("X", 5000) + `"}`))
	for _, viol := range long {
		require.LessOrEqual(t, len(viol.Message), maxMessage+len("…"), "messages quoting the client are capped")
	}
}

// TestABodyOfManyValuesIsRefusedUndecoded: a body built to blow up when decoded (a megabyte of
// tiny values) is a violation found by counting, not by decoding; commas and brackets inside
// strings do not count.
func TestABodyOfManyValuesIsRefusedUndecoded(t *testing.T) {
	t.Parallel()
	v := validator(t)
	ticket := `{"externalId":"INC0010001","title":"a, b [c] {d}","description":"` + strings.Repeat(`,[{\",`, 600) +
		`","priority":"low","status":"new","openedAt":null,"assignee":null}`
	cases := []struct {
		name, body string
		tooMany    bool
	}{
		{"a megabyte of empty objects", "[" + strings.Repeat("{},", 350_000) + "{}]", true},
		{"a megabyte of zeros in a ticket's field", `{"externalId":[` + strings.Repeat("0,", 500_000) + `0]}`, true},
		{"just past the cap", "[" + strings.Repeat("0,", maxTicketValues-1) + "0]", true},
		{"at the cap", "[" + strings.Repeat("0,", maxTicketValues-2) + "0]", false},
		{"a ticket whose strings hold commas, brackets and escaped quotes", ticket, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.tooMany, tooManyValues([]byte(tc.body), maxTicketValues))
			got := v.Ticket([]byte(tc.body))
			if tc.tooMany {
				require.Len(t, got, 1)
				require.Contains(t, got[0].Message, "more than 1000 JSON values")
			}
		})
	}
	require.Empty(t, v.Ticket([]byte(ticket)), "a valid ticket stays valid")
}
