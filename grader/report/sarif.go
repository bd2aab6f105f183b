package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/itsm-grader/grader/grader/finding"
)

// SARIF 2.1.0 (OASIS), the subset GitHub code scanning reads: one run, the static rules as the
// driver's rules, one result per located piece of evidence of a failed or warned finding.
const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	srcRoot      = "%SRCROOT%"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string            `json:"name"`
	Version        string            `json:"version,omitempty"`
	InformationURI string            `json:"informationUri,omitempty"`
	Properties     map[string]string `json:"properties,omitempty"`
	Rules          []sarifRule       `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	FullDescription      sarifText       `json:"fullDescription"`
	Help                 sarifText       `json:"help"`
	DefaultConfiguration sarifConfig     `json:"defaultConfiguration"`
	Properties           sarifProperties `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifProperties struct {
	Tags             []string `json:"tags"`
	Precision        string   `json:"precision"`
	SecuritySeverity string   `json:"security-severity,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

// fingerprintKey names the grader's own fingerprint in partialFingerprints (versioned, as
// GitHub asks of tools that define their own).
const fingerprintKey = "itsmGraderLocation/v1"

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// securitySeverity is GitHub's 0–10 scale for security rules.
var securitySeverity = map[finding.Severity]string{finding.Critical: "9.5", finding.High: "7.5", finding.Medium: "5.0", finding.Low: "2.0"}

func sarifLevel(f finding.Finding) string {
	switch {
	case f.Verdict == finding.Fail && (f.Severity == finding.Critical || f.Severity == finding.High):
		return "error"
	case f.Verdict == finding.Fail, f.Severity == finding.Critical, f.Severity == finding.High, f.Severity == finding.Medium:
		return "warning"
	}
	return "note"
}

// codeLevel says whether a finding is about the code (a static rule or the AI rationale).
func codeLevel(f finding.Finding) bool {
	return f.Kind == finding.Static
}

// WriteSARIF writes report.sarif: the code-level findings as SARIF 2.1.0.
func (r *Report) WriteSARIF(w io.Writer) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "itsm-grader", Version: r.Versions.Grader, InformationURI: "https://github.com/itsm-grader/grader",
		Properties: map[string]string{"rulesVersion": r.Versions.Rules, "suiteVersion": r.Versions.Suite}, Rules: []sarifRule{}}}, Results: []sarifResult{}}
	for _, f := range r.Findings {
		if !codeLevel(f) {
			continue
		}
		idx := len(run.Tool.Driver.Rules)
		tags := []string{"itsm-grader", f.Indicator.Kind}
		rule := sarifRule{
			ID: f.ID, Name: ruleName(f.ID), ShortDescription: sarifText{f.Title},
			FullDescription:      sarifText{fmt.Sprintf("%s (hiring kit, %s indicator: %s)", f.Title, f.Indicator.Kind, f.Indicator.Text)},
			Help:                 sarifText{"Interview question: " + f.Question},
			DefaultConfiguration: sarifConfig{Level: sarifLevel(finding.Finding{Verdict: finding.Fail, Severity: f.Severity})},
			Properties:           sarifProperties{Tags: tags, Precision: "medium"},
		}
		if f.Critical || f.Severity == finding.Critical || strings.Contains(f.ID, "credential") || strings.Contains(f.ID, "tls") || strings.Contains(f.ID, "secret") {
			rule.Properties.Tags = append(rule.Properties.Tags, "security")
			rule.Properties.SecuritySeverity = securitySeverity[f.Severity]
		}
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule)
		if f.Verdict != finding.Fail && f.Verdict != finding.Warn {
			continue
		}
		located := false
		for _, ev := range f.Evidence {
			if ev.File == "" || ev.Line <= 0 {
				continue
			}
			located = true
			run.Results = append(run.Results, sarifResult{
				RuleID: f.ID, RuleIndex: idx, Level: sarifLevel(f), Message: sarifText{ev.Text + ". " + f.Summary},
				Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
					ArtifactLocation: sarifArtifact{URI: sarifURI(ev.File), URIBaseID: srcRoot},
					Region:           &sarifRegion{StartLine: ev.Line, StartColumn: max(ev.Column, 0)},
				}}},
				PartialFingerprints: map[string]string{fingerprintKey: finding.LocationHash(f.ID, ev)},
			})
		}
		if !located {
			// GitHub code scanning wants a location: the file the finding is about.
			file := "package.json"
			if f.ID == "ai.rationale" {
				file = "SUBMISSION.md"
			}
			run.Results = append(run.Results, sarifResult{
				RuleID: f.ID, RuleIndex: idx, Level: sarifLevel(f), Message: sarifText{f.Summary},
				Locations:           []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: file, URIBaseID: srcRoot}}}},
				PartialFingerprints: map[string]string{fingerprintKey: f.Fingerprint},
			})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("write report.sarif: %w", err)
	}
	return nil
}

// ruleName turns static.hardcoded_credential into StaticHardcodedCredential.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '.' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// sarifURI escapes a relative path segment by segment (a candidate's file may be named
// anything).
func sarifURI(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
