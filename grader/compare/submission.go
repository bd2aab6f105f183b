// Package compare is the comparison of one cohort: which findings of the rubric pass more often
// on one track than on the other (AI-assisted against manual by default), how far apart the
// scores lie, which of the hiring kit's indicators and critical findings differ, what the
// AI-track rationales say, and how sure each number is. Compare computes it from Submissions,
// whatever stores them (FromReport makes one from a report); WriteHTML, WriteMarkdown, WriteCSV
// and WriteJSON render it. Every candidate-derived text is cleaned (control characters shown,
// length capped) when the comparison is built, and escaped again by each writer.
package compare

import (
	"strings"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/report"
)

// Tracks a submission declares (SUBMISSION.md's front matter).
const (
	TrackAI      = "ai"
	TrackManual  = "manual"
	TrackUnknown = "unknown"
)

// What a rationale says was done with the assistant's draft.
const (
	Accepted = "accepted"
	Modified = "modified"
	Rejected = "rejected"
)

// rationaleKinds in the order they are shown.
var rationaleKinds = []string{Accepted, Modified, Rejected}

// Submission is one graded submission of a cohort, as the comparison needs it.
type Submission struct {
	Candidate string
	// Track is "ai", "manual" or "unknown".
	Track string
	// Score is the report's total, 0–100.
	Score    float64
	Findings []Verdict
	// Rationale is what the submission's RATIONALE.md says was accepted, modified or rejected
	// (AI track; optional).
	Rationale []RationaleItem
}

// Verdict is one finding of a submission.
type Verdict struct {
	ID      string
	Verdict finding.Verdict
	// Critical marks a critical finding that failed (the report's Critical list).
	Critical  bool
	Severity  finding.Severity
	Indicator finding.Indicator
}

// RationaleItem is one thing a rationale says of the assistant's draft.
type RationaleItem struct {
	// Kind is Accepted, Modified or Rejected.
	Kind string
	Text string
}

// FromReport is the submission a report describes, graded for candidate. The rationale items
// come from ai.rationale's evidence: one per kind the rationale covers with a reason
// ("accepted: 2 passages with a reason").
func FromReport(candidate string, r report.Report) Submission {
	s := Submission{Candidate: candidate, Track: normalTrack(r.Submission.Track), Score: r.Score.Total}
	for _, f := range r.Findings {
		s.Findings = append(s.Findings, Verdict{ID: f.ID, Verdict: f.Verdict, Critical: f.Critical, Severity: f.Severity, Indicator: f.Indicator})
		if f.ID == "ai.rationale" {
			s.Rationale = rationaleOf(f)
		}
	}
	return s
}

func normalTrack(t string) string {
	switch t := strings.ToLower(strings.TrimSpace(t)); t {
	case TrackAI, TrackManual:
		return t
	}
	return TrackUnknown
}

func rationaleOf(f finding.Finding) []RationaleItem {
	var items []RationaleItem
	for _, e := range f.Evidence {
		kind, text, ok := strings.Cut(e.Text, ":")
		if !ok || e.File != "RATIONALE.md" {
			continue
		}
		for _, k := range rationaleKinds {
			if kind == k {
				items = append(items, RationaleItem{Kind: k, Text: strings.TrimSpace(text)})
			}
		}
	}
	return items
}
