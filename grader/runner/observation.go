package runner

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/itsm-grader/grader/grader/build"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/plan"
	"github.com/itsm-grader/grader/harness/secrets"
	"github.com/itsm-grader/grader/sandbox"
)

// Observation is one run of one scenario: everything a check may look at.
type Observation struct {
	Scenario string
	Trial    int
	Plan     *plan.Plan
	Budget   suite.Scenario
	Tokens   *secrets.Tokens
	// Marker starts the driver's own result line on stdout.
	Marker string
	Run    *sandbox.Result
	// Journal is the mock's journal; JournalErr says why it could not be read.
	Journal    *journal.Log
	JournalErr string
	// JournalTruncated says the journal was cut short: by the sandbox's read cap, or mid-line
	// (the mock died while writing). Journal then holds every complete line before the cut,
	// and has no end line.
	JournalTruncated bool
	Outcome          Outcome
}

// Outcome is how syncTickets settled, as the driver recorded it.
type Outcome struct {
	// Kind: "resolved", "rejected", "contract" (no syncTickets function), "unserialisable",
	// or "none" (the process ended without the driver recording anything: a crash, a kill).
	Kind   string          `json:"kind"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	Name   string          `json:"name,omitempty"`
	MS     float64         `json:"ms"`
}

// SyncResult is the contract's result type, parsed strictly.
type SyncResult struct {
	Created int `json:"created"`
	Failed  []struct {
		ExternalID string `json:"externalId"`
		Reason     string `json:"reason"`
	} `json:"failed"`
}

// SyncResult parses the resolved value; ok is false when it is not a SyncResult.
func (o Outcome) SyncResult() (SyncResult, bool) {
	var r SyncResult
	if o.Kind != "resolved" || len(o.Result) == 0 {
		return r, false
	}
	var shape map[string]json.RawMessage
	if json.Unmarshal(o.Result, &shape) != nil || shape["created"] == nil || shape["failed"] == nil {
		return r, false
	}
	dec := json.NewDecoder(bytes.NewReader(o.Result))
	if dec.Decode(&r) != nil || r.Created < 0 {
		return r, false
	}
	return r, true
}

func observe(sc suite.Scenario, p *plan.Plan, trial int, tok *secrets.Tokens, marker string, res *sandbox.Result) Observation {
	o := Observation{Scenario: sc.Name, Trial: trial, Plan: p, Budget: sc, Tokens: tok, Marker: marker, Run: res, Outcome: outcome(res, marker)}
	o.Journal, o.JournalTruncated, o.JournalErr = readJournal(res.Journal)
	return o
}

// readJournal parses the journal the sandbox kept. A journal cut short (the read cap reached,
// or the mock dying mid-line) is read up to its last complete line, strictly, and marked
// truncated: what was recorded is still judged, never discarded.
func readJournal(out sandbox.Output) (l *journal.Log, truncated bool, errText string) {
	data := out.Data
	truncated = out.Truncated
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = data[:bytes.LastIndexByte(data, '\n')+1]
		truncated = true
	}
	l, err := journal.Read(bytes.NewReader(data), 0)
	if err != nil {
		return nil, truncated, err.Error()
	}
	return l, truncated, ""
}

// outcome reads the driver's record: the file in /tmp first, the marked stdout line otherwise.
func outcome(res *sandbox.Result, marker string) Outcome {
	var o Outcome
	for _, f := range res.TmpFiles {
		if f.Path == build.ResultFile && f.Type == "file" && !f.Truncated && json.Unmarshal(f.Data, &o) == nil && o.Kind != "" {
			return o
		}
	}
	lines := strings.Split(string(res.Stdout.Data), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if rest, ok := strings.CutPrefix(lines[i], marker+" "); ok && json.Unmarshal([]byte(rest), &o) == nil && o.Kind != "" {
			return o
		}
	}
	return Outcome{Kind: "none"}
}
