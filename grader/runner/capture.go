package runner

import (
	"bytes"
	"strings"

	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/harness/secrets"
	"github.com/itsm-grader/grader/sandbox"
)

// capture turns one sandbox run into evidence: how the process ended, its output and files with
// the run's tokens found (Leaks) and then redacted, the driver's record, the mock's journal up
// to any cut, and how the mock ended. Nothing of the run's tokens is kept: a verdict about a
// leak is judged from Leaks.
func capture(j job, tok *secrets.Tokens, marker string, res *sandbox.Result) evidence.Run {
	r := evidence.Run{
		Scenario: j.sc.Name, Trial: j.trial, Seed: j.plan.Seed, Budget: j.sc.Budget, Plan: j.source, Marker: marker,
		Process: evidence.Process{ExitCode: res.ExitCode, OOMKilled: res.OOMKilled, TimedOut: res.TimedOut,
			Wall: res.Wall, CPU: res.CPU, CPUKnown: res.CPUKnown},
		TmpTruncated: res.TmpTruncated,
		Mock: evidence.Mock{Exit: res.MockExit, OOMKilled: res.MockOOMKilled, Died: res.MockDied, StopKilled: res.MockStopKilled,
			Log: output(res.MockLog, tok), StatsKnown: res.MockStats.Known, PeakMemory: res.MockStats.PeakMemory,
			ThrottledPeriods: res.MockStats.ThrottledPeriods},
	}
	r.Leaks = append(streamLeaks(tok, "stdout", res.Stdout.Data), streamLeaks(tok, "stderr", res.Stderr.Data)...)
	raw := make([]evidence.File, 0, len(res.TmpFiles))
	for _, f := range res.TmpFiles {
		file := evidence.File{Path: f.Path, Type: f.Type, Size: f.Size, LinkTarget: f.LinkTarget, Data: string(f.Data), Truncated: f.Truncated}
		raw = append(raw, file)
		r.Leaks = append(r.Leaks, leaksIn(tok, file.Data+" "+file.Path+" "+file.LinkTarget, "/tmp/"+f.Path, 0)...)
		file.Path, file.LinkTarget, file.Data = tok.Redact(file.Path), tok.Redact(file.LinkTarget), tok.Redact(file.Data)
		r.TmpFiles = append(r.TmpFiles, file)
	}
	r.Outcome = redactOutcome(evidence.ReadOutcome(raw, string(res.Stdout.Data), marker), tok)
	r.Stdout, r.Stderr = output(res.Stdout, tok), output(res.Stderr, tok)
	r.JournalText, r.JournalCut = completeLines(res.Journal.Data)
	r.JournalCut = r.JournalCut || res.Journal.Truncated
	r.JournalOverCap = res.Journal.Truncated
	if l, err := r.ParseJournal(); err == nil {
		r.Delays = res.Sched.OnClock(l.Start.Wall)
	}
	return r
}

// streamLeaks finds the run's tokens, line by line, in one output stream.
func streamLeaks(tok *secrets.Tokens, stream string, data []byte) []evidence.Leak {
	var out []evidence.Leak
	for i, line := range strings.Split(string(data), "\n") {
		out = append(out, leaksIn(tok, line, stream, i+1)...)
	}
	return out
}

// leaksIn finds either token in s: whole or encoded (Find), or else a fragment of it (at least
// 8 of its characters, 4 of them random: secrets.Fragments), which judging weighs apart.
func leaksIn(tok *secrets.Tokens, s, where string, line int) []evidence.Leak {
	var out []evidence.Leak
	found := map[string]bool{}
	for _, l := range tok.Find(s, where) {
		out = append(out, evidence.Leak{Where: where, Line: line, Token: l.Token, Form: l.Form})
		found[l.Token] = true
	}
	for _, f := range tok.Fragments(s) {
		if !found[f.Token] {
			out = append(out, evidence.Leak{Where: where, Line: line, Token: f.Token, Form: "fragment", Random: f.Random})
		}
	}
	return out
}

func output(o sandbox.Output, tok *secrets.Tokens) evidence.Output {
	return evidence.Output{Data: tok.Redact(string(o.Data)), Total: o.Total, Truncated: o.Truncated}
}

func redactOutcome(o evidence.Outcome, tok *secrets.Tokens) evidence.Outcome {
	o.Error, o.Name = tok.Redact(o.Error), tok.Redact(o.Name)
	if len(o.Result) > 0 {
		o.Result = []byte(tok.Redact(string(o.Result))) // markers hold no quote or backslash: still JSON
	}
	return o
}

// completeLines keeps a journal up to its last complete line: a journal cut short (the read
// cap reached, or the mock dying mid-line) is judged on what was recorded, never discarded.
func completeLines(data []byte) (text string, cut bool) {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return string(data[:bytes.LastIndexByte(data, '\n')+1]), true
	}
	return string(data), false
}
