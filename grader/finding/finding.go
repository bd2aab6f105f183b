// Package finding is the shape of what grading concludes: one Finding per check, with its
// verdict, the hiring kit's indicator it evidences, the evidence itself and a question for the
// live interview. Reports render findings; checks produce them.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
)

// Verdict of a finding.
type Verdict string

const (
	Pass Verdict = "pass"
	Fail Verdict = "fail"
	Warn Verdict = "warn"
	NA   Verdict = "n/a"
	// Info is a fact reported without a judgement (static.separation): left out of the score.
	Info Verdict = "info"
)

// Kinds of finding: what the mock observed, or what the code says.
const (
	Measured = "measured"
	Static   = "static"
)

// Severity of a failed finding.
type Severity string

const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
)

// Indicator is the hiring kit's indicator a finding speaks to (shared/seed: the Coding Test's
// positive and negative indicators), or a requirement of the task statement itself.
type Indicator struct {
	Kind string `json:"kind"` // "positive", "negative" or "requirement"
	Text string `json:"text"`
}

// Evidence is one piece of support: a sentence, with the scenario it comes from and excerpts
// (journal lines, log lines: already redacted and capped by the check).
// A static finding's evidence is located in the submission (File, relative to its root, Line and
// Column counted from 1) and its excerpt is the source line.
type Evidence struct {
	Scenario string   `json:"scenario,omitempty"`
	Trial    int      `json:"trial,omitempty"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	Text     string   `json:"text"`
	Excerpts []string `json:"excerpts,omitempty"`
}

// Related is a finding of the other kind that speaks to the same behaviour (a static
// "TLS verification off" beside the measured "token sent to the untrusted listener").
type Related struct {
	ID      string  `json:"id"`
	Kind    string  `json:"kind"`
	Verdict Verdict `json:"verdict"`
	Summary string  `json:"summary"`
}

// Finding is one check's conclusion.
type Finding struct {
	ID        string             `json:"id"`
	Kind      string             `json:"kind"` // Measured or Static
	Title     string             `json:"title"`
	Verdict   Verdict            `json:"verdict"`
	Severity  Severity           `json:"severity"`
	Critical  bool               `json:"critical"` // a failure an interviewer must not miss
	Indicator Indicator          `json:"indicator"`
	Summary   string             `json:"summary"`
	Evidence  []Evidence         `json:"evidence"`
	Measured  map[string]float64 `json:"measured,omitempty"`
	Question  string             `json:"question"`
	Related   []Related          `json:"related,omitempty"`
	// ObscuredBy names the findings whose flaws kept part of this one's behaviour from being
	// observed; its verdict rests on the rest.
	ObscuredBy []string `json:"obscuredBy,omitempty"`
	// Fingerprint identifies the finding across gradings and re-judgings (FingerprintOf).
	Fingerprint string `json:"fingerprint"`
}

// FingerprintOf is a stable identity for a finding: its id and, for a finding located in the
// code, the file and source line of each piece of evidence (not the line number, which moves
// when code above it changes). A measured finding is identified by its id.
func (f Finding) FingerprintOf() string {
	h := sha256.New()
	io.WriteString(h, f.ID)
	for _, e := range f.Evidence {
		if e.File != "" {
			io.WriteString(h, "\x00"+LocationHash(f.ID, e))
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// LocationHash identifies one located piece of evidence of a finding: the finding's id, the
// file and the source line quoted (its first excerpt), white space trimmed.
func LocationHash(id string, e Evidence) string {
	line := ""
	if len(e.Excerpts) > 0 {
		line = strings.Join(strings.Fields(e.Excerpts[0]), " ")
	}
	sum := sha256.Sum256([]byte(id + "\x00" + e.File + "\x00" + line))
	return hex.EncodeToString(sum[:])[:16]
}
