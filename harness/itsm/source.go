package itsm

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/itsm-grader/grader/harness/exchange"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/problem"
	"github.com/itsm-grader/grader/harness/secrets"
)

// serveSource answers one page of the incident table.
func (a *API) serveSource(w http.ResponseWriter, r *http.Request) {
	ex := exchange.From(r.Context())
	if !secrets.BearerIs(r.Header.Get("Authorization"), a.cfg.SourceToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="itsm-source"`)
		problem.Write(w, http.StatusUnauthorized, "unauthorized", "A valid bearer token for the source API is required.", nil)
		return
	}
	limit, offset, bad := pageParams(r.URL.Query())
	if len(bad) > 0 {
		ex.Violate(bad...)
		problem.Write(w, http.StatusBadRequest, "validation", "Invalid paging parameters.", bad)
		return
	}
	pause(r.Context(), ex.Delay)
	rows := a.cfg.Rows
	total := len(rows)
	lo, hi := min(offset, total), min(offset+limit, total)
	var body bytes.Buffer
	body.WriteString(`{"result":[`)
	for i, row := range rows[lo:hi] {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(row)
	}
	body.WriteString("]}")
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Total-Count", strconv.Itoa(total))
	h.Set("Link", links(ex.Scheme, safeHost(r.Host), limit, offset, total))
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body.Bytes())
}

func pageParams(q url.Values) (limit, offset int, bad []journal.Violation) {
	limit, offset = MaxPageSize, 0
	if v := q.Get("sysparm_limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad = append(bad, journal.Violation{Field: "query:sysparm_limit", Message: "must be an integer of at least 1"})
		}
		limit = min(n, MaxPageSize)
	}
	if v := q.Get("sysparm_offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			bad = append(bad, journal.Violation{Field: "query:sysparm_offset", Message: "must be an integer of at least 0"})
		}
		offset = n
	}
	return limit, offset, bad
}

// links builds ServiceNow's Link header: first, prev, next and last pages.
func links(scheme, host string, limit, offset, total int) string {
	page := func(off int, rel string) string {
		return fmt.Sprintf(`<%s://%s%s?sysparm_limit=%d&sysparm_offset=%d>;rel="%s"`, scheme, host, SourcePath, limit, off, rel)
	}
	last := 0
	if total > 0 {
		last = (total - 1) / limit * limit
	}
	parts := []string{page(0, "first")}
	if offset > 0 {
		parts = append(parts, page(max(0, offset-limit), "prev"))
	}
	if offset+limit < total {
		parts = append(parts, page(offset+limit, "next"))
	}
	parts = append(parts, page(last, "last"))
	return strings.Join(parts, ",")
}

// safeHost keeps a Host header that is a plain host[:port]; anything else becomes localhost,
// so a client cannot inject into the Link header.
func safeHost(h string) string {
	if h == "" || len(h) > 255 {
		return "localhost"
	}
	for _, c := range h {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)
		if !ok {
			return "localhost"
		}
	}
	return h
}
