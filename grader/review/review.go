// Package review judges what the static analyzer found in a submission's code: one rule a
// file, each a pure function of the facts (and of the submission's own files, for credentials,
// dependencies and the AI rationale). docs/static-review.md gives the rules in prose.
package review

import (
	"fmt"
	"sort"
	"strings"

	"github.com/itsm-grader/grader/grader/checks"
	"github.com/itsm-grader/grader/grader/facts"
	"github.com/itsm-grader/grader/grader/finding"
)

// Input is what the rules read.
type Input struct {
	// Facts are the analyzer's; nil when the review could not run (Failure says why).
	Facts   *facts.Facts
	Failure string
	// Sources are the submission's files the rules read (Gather, at capture).
	Sources *Sources
}

// Rule is one static rule.
type Rule struct {
	ID        string
	Title     string
	Severity  finding.Severity
	Critical  bool
	Indicator finding.Indicator
	Question  string
	// Related are the measured findings that speak to the same behaviour; Mirror is the one of
	// them that observes exactly what the rule reads in the code.
	Related []string
	Mirror  string
	Judge   func(in *Input) finding.Judgement
}

// Rules lists the static rules in report order; ai.rationale (Rationale) comes after them
// because it reads every other finding.
func Rules() []Rule {
	return []Rule{
		typecheckRule, credentialRule, tlsRule, secretLogRule, busyWaitRule, unboundedRetryRule,
		noTimeoutRule, separationRule, dependenciesRule, unsafeTypesRule,
	}
}

// maxEvidence caps the located evidence of one finding.
const maxEvidence = 12

// Review judges every static rule. Without facts (the review could not run) every rule that
// needs them is n/a with the reason.
func Review(in *Input) []finding.Finding {
	var secrets []string
	if in.Facts != nil {
		secrets = credentialValues(in)
	}
	var out []finding.Finding
	for _, r := range Rules() {
		var j finding.Judgement
		if in.Facts == nil && r.ID != dependenciesRule.ID {
			j = finding.Judged(finding.NA, "the static review could not run: %s", in.Failure)
		} else {
			j = r.Judge(in)
		}
		out = append(out, r.finding(mask(j, secrets)))
	}
	return out
}

func (r Rule) finding(j finding.Judgement) finding.Finding {
	if len(j.Evidence) > maxEvidence {
		more := len(j.Evidence) - maxEvidence
		j.Evidence = append(j.Evidence[:maxEvidence:maxEvidence], finding.Evidence{Text: fmt.Sprintf("and %d more", more)})
	}
	return finding.Finding{
		ID: r.ID, Kind: finding.Static, Title: r.Title, Verdict: j.Verdict, Severity: r.Severity,
		Critical: r.Critical && j.Verdict == finding.Fail, Indicator: r.Indicator, Summary: j.Summary,
		Evidence: j.Evidence, Measured: j.Measured, Question: r.Question,
	}
}

// located is evidence at a place in the code, with its source line as the excerpt.
func located(file string, line, col int, text, source string) finding.Evidence {
	ev := finding.Evidence{File: clean(file), Line: line, Column: col, Text: clean(text)}
	if source != "" {
		ev.Excerpts = []string{clean(source)}
	}
	return ev
}

func at(h facts.Hit, text string) finding.Evidence {
	return located(h.File, h.Line, h.Col, text, h.Text)
}

// clean neutralises what came from the candidate's files (control characters, length).
func clean(s string) string { return checks.Clean(s) }

// where renders a place for summaries: src/http.ts:71.
func where(file string, line int) string { return fmt.Sprintf("%s:%d", clean(file), line) }

// mask replaces every credential value found with its masked form, everywhere in a finding.Judgement.
func mask(j finding.Judgement, secrets []string) finding.Judgement {
	if len(secrets) == 0 {
		return j
	}
	sort.Slice(secrets, func(a, b int) bool { return len(secrets[a]) > len(secrets[b]) })
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, masked(s))
	}
	rep := strings.NewReplacer(pairs...)
	j.Summary = rep.Replace(j.Summary)
	for i := range j.Evidence {
		j.Evidence[i].Text = rep.Replace(j.Evidence[i].Text)
		for k := range j.Evidence[i].Excerpts {
			j.Evidence[i].Excerpts[k] = rep.Replace(j.Evidence[i].Excerpts[k])
		}
	}
	return j
}

// masked shows a credential's first and last four characters only.
func masked(s string) string {
	r := []rune(s)
	if len(r) <= 10 {
		return "[masked]"
	}
	return string(r[:4]) + "…[masked]…" + string(r[len(r)-4:])
}

func nonTest[T any](hits []T, test func(T) bool) (kept []T, tests int) {
	for _, h := range hits {
		if test(h) {
			tests++
		} else {
			kept = append(kept, h)
		}
	}
	return kept, tests
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
