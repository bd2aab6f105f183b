package evidence

import (
	"bytes"
	"encoding/json"
	"strings"
)

// ResultFile is where the driver writes its record inside the candidate's /tmp.
const ResultFile = ".itsm-grader-result.json"

// Outcome is how syncTickets settled, as the driver recorded it: the candidate's own claim.
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

// ReadOutcome finds the driver's record: the file in /tmp first, the marked stdout line
// otherwise; "none" when there is neither.
func ReadOutcome(files []File, stdout, marker string) Outcome {
	var o Outcome
	for _, f := range files {
		if f.Path == ResultFile && f.Type == "file" && !f.Truncated && json.Unmarshal([]byte(f.Data), &o) == nil && o.Kind != "" {
			return o
		}
	}
	lines := strings.Split(stdout, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if rest, ok := strings.CutPrefix(lines[i], marker+" "); ok && marker != "" && json.Unmarshal([]byte(rest), &o) == nil && o.Kind != "" {
			return o
		}
	}
	return Outcome{Kind: "none"}
}
