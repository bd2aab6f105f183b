package checks

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/grader/finding"
)

var mappingAccuracy = Check{
	ID: "mapping.accuracy", Title: "Maps every incident exactly as the brief's rules say", Severity: finding.High,
	Indicator: finding.MappingEdges,
	Question:  "Which of the brief's mapping rules did you find easiest to get wrong, and how did you make sure you had them right?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "happy"); ok {
			return j
		}
		o := obs.Of("happy")[0]
		golden, err := exercise.Golden()
		if err != nil {
			return finding.Judged(finding.NA, "golden payloads unreadable: %v", err)
		}
		var diffs []string
		fields, wrong := 0, 0
		for _, t := range o.Journal.Tickets {
			want, ok := golden[t.ExternalID]
			if !ok {
				continue // completeness judges unknown tickets
			}
			d := fieldDiffs(want, t.Body)
			fields += 7
			wrong += len(d)
			for _, x := range d {
				diffs = append(diffs, t.ExternalID+" "+x)
			}
		}
		rejected := 0
		for _, r := range o.Journal.Endpoint("target.create") {
			if r.Status == 400 && len(r.Violations) > 0 {
				rejected++
				diffs = append(diffs, fmt.Sprintf("%s rejected by the target schema: %s", r.Ticket, capText(r.Violations[0].Field+" "+r.Violations[0].Message, 160)))
			}
		}
		sort.Strings(diffs)
		j := finding.Judgement{}.Measure("fields_wrong", float64(wrong)).Measure("fields_compared", float64(fields)).Measure("schema_rejections", float64(rejected))
		if len(diffs) == 0 {
			if fields == 0 {
				j.Verdict, j.Summary = finding.Fail, "no ticket was created, so no mapping could be checked"
				return j
			}
			j.Verdict, j.Summary = finding.Pass, fmt.Sprintf("all %d fields of %d tickets equal their golden payloads", fields, fields/7)
			return j
		}
		j.Verdict = finding.Fail
		j.Summary = fmt.Sprintf("%d field(s) differ from the golden payloads and %d body(ies) were rejected by the schema", wrong, rejected)
		return j.With(evidence(o, "differences (ticket field: expected → sent)", capList(diffs, 20)...))
	},
}

func fieldDiffs(want, got []byte) []string {
	var w, g map[string]any
	if json.Unmarshal(want, &w) != nil || json.Unmarshal(got, &g) != nil {
		return []string{"body is not a JSON object"}
	}
	var out []string
	for _, k := range sortedKeys(w) {
		if !reflect.DeepEqual(w[k], g[k]) {
			out = append(out, fmt.Sprintf("%s: %s → %s", k, show(w[k]), show(g[k])))
		}
	}
	return out
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return Clean(capText(string(b), 90))
}

func capList(l []string, n int) []string {
	if len(l) <= n {
		return l
	}
	return append(l[:n:n], fmt.Sprintf("… %d more", len(l)-n))
}

var mappingCompleteness = Check{
	ID: "mapping.completeness", Title: "Creates every incident once, reading every page", Severity: finding.High,
	Indicator: finding.MappingEdges,
	Question:  "The source repeats a record across a page boundary. How does your client deal with that, and how would you know if it didn't?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "happy"); ok {
			return j
		}
		var problems []finding.Evidence
		// The no-fault run only: under faults a missing ticket is a retry problem, which
		// retry.transient judges.
		for _, o := range obs.Of("happy") {
			if p := completeness(o); p != nil {
				problems = append(problems, *p)
			}
		}
		if len(problems) == 0 {
			return finding.Judged(finding.Pass, "every incident was created exactly once and every page was read")
		}
		return finding.Judged(finding.Fail, "tickets missing, duplicated or unknown, or pages unread").With(problems...)
	},
}

// completeness compares the tickets of one run with the incidents the source served.
func completeness(o Observation) *finding.Evidence {
	want, err := uniqueIncidents(o)
	if err != nil {
		e := evidence(o, err.Error())
		return &e
	}
	got := map[string]int{}
	for _, t := range o.Journal.Tickets {
		got[t.ExternalID]++
	}
	var issues []string
	for _, id := range sortedKeys(want) {
		switch n := got[id]; {
		case n == 0:
			issues = append(issues, id+": never created")
		case n > 1:
			issues = append(issues, fmt.Sprintf("%s: created %d times", id, n))
		}
	}
	for _, id := range sortedKeys(got) {
		if !want[id] {
			issues = append(issues, Clean(capText(id, 40))+": not an incident of the source")
		}
	}
	if unread := unreadRows(o); unread > 0 {
		issues = append(issues, fmt.Sprintf("%d source rows were never served to the client", unread))
	}
	if len(issues) == 0 {
		return nil
	}
	e := evidence(o, fmt.Sprintf("%d problem(s)", len(issues)), capList(issues, 15)...)
	return &e
}
