package mock

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSourcePagination(t *testing.T) {
	t.Parallel()
	srv := startMock(t, noFaults)
	source, _ := srv.Tokens()
	c := client(5 * time.Second)
	next := regexp.MustCompile(`<([^>]+)>;rel="next"`)

	url := srv.URL(HTTP) + "/api/now/table/incident?sysparm_limit=10&sysparm_offset=0"
	var rows []json.RawMessage
	pages := 0
	for url != "" {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+source)
		resp, err := c.Do(req)
		require.NoError(t, err)
		var page struct{ Result []json.RawMessage }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "28", resp.Header.Get("X-Total-Count"))
		require.LessOrEqual(t, len(page.Result), 10)
		rows = append(rows, page.Result...)
		pages++
		url = ""
		if m := next.FindStringSubmatch(resp.Header.Get("Link")); m != nil {
			url = m[1]
		}
	}
	require.Equal(t, 3, pages)
	require.Len(t, rows, 28)
	require.JSONEq(t, string(rows[9]), string(rows[10]), "the repeated record spans pages 1 and 2")
}

func TestSourceParameters(t *testing.T) {
	t.Parallel()
	srv := startMock(t, noFaults)
	source, target := srv.Tokens()
	cases := []struct {
		name, token, query string
		status, rows       int
		link               *regexp.Regexp
	}{
		{"default page", source, "", 200, 10, regexp.MustCompile(`sysparm_limit=10&sysparm_offset=10>;rel="next"`)},
		{"limit above 10 is served as 10", source, "?sysparm_limit=50", 200, 10, nil},
		{"small pages", source, "?sysparm_limit=3&sysparm_offset=3", 200, 3, regexp.MustCompile(`sysparm_offset=0>;rel="prev".*sysparm_offset=6>;rel="next".*sysparm_offset=27>;rel="last"`)},
		{"last page has no next", source, "?sysparm_offset=20", 200, 8, regexp.MustCompile(`rel="prev",<[^>]*>;rel="last"$`)},
		{"offset past the end is empty", source, "?sysparm_offset=40", 200, 0, nil},
		{"non-integer limit", source, "?sysparm_limit=ten", 400, 0, nil},
		{"negative offset", source, "?sysparm_offset=-1", 400, 0, nil},
		{"no token", "", "", 401, 0, nil},
		{"the target's token", target, "", 401, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body, err := getPage(t, client(5*time.Second), srv.URL(HTTP), tc.token, tc.query)
			require.NoError(t, err)
			require.Equal(t, tc.status, resp.StatusCode, string(body))
			if tc.status != 200 {
				require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
				return
			}
			var page struct{ Result []json.RawMessage }
			require.NoError(t, json.Unmarshal(body, &page))
			require.Len(t, page.Result, tc.rows)
			if tc.link != nil {
				require.Regexp(t, tc.link, resp.Header.Get("Link"))
			}
		})
	}
}

func TestRecordsLimitServesTheFirstRows(t *testing.T) {
	t.Parallel()
	srv := startMock(t, "name: three\nrecords: 3\n")
	source, _ := srv.Tokens()
	resp, body, err := getPage(t, client(5*time.Second), srv.URL(HTTP), source, "")
	require.NoError(t, err)
	require.Equal(t, "3", resp.Header.Get("X-Total-Count"))
	require.NotContains(t, resp.Header.Get("Link"), `rel="next"`)
	require.Contains(t, string(body), "INC0010003")
	require.NotContains(t, string(body), "INC0010004")
}
