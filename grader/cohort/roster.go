// Package cohort grades a hiring round: a roster of candidates' submissions, fetched, queued in
// the store, graded with the sandbox as the only concurrency limit, resumable after any stop.
package cohort

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/itsm-grader/grader/grader/intake"
)

// Entry is one line of a roster: a candidate and their submission.
type Entry struct {
	Candidate string
	// Source is as `grader grade` takes it: a folder (resolved against the roster's folder
	// when relative) or an https git URL; Ref a git ref.
	Source, Ref string
	// Track is "ai", "manual" or "" (then what SUBMISSION.md declares).
	Track string
	// Line is the entry's line in the roster, for messages.
	Line int
}

// Roster limits: a hiring round is tens to hundreds of candidates.
const (
	maxEntries       = 10_000
	maxCandidateName = 200
)

// rosterHeader is the roster's required first line.
var rosterHeader = []string{"candidate", "source", "ref", "track"}

// ReadRoster reads a roster (CSV with the header candidate,source,ref,track) whose relative
// folder sources are relative to dir. Every line is checked before anything is graded: a
// candidate named twice, a source that is neither a folder nor an https git URL, an unknown
// track are errors naming the line. remote (nil: none) takes the sources of a hosting service
// (GitHub repositories).
func ReadRoster(r io.Reader, dir string, remote intake.Remote) ([]Entry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked below, to say which line
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("roster: read the header: %w", err)
	}
	if !isHeader(head) {
		return nil, fmt.Errorf("roster: the header must be %s, not %s", strings.Join(rosterHeader, ","), strings.Join(head, ","))
	}
	var out []Entry
	seen := map[string]int{}
	var problems []error
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("roster: %w", err)
		}
		if len(rec) != len(rosterHeader) {
			problems = append(problems, fmt.Errorf("roster line %d: wrong number of fields: %d, not %d (%s)", line, len(rec), len(rosterHeader), strings.Join(rosterHeader, ",")))
			continue
		}
		if len(out) == maxEntries {
			return nil, fmt.Errorf("roster: more than %d entries", maxEntries)
		}
		e := Entry{Candidate: strings.TrimSpace(rec[0]), Source: strings.TrimSpace(rec[1]), Ref: strings.TrimSpace(rec[2]), Track: strings.ToLower(strings.TrimSpace(rec[3])), Line: line}
		if err := e.check(dir, remote); err != nil {
			problems = append(problems, fmt.Errorf("roster line %d: %w", line, err))
			continue
		}
		if first, ok := seen[e.Candidate]; ok {
			problems = append(problems, fmt.Errorf("roster line %d: candidate %q is already on line %d", line, e.Candidate, first))
			continue
		}
		seen[e.Candidate] = line
		out = append(out, e)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if len(out) == 0 {
		return nil, errors.New("roster: no candidates")
	}
	return out, nil
}

func isHeader(head []string) bool {
	if len(head) != len(rosterHeader) {
		return false
	}
	for i, want := range rosterHeader {
		if strings.TrimSpace(strings.ToLower(strings.TrimPrefix(head[i], "\ufeff"))) != want {
			return false
		}
	}
	return true
}

// check validates an entry and resolves a relative folder source against dir.
func (e *Entry) check(dir string, remote intake.Remote) error {
	if err := checkName(e.Candidate); err != nil {
		return err
	}
	switch e.Track {
	case "", "ai", "manual":
	default:
		return fmt.Errorf("track %q: give ai, manual, or leave it empty (SUBMISSION.md then says)", e.Track)
	}
	if e.Source == "" {
		return errors.New("no source")
	}
	if !intake.IsGit(e.Source, remote) && !filepath.IsAbs(e.Source) {
		e.Source = filepath.Join(dir, e.Source)
	}
	return intake.Check(e.Source, e.Ref, remote)
}

// checkName admits a candidate name a report and a file listing can show as it is: printable,
// no path separators, bounded.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("no candidate name")
	case len(name) > maxCandidateName:
		return fmt.Errorf("candidate name over %d bytes", maxCandidateName)
	case !utf8.ValidString(name):
		return errors.New("candidate name is not UTF-8")
	case strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		return fmt.Errorf("candidate name %q holds a path separator", name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("candidate name %q holds a control character", name)
		}
	}
	return nil
}
