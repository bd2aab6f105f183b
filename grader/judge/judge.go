// Package judge computes a grading's findings and report from its evidence alone: checks on the
// runs, the review's rules on the static facts and sources, the AI rationale and the join, the
// score. It is a pure function of an Evidence and the rules compiled into this grader
// (RulesVersion): no engine, no file, no clock but the one it is given. It imports nothing that
// runs (TestJudgingImportsNothingThatRuns).
package judge

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/itsm-grader/grader/grader/checks"
	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/facts"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/review"
	"github.com/itsm-grader/grader/grader/version"
	"github.com/itsm-grader/grader/harness/journal"
)

// RulesVersion names the rules this grader judges by: the checks and their thresholds, the
// review's rules, the join, the weights. Change it whenever any of them changes what a verdict
// could be (TestRulesVersionNamesTheRules fails until it is changed). Dated, then a counter.
const RulesVersion = "2026-12-02.3"

// Judge computes the report of a grading from its evidence; at is the judging time.
func Judge(ev *evidence.Evidence, at time.Time) (*report.Report, error) {
	sources, fs, err := staticOf(ev.Static)
	if err != nil {
		return nil, err
	}
	track := review.Track(sources)
	staticFindings := review.Review(&review.Input{Facts: fs, Failure: ev.Static.Failure, Sources: sources})
	meta := report.Submission{Source: ev.Submission.Source, Ref: ev.Submission.Ref, Commit: ev.Submission.Commit, Track: track}
	var rep *report.Report
	if !ev.Build.OK {
		rep = buildFailed(meta, ev.Build, staticFindings, sources, track, at)
	} else {
		obs, err := checks.Observe(ev.Runs)
		if err != nil {
			return nil, fmt.Errorf("judge: %w", err)
		}
		info := report.Build{OK: true, Dependencies: ev.Build.Dependencies, TookMS: ev.Build.TookMS}
		for _, w := range ev.Build.Warnings {
			info.Messages = append(info.Messages, checks.Clean(w.String()))
		}
		rep = report.New(meta, info, joined(checks.Run(obs), staticFindings, sources, track), runs(obs), at)
	}
	rep.Static = staticInfo(ev.Static, fs)
	rep.Versions = report.Versions{Grader: version.Grader(), Suite: ev.Versions.Suite, Rules: RulesVersion}
	rep.Evidence = report.EvidenceInfo{Versions: report.Versions(ev.Versions), CapturedAt: ev.CapturedAt.UTC()}
	rep.Rejudged = rejudged(rep.Evidence, rep.Versions)
	for _, m := range ev.Remeasured {
		rep.Remeasured = append(rep.Remeasured, checks.Clean(m.Scenario+": "+m.Reason))
	}
	return rep, nil
}

// rejudged says, in words, when the evidence was captured by another grader or judged by other
// rules than these: the report's findings are then these rules' reading of older observations.
func rejudged(captured report.EvidenceInfo, judging report.Versions) string {
	if captured.Rules == judging.Rules && captured.Grader == judging.Grader {
		return ""
	}
	return fmt.Sprintf("judged again: the evidence was captured on %s by grader %s with rules %s; these findings were computed from it by grader %s with rules %s",
		captured.CapturedAt.Format("2006-01-02 15:04 UTC"), captured.Grader, captured.Rules, judging.Grader, judging.Rules)
}

// staticOf decodes the static review's evidence: the analyzer's facts (nil when it did not
// run) and the submission's sources (nil when there were none to read).
func staticOf(s evidence.Static) (*review.Sources, *facts.Facts, error) {
	var src *review.Sources
	if len(s.Sources) > 0 {
		src = &review.Sources{}
		if err := json.Unmarshal(s.Sources, src); err != nil {
			return nil, nil, fmt.Errorf("judge: the evidence's sources: %w", err)
		}
	}
	var fs *facts.Facts
	if len(s.Facts) > 0 {
		fs = &facts.Facts{}
		if err := json.Unmarshal(s.Facts, fs); err != nil {
			return nil, nil, fmt.Errorf("judge: the evidence's static facts: %w", err)
		}
		fs.TypeScript, fs.Took = s.TypeScript, time.Duration(s.TookMS)*time.Millisecond
	}
	return src, fs, nil
}

func staticInfo(s evidence.Static, fs *facts.Facts) *report.Static {
	info := &report.Static{}
	if fs == nil {
		info.Error = checks.Clean(s.Failure)
		return info
	}
	info.TypeScript, info.TookMS = checks.Clean(s.TypeScript), s.TookMS
	for _, f := range fs.Files {
		info.Files++
		info.Lines += f.Lines
	}
	return info
}

// joined puts measured and static findings together, judges the AI rationale against both, and
// relates each static finding to its measured counterparts.
func joined(measured, staticFindings []finding.Finding, src *review.Sources, track string) []finding.Finding {
	all := append(append([]finding.Finding{}, measured...), staticFindings...)
	all = append(all, review.Rationale(src, track, all))
	review.Join(all)
	return all
}

func buildFailed(meta report.Submission, b evidence.Build, staticFindings []finding.Finding, src *review.Sources, track string, at time.Time) *report.Report {
	info := report.Build{Stage: b.Stage, Summary: checks.Clean(b.Summary), TookMS: b.TookMS}
	for _, m := range b.Messages {
		for _, l := range strings.Split(strings.TrimRight(m.String(), "\n"), "\n") {
			info.Messages = append(info.Messages, checks.Clean(l))
		}
	}
	contract := checks.BuildFailed(fmt.Sprintf("the submission did not build (%s): %s", b.Stage, info.Summary), info.Messages)
	findings := append([]finding.Finding{contract}, checks.NotApplicable("the submission did not build, so nothing ran", "build.contract")...)
	return report.New(meta, info, joined(findings, staticFindings, src, track), nil, at)
}

// runs summarises each run for the report's timelines.
func runs(obs checks.Observations) []report.Run {
	var out []report.Run
	for _, o := range obs {
		r := report.Run{Scenario: o.Scenario, Trial: o.Trial, ExitCode: o.Process.ExitCode, TimedOut: o.Process.TimedOut,
			OOMKilled: o.Process.OOMKilled, WallMS: o.Process.Wall.Milliseconds(), Outcome: o.Outcome.Kind}
		if o.Process.CPUKnown {
			r.CPUMS = o.Process.CPU.Milliseconds()
		}
		if o.Journal != nil {
			r.Tickets = len(o.Journal.Tickets)
			r.Attempts = attempts(o.Journal)
		}
		out = append(out, r)
	}
	return out
}

func attempts(l *journal.Log) []report.Attempt {
	var out []report.Attempt
	var t0 int64 = -1
	for _, r := range l.Requests {
		subject := r.Ticket
		switch {
		case r.Endpoint == "source.list" && r.Offset != nil:
			subject = fmt.Sprintf("page %d", *r.Offset)
		case subject == "":
			continue
		}
		if t0 < 0 {
			t0 = r.ArrivalUS
		}
		out = append(out, report.Attempt{
			Subject: checks.Clean(subject), StartMS: (r.ArrivalUS - t0) / 1000, EndMS: (r.EndUS - t0) / 1000,
			Status: r.Status, Fault: r.Fault, Outcome: r.Outcome, EndedBy: r.EndedBy, Created: r.Created != "", Replay: r.Replayed,
		})
	}
	return out
}
