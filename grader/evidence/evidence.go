// Package evidence is what a grading observed, kept so that its verdicts can be computed again
// without running anything: each run's process, output (redacted, capped), files, the mock's
// journal and how the mock ended; the build's outcome; the static review's facts and the files
// it reads. It is plain data (JSON), written beside the reports as evidence.json.gz, and imports
// nothing that runs: judging is a pure function of an Evidence and a rules version.
package evidence

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/itsm-grader/grader/grader/similarity"
	"github.com/itsm-grader/grader/harness/journal"
)

// SchemaVersion is the version of the evidence file's shape. Bump it on any incompatible change;
// Read refuses versions it does not know.
const SchemaVersion = 1

// FileName is the evidence file's name beside the reports.
const FileName = "evidence.json.gz"

// MaxBytes caps an evidence file as read (uncompressed): sixteen runs' journals at their
// 48 MiB caps would not fit, and a grading that flooded the mock keeps a journal cut short.
const MaxBytes = 256 << 20

// Evidence is one grading's observations.
type Evidence struct {
	SchemaVersion int        `json:"schemaVersion"`
	Versions      Versions   `json:"versions"`
	CapturedAt    time.Time  `json:"capturedAt"`
	Submission    Submission `json:"submission"`
	Build         Build      `json:"build"`
	Static        Static     `json:"static"`
	Runs          []Run      `json:"runs"`
	// Remeasured lists the scenarios run again because the machine's noise left a timing
	// verdict inconclusive, and why: Runs holds the last measurement.
	Remeasured []Remeasure `json:"remeasured,omitempty"`
}

// Remeasure is one scenario run again.
type Remeasure struct {
	Scenario string `json:"scenario"`
	Reason   string `json:"reason"`
}

// Versions name what produced a grading: the grader binary, the suite (scenarios, trials and
// budgets) and the rules (checks, thresholds, review rules, weights).
type Versions struct {
	Grader string `json:"grader"`
	Suite  string `json:"suite"`
	Rules  string `json:"rules"`
}

// Submission says what was graded.
type Submission struct {
	Source string `json:"source"`
	Ref    string `json:"ref,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// Build is how the build ended.
type Build struct {
	OK           bool      `json:"ok"`
	Stage        string    `json:"stage,omitempty"`
	Summary      string    `json:"summary,omitempty"`
	Messages     []Message `json:"messages,omitempty"`
	Warnings     []Message `json:"warnings,omitempty"`
	Dependencies []string  `json:"dependencies,omitempty"`
	TookMS       int64     `json:"tookMs"`
}

// Message is one diagnostic of the build, located where possible.
type Message struct {
	Text string `json:"text"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

func (m Message) String() string {
	if m.File == "" {
		return m.Text
	}
	return fmt.Sprintf("%s:%d:%d: %s", m.File, m.Line, m.Col, m.Text)
}

// Static is what the static review observed: the analyzer's facts (as it printed them) or why it
// could not run, and the submission's files the rules read.
type Static struct {
	Facts      json.RawMessage `json:"facts,omitempty"`
	Failure    string          `json:"failure,omitempty"`
	TypeScript string          `json:"typescript,omitempty"`
	TookMS     int64           `json:"tookMs"`
	Sources    json.RawMessage `json:"sources,omitempty"`
	// Tokens is the submission's TypeScript as the pinned scanner reads it in the sandbox
	// (identifiers and literals normalised, comments gone), for similarity within a cohort;
	// TokensFailure says why it could not be read.
	Tokens        *similarity.Document `json:"tokens,omitempty"`
	TokensFailure string               `json:"tokensFailure,omitempty"`
	// Code is the submission's TypeScript files as bytes (capped), so similar passages can be
	// shown side by side.
	Code []CodeFile `json:"code,omitempty"`
}

// CodeFile is one source file of the submission, relative to its root.
type CodeFile struct {
	Path string `json:"path"`
	Data string `json:"data"`
}

// Run is one run of one scenario in the sandbox, as observed.
type Run struct {
	Scenario string `json:"scenario"`
	Trial    int    `json:"trial"`
	Seed     int64  `json:"seed"`
	// Budget is the scenario's wall clock; Plan its fault plan as written (YAML).
	Budget time.Duration `json:"budgetNs"`
	Plan   string        `json:"plan"`
	// Marker starts the driver's own result line on stdout.
	Marker  string  `json:"marker"`
	Process Process `json:"process"`
	// Stdout, Stderr and the files left in /tmp are the candidate's, with the run's tokens
	// redacted; Leaks says where tokens were before redaction.
	Stdout       Output  `json:"stdout"`
	Stderr       Output  `json:"stderr"`
	TmpFiles     []File  `json:"tmpFiles,omitempty"`
	TmpTruncated bool    `json:"tmpTruncated,omitempty"`
	Leaks        []Leak  `json:"leaks,omitempty"`
	Outcome      Outcome `json:"outcome"`
	// Journal is the mock's journal (JSON Lines) as far as it was read: every complete line.
	// JournalCut says it was cut short (the sandbox's read cap, or the mock dying mid-line);
	// JournalOverCap says the read cap did it.
	JournalText    string `json:"journal"`
	JournalCut     bool   `json:"journalCut,omitempty"`
	JournalOverCap bool   `json:"journalOverCap,omitempty"`
	Mock           Mock   `json:"mock"`
	// Delays are how long the sandbox saw the candidate's main thread held back (the machine ran
	// something else, or its CPU quota), on the journal's clock; the journal's noise lines are
	// what stalled the mock. Timing checks weigh a wait against both.
	Delays journal.Delays `json:"delays"`
}

// Process is how the candidate's process ended.
type Process struct {
	ExitCode  int           `json:"exitCode"`
	OOMKilled bool          `json:"oomKilled,omitempty"`
	TimedOut  bool          `json:"timedOut,omitempty"`
	Wall      time.Duration `json:"wallNs"`
	CPU       time.Duration `json:"cpuNs"`
	CPUKnown  bool          `json:"cpuKnown"`
}

// Output is a stream: the bytes kept (redacted), how many there were, whether the cap cut it.
type Output struct {
	Data      string `json:"data"`
	Total     int64  `json:"total"`
	Truncated bool   `json:"truncated,omitempty"`
}

// File is one entry the candidate left in /tmp (redacted).
type File struct {
	Path       string `json:"path"`
	Type       string `json:"type"`
	Size       int64  `json:"size"`
	LinkTarget string `json:"linkTarget,omitempty"`
	Data       string `json:"data,omitempty"`
	Truncated  bool   `json:"truncated,omitempty"`
}

// Leak is a token found in the candidate's output or files, before they were redacted.
type Leak struct {
	Where string `json:"where"` // "stdout", "stderr" or "/tmp/<path>"
	Line  int    `json:"line,omitempty"`
	Token string `json:"token"` // "source" or "target"
	Form  string `json:"form"`  // "plain", "base64", "url-encoded", "partial", "fragment"
	// Random counts the token's random characters a fragment holds (fragments only).
	Random int `json:"random,omitempty"`
}

// Mock is how the mock ended and what it used.
type Mock struct {
	Exit             int    `json:"exit"`
	OOMKilled        bool   `json:"oomKilled,omitempty"`
	Died             bool   `json:"died,omitempty"`
	StopKilled       bool   `json:"stopKilled,omitempty"`
	Log              Output `json:"log"`
	StatsKnown       bool   `json:"statsKnown,omitempty"`
	PeakMemory       int64  `json:"peakMemory,omitempty"`
	ThrottledPeriods int64  `json:"throttledPeriods,omitempty"`
}

// ParseJournal reads a run's journal strictly.
func (r *Run) ParseJournal() (*journal.Log, error) {
	return journal.Read(strings.NewReader(r.JournalText), 0)
}

// Write writes e as gzipped JSON.
func Write(w io.Writer, e *Evidence) error {
	zw := gzip.NewWriter(w)
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return fmt.Errorf("write evidence: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write evidence: %w", err)
	}
	return nil
}

// ErrVersion is returned when an evidence file has a schema this grader does not read.
var ErrVersion = errors.New("evidence schema version not supported")

// Read reads gzipped JSON evidence strictly: unknown fields are errors, and so is anything over
// MaxBytes.
func Read(r io.Reader) (*Evidence, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	defer zr.Close()
	raw, err := io.ReadAll(io.LimitReader(zr, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	if len(raw) > MaxBytes {
		return nil, fmt.Errorf("read evidence: over %d MiB", MaxBytes>>20)
	}
	var head struct {
		SchemaVersion int `json:"schemaVersion"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	if head.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%w: %d (this grader reads %d)", ErrVersion, head.SchemaVersion, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var e Evidence
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	return &e, nil
}
