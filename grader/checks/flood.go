package checks

import (
	"fmt"
	"strings"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/harness/journal"
)

// runFlood judges whether the client stayed within what the mock takes in one run
// (harness/mock.Caps and journal.Caps: connections, request bodies, requests, journal lines and
// bytes). The caps are hundreds of times what the brief allows (at most 4 requests in flight),
// so reaching one is the client's doing; a mock that failed for another reason is ours, and is
// never blamed on the candidate.
var runFlood = Check{
	ID: "run.flood", Title: "Stays within what the mock accepts: connections, bytes, requests", Severity: finding.High,
	// The brief documents the limit a flood breaks ("at most 4 requests in flight at once");
	// FixedRetryLogic would presume a retry loop, while a flood comes as often from unbounded
	// concurrency (every ticket sent at once, many times).
	Indicator: finding.FollowsSpecs,
	Question:  "How many requests can your client have in flight at once, and what stops it from sending more?",
	Judge: func(obs Observations) finding.Judgement {
		var flooded, defects []finding.Evidence
		var total flood
		runs := 0
		for _, o := range obs {
			if o.Run == nil {
				continue
			}
			runs++
			if f := floodOf(o); f.any() {
				total.add(f)
				flooded = append(flooded, evidence(o, f.String()))
			} else if reason := mockDefect(o); reason != "" {
				defects = append(defects, evidence(o, reason, tailLines(o.Mock.Log.Data, 5)...))
			}
		}
		switch {
		case len(flooded) > 0:
			return total.measure(finding.Judged(finding.Fail, "the client flooded the mock in %d of %d runs: %s", len(flooded), runs, total.String()).
				With(capEvidence(flooded, 4)...))
		case len(defects) > 0:
			return finding.Judged(finding.NA, "a grader defect, not the candidate's doing: the mock failed in %d of %d runs for a reason other than the client's load, so whether the client stayed within its caps is unknown there", len(defects), runs).
				With(capEvidence(defects, 4)...)
		case runs == 0:
			return finding.Judged(finding.NA, "nothing ran")
		}
		return total.measure(finding.Judged(finding.Pass, "every one of %d runs stayed within the mock's caps: no connection, body or request refused, nothing dropped from the journal", runs))
	},
}

// flood is what the caps caught in one run or, added up, in all of them.
type flood struct {
	runs                                 int
	connections, bodies, requests, lines int
	bodyBytes                            int64
	byteCapped, readCapped, oomKilled    int
}

// floodOf reads one run's end line, journal and mock container for caps that were reached.
func floodOf(o Observation) flood {
	var f flood
	if o.Mock.OOMKilled {
		f.oomKilled = 1
	}
	if o.JournalOverCap {
		f.readCapped = 1
	}
	if o.Journal != nil && o.Journal.End != nil && o.Journal.End.Flooded() {
		f.addEnd(*o.Journal.End)
	}
	if f.connections+f.bodies+f.requests+f.lines+f.byteCapped+f.readCapped+f.oomKilled > 0 {
		f.runs = 1
	}
	return f
}

func (f *flood) addEnd(e journal.End) {
	f.connections, f.bodies, f.bodyBytes = e.RefusedConnections, e.RefusedBodies, e.RefusedBodyBytes
	f.requests, f.lines = e.Dropped, e.DroppedTickets+e.DroppedTLSErrors
	if e.ByteCapped {
		f.byteCapped = 1
	}
}

func (f flood) any() bool { return f.runs > 0 }

func (f *flood) add(g flood) {
	f.runs += g.runs
	f.connections += g.connections
	f.bodies += g.bodies
	f.bodyBytes += g.bodyBytes
	f.requests += g.requests
	f.lines += g.lines
	f.byteCapped += g.byteCapped
	f.readCapped += g.readCapped
	f.oomKilled += g.oomKilled
}

// String says which caps were reached, with the numbers.
func (f flood) String() string {
	var parts []string
	if f.connections > 0 {
		parts = append(parts, fmt.Sprintf("%d connections refused past the mock's cap on connections open at once", f.connections))
	}
	if f.bodies > 0 {
		parts = append(parts, fmt.Sprintf("%d request bodies refused unread (%d bytes declared) past the body budget", f.bodies, f.bodyBytes))
	}
	if f.requests > 0 {
		parts = append(parts, fmt.Sprintf("%d requests left out of the journal (past its %d-request cap, or after its byte cap)", f.requests, journal.DefaultMaxRequests))
	}
	if f.lines > 0 {
		parts = append(parts, fmt.Sprintf("%d ticket or TLS-error lines left out of the journal", f.lines))
	}
	if f.byteCapped > 0 {
		parts = append(parts, fmt.Sprintf("the journal's %d MiB cap stopped its stream", journal.DefaultMaxBytes>>20))
	}
	if f.readCapped > 0 {
		parts = append(parts, "the journal overran the sandbox's read cap and was cut short")
	}
	if f.oomKilled > 0 {
		parts = append(parts, "the mock was killed at its memory limit")
	}
	return strings.Join(parts, "; ")
}

func (f flood) measure(j finding.Judgement) finding.Judgement {
	return j.Measure("runs_flooded", float64(f.runs)).Measure("refused_connections", float64(f.connections)).
		Measure("refused_bodies", float64(f.bodies)).Measure("dropped_requests", float64(f.requests))
}

// mockDefect says why a run's mock failed without the client flooding it, or "" when it did
// not fail: these are the grader's defects.
func mockDefect(o Observation) string {
	switch {
	case o.Mock.Died:
		return fmt.Sprintf("the mock exited during the run (exit %d) without reaching a cap: killed or crashed", o.Mock.Exit)
	case o.Mock.StopKilled:
		return "the mock did not finish its journal when asked to stop and was killed"
	case o.Mock.Exit != 0:
		return fmt.Sprintf("the mock exited with %d when stopped", o.Mock.Exit)
	case o.JournalErr != "":
		return "the mock's journal could not be read: " + capText(o.JournalErr, 200)
	case o.Journal != nil && o.Journal.End == nil:
		return "the mock's journal has no end line"
	}
	return ""
}
