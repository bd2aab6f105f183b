// Package report is the findings report: one model (Report, versioned JSON that hiring teams'
// tooling reads) and writers for JSON, Markdown and self-contained HTML. Everything a candidate
// produced reaches it already cleaned by the checks (tokens redacted, control characters shown,
// lengths capped); each writer escapes again for its own format.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/itsm-grader/grader/grader/finding"
)

// SchemaVersion is the version of report.json's shape. Bump it on any incompatible change.
// Version 2 (issue 5) added the static review: findings' kind, evidence file/line/column,
// related findings, the verdict "info", the submission's track and the static block.
// Version 3 (issue 10): judgedAt replaces gradedAt; the versions that judged and those that
// captured the evidence; each finding's fingerprint.
const SchemaVersion = 3

// Report is one grading.
type Report struct {
	SchemaVersion int        `json:"schemaVersion"`
	Submission    Submission `json:"submission"`
	// JudgedAt is when the findings were computed; Evidence.CapturedAt when the runs were made.
	JudgedAt time.Time `json:"judgedAt"`
	// Versions judged the evidence; Evidence says what captured it. Rejudged says, in words,
	// when the two differ (evidence judged again by other rules or another grader).
	Versions Versions     `json:"versions"`
	Evidence EvidenceInfo `json:"evidence"`
	Rejudged string       `json:"rejudged,omitempty"`
	// Remeasured says which scenarios were run again because the machine's noise left a timing
	// verdict inconclusive, and why: the findings read the last measurement.
	Remeasured []string          `json:"remeasured,omitempty"`
	Score      Score             `json:"score"`
	Critical   []string          `json:"critical"`
	Findings   []finding.Finding `json:"findings"`
	Build      Build             `json:"build"`
	Static     *Static           `json:"static,omitempty"`
	Runs       []Run             `json:"runs"`
}

// Versions name the grader binary, the suite (scenarios, trials, budgets) and the rules
// (checks, thresholds, review rules, weights).
type Versions struct {
	Grader string `json:"grader"`
	Suite  string `json:"suite"`
	Rules  string `json:"rules"`
}

// EvidenceInfo says what captured the evidence a report was judged from, and when.
type EvidenceInfo struct {
	Versions
	CapturedAt time.Time `json:"capturedAt"`
}

// Static says how the static review ran: the compiler's version, what it read and how long it
// took, or why it could not run.
type Static struct {
	TypeScript string `json:"typescript,omitempty"`
	Files      int    `json:"files"`
	Lines      int    `json:"lines"`
	TookMS     int64  `json:"tookMs"`
	Error      string `json:"error,omitempty"`
}

// Submission says what was graded.
type Submission struct {
	Source string `json:"source"`
	Ref    string `json:"ref,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Track is what SUBMISSION.md declares: "ai", "manual" or "unknown".
	Track string `json:"track,omitempty"`
}

// Score is the total (0–100) and how each finding contributed.
type Score struct {
	Total     float64     `json:"total"`
	Note      string      `json:"note,omitempty"`
	Breakdown []ScoreItem `json:"breakdown"`
}

// ScoreItem is one finding's contribution: pass earns its weight, warn half, fail nothing; n/a
// and info (a fact, not a judgement) are left out of the total.
type ScoreItem struct {
	ID      string  `json:"id"`
	Verdict string  `json:"verdict"`
	Weight  float64 `json:"weight"`
	Earned  float64 `json:"earned"`
}

// Build summarises how the submission was built.
type Build struct {
	OK           bool     `json:"ok"`
	Stage        string   `json:"stage,omitempty"`
	Summary      string   `json:"summary,omitempty"`
	Messages     []string `json:"messages,omitempty"`
	Dependencies []string `json:"dependencies,omitempty"`
	TookMS       int64    `json:"tookMs"`
}

// Run is one sandbox run, with its attempts for the timeline.
type Run struct {
	Scenario  string    `json:"scenario"`
	Trial     int       `json:"trial"`
	ExitCode  int       `json:"exitCode"`
	TimedOut  bool      `json:"timedOut"`
	OOMKilled bool      `json:"oomKilled"`
	WallMS    int64     `json:"wallMs"`
	CPUMS     int64     `json:"cpuMs,omitempty"`
	Outcome   string    `json:"outcome"`
	Tickets   int       `json:"ticketsCreated"`
	Attempts  []Attempt `json:"attempts"`
}

// Attempt is one request the mock saw, for the timeline.
type Attempt struct {
	Subject string `json:"subject"` // "INC0010001" or "page 10"
	StartMS int64  `json:"startMs"`
	EndMS   int64  `json:"endMs"`
	Status  int    `json:"status,omitempty"`
	Fault   string `json:"fault,omitempty"`
	Outcome string `json:"outcome"`
	EndedBy string `json:"endedBy"`
	Created bool   `json:"created,omitempty"`
	Replay  bool   `json:"replayed,omitempty"`
}

var weights = map[finding.Severity]float64{finding.Critical: 15, finding.High: 10, finding.Medium: 6, finding.Low: 3}

// New assembles a report and computes its score and critical list.
func New(sub Submission, b Build, findings []finding.Finding, runs []Run, at time.Time) *Report {
	r := &Report{SchemaVersion: SchemaVersion, Submission: sub, JudgedAt: at.UTC(), Findings: findings, Build: b, Runs: runs, Critical: []string{}}
	earned, possible := 0.0, 0.0
	for i, f := range findings {
		findings[i].Fingerprint = f.FingerprintOf()
		w := weights[f.Severity]
		item := ScoreItem{ID: f.ID, Verdict: string(f.Verdict), Weight: w}
		switch f.Verdict {
		case finding.Pass:
			item.Earned = w
		case finding.Warn:
			item.Earned = w / 2
		}
		if f.Verdict != finding.NA && f.Verdict != finding.Info {
			earned += item.Earned
			possible += w
		}
		r.Score.Breakdown = append(r.Score.Breakdown, item)
		if f.Critical {
			r.Critical = append(r.Critical, f.ID)
		}
	}
	if possible > 0 {
		r.Score.Total = float64(int(earned/possible*1000+0.5)) / 10
	}
	// A client that does not build did nothing: its score is 0, whatever the static review
	// found in its code (the findings still say what that was).
	if c := r.Finding("build.contract"); c != nil && c.Verdict == finding.Fail {
		r.Score.Total = 0
		r.Score.Note = "the submission did not build, so it scores 0; the static findings are reported, not scored"
	}
	sort.Strings(r.Critical)
	return r
}

// WriteJSON writes report.json.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write report.json: %w", err)
	}
	return nil
}

// Finding returns the finding with the id, or nil.
func (r *Report) Finding(id string) *finding.Finding {
	for i := range r.Findings {
		if r.Findings[i].ID == id {
			return &r.Findings[i]
		}
	}
	return nil
}
