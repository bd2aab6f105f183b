package checks

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/itsm-grader/grader/fixtures/exercise"
)

// rowsServed is the source table of a run: the plan may serve only its first rows.
func rowsServed(o Observation) ([]json.RawMessage, error) {
	rows, err := exercise.IncidentRows()
	if err != nil {
		return nil, fmt.Errorf("incident table unreadable: %w", err)
	}
	if n := o.Plan.Records; n > 0 && n < len(rows) {
		rows = rows[:n]
	}
	return rows, nil
}

// uniqueIncidents is the set of externalIds a run's source holds.
func uniqueIncidents(o Observation) (map[string]bool, error) {
	rows, err := rowsServed(o)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, r := range rows {
		var v struct {
			Number string `json:"number"`
		}
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, fmt.Errorf("incident row unreadable: %w", err)
		}
		out[v.Number] = true
	}
	return out, nil
}

// unreadRows counts the source rows no successful page response covered.
func unreadRows(o Observation) int {
	rows, err := rowsServed(o)
	if err != nil {
		return 0
	}
	covered := make([]bool, len(rows))
	for _, r := range o.Journal.Endpoint("source.list") {
		if r.Status != 200 || r.Outcome != "response" {
			continue
		}
		q, _ := url.ParseQuery(r.Query)
		limit, offset := 10, 0
		if v, err := strconv.Atoi(q.Get("sysparm_limit")); err == nil && v > 0 {
			limit = min(v, 10)
		}
		if v, err := strconv.Atoi(q.Get("sysparm_offset")); err == nil && v >= 0 {
			offset = v
		}
		for i := offset; i < min(offset+limit, len(rows)); i++ {
			covered[i] = true
		}
	}
	n := 0
	for _, c := range covered {
		if !c {
			n++
		}
	}
	return n
}
