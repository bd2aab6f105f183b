package checks

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/harness/journal"
)

var statusWord = regexp.MustCompile(`\b(5\d\d|4\d\d)\b`)

var loggingErrors = Check{
	ID: "logging.errors", Title: "Logs failures with enough context to act on", Severity: finding.Low,
	Indicator: finding.RetryAndLogging,
	Question:  "It's 3 a.m. and the sync failed for some tickets. What does your log tell the on-call engineer?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "transient-5xx"); ok {
			return j
		}
		o := obs.Of("transient-5xx")[0]
		out := outputLines(o)
		faulted, logged, mentioned := 0, 0, 0
		var good, bad []string
		for _, id := range sortedKeys(creates(o)) {
			for _, r := range creates(o)[id] {
				if r.Fault == "" {
					continue
				}
				faulted++
				status := strconv.Itoa(r.Status)
				hit, withID := "", false
				for _, l := range out {
					if strings.Contains(l, id) && strings.Contains(l, status) {
						hit = l
						break
					}
					if !withID && (strings.Contains(l, id) || strings.Contains(l, status)) {
						withID = true
					}
				}
				if hit != "" {
					logged++
					if len(good) < 2 {
						good = append(good, Clean(hit))
					}
				} else if withID {
					mentioned++
				} else if len(bad) < 2 {
					bad = append(bad, fmt.Sprintf("nothing names %s with its %s", id, status))
				}
			}
		}
		silent := silentFailures(obs)
		j := finding.Judgement{}.Measure("failures", float64(faulted)).Measure("logged_with_context", float64(logged)).
			Measure("silent", float64(len(silent)))
		switch {
		case faulted == 0:
			j.Verdict, j.Summary = finding.NA, "no failure to log"
		case float64(logged) >= loggedShare*float64(faulted) && len(silent) > 0:
			j.Verdict, j.Summary = finding.Warn, fmt.Sprintf("%d of %d failed attempts logged with the ticket and the status, but %d failure(s) elsewhere left no line of their own (a give-up, a source page)", logged, faulted, len(silent))
			j = j.With(evidence(o, "for example", good...)).With(capEvidence(silent, 4)...)
		case float64(logged) >= loggedShare*float64(faulted):
			j.Verdict, j.Summary = finding.Pass, fmt.Sprintf("%d of %d failed attempts logged with the ticket and the status", logged, faulted)
			j = j.With(evidence(o, "for example", good...))
		case logged+mentioned > 0 || anyFailureWords(out):
			j.Verdict, j.Summary = finding.Warn, fmt.Sprintf("failures are logged, but only %d of %d name both the ticket and the status", logged, faulted)
			j = j.With(evidence(o, "what the log says", append(good, bad...)...))
		default:
			j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("none of the %d failed attempts left a trace in the output", faulted)
		}
		return j
	},
}

func anyFailureWords(out []string) bool {
	for _, l := range out {
		low := strings.ToLower(l)
		if statusWord.MatchString(l) || strings.Contains(low, "retry") || strings.Contains(low, "error") || strings.Contains(low, "fail") {
			return true
		}
	}
	return false
}

// silentFailures finds failures the output does not account for: a ticket given up in outage
// or permanent-4xx after retries must leave a line for each failed attempt and one saying it
// was given up (a line more than its failures, or a last line that says so: "giving up",
// "permanent", retry=false…), so that neither a client logging only before it retries nor one
// logging only attempts passes as saying when it stops (a ticket tried once and logged once is
// accounted for); a failed source page in source-faults must leave a
// line for each failure naming its offset. The brief asks for every failure to be logged.
func silentFailures(obs Observations) []finding.Evidence {
	var out []finding.Evidence
	for _, name := range []string{"outage", "permanent-4xx"} {
		for _, o := range obs.Of(name) {
			if o.Process.TimedOut {
				continue // still retrying when stopped: it never gave up (retry.bounded, run.budget)
			}
			lines := outputLines(o)
			for _, id := range sortedKeys(creates(o)) {
				failures := failed(creates(o)[id])
				if failures == 0 || len(o.Journal.TicketsFor(id)) > 0 {
					continue
				}
				n, last := naming(lines, id)
				// One failed attempt and its line are the whole story; after retries, the line
				// that ends it must be there too.
				if failures == 1 && n >= 1 {
					continue
				}
				if n <= failures && !givesUp(last) {
					out = append(out, evidence(o, fmt.Sprintf("%s failed %d time(s) and was given up, but %d line(s) name it and none says it was given up", id, failures, n),
						Clean(last)))
				}
			}
		}
	}
	for _, o := range obs.Of("source-faults") {
		lines := outputLines(o)
		for subject, rs := range subjects(o) {
			if rs[0].Endpoint != "source.list" || rs[0].Offset == nil {
				continue
			}
			failures := failed(rs)
			if failures == 0 {
				continue
			}
			if n := namingPage(lines, *rs[0].Offset); n < failures {
				out = append(out, evidence(o, fmt.Sprintf("the source %s failed %d time(s), but %d line(s) name its offset", subject, failures, n)))
			}
		}
	}
	return out
}

// failed counts a subject's attempts that failed (a fault the client saw, or an error status).
func failed(rs []journal.Request) int {
	n := 0
	for _, r := range rs {
		if r.Fault != "" && r.Fault != "slow" || r.Status >= 400 {
			n++
		}
	}
	return n
}

// naming counts output lines that name an incident, and returns the last of them.
func naming(lines []string, id string) (n int, last string) {
	for _, l := range lines {
		if strings.Contains(l, id) {
			n++
			last = l
		}
	}
	return n, last
}

// givesUp says a line reports that a request was given up: in words, or as its last attempt
// ("attempt 5/5", "5 of 5").
func givesUp(line string) bool {
	if giveUpWord.MatchString(line) {
		return true
	}
	for _, m := range attemptOfMax.FindAllStringSubmatch(line, -1) {
		if m[1] == m[2] {
			return true
		}
	}
	return false
}

var attemptOfMax = regexp.MustCompile(`\b(\d{1,3})\s*(?:/|of)\s*(\d{1,3})\b`)

// giveUpWord says a line reports that a request was given up, not just that an attempt failed.
var giveUpWord = regexp.MustCompile(`(?i)giv(e|es|ing|en)[ _-]?up|gave[ _-]?up|abandon|exhaust|permanent|final|not[ _-]retry|no[ _-](more[ _-])?retr|won'?t[ _-]retry|out[ _-]of[ _-](retries|attempts)|"?retry"?\s*[:=]\s*false`)

// pageWord says a line is about paging the source.
var pageWord = regexp.MustCompile(`(?i)page|offset|source|incident`)

// namingPage counts output lines that name a source page by its offset: the number as a word in
// a line about the source.
func namingPage(lines []string, offset int) int {
	num := regexp.MustCompile(`(^|[^0-9])` + strconv.Itoa(offset) + `([^0-9]|$)`)
	n := 0
	for _, l := range lines {
		if num.MatchString(l) && pageWord.MatchString(l) {
			n++
		}
	}
	return n
}
