package checks

import (
	"fmt"
	"strings"

	captured "github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/finding"
)

var secretsOutput = Check{
	ID: "secrets.output", Title: "Never prints or writes a token", Severity: finding.Critical, Critical: true,
	Indicator: finding.HardcodedOrLogged,
	Question:  "Show me where your client logs a failed request. What exactly ends up in that log line?",
	Judge: func(obs Observations) finding.Judgement {
		var leaked, fragments []finding.Evidence
		runs, longest := 0, 0
		for _, o := range obs {
			runs++
			whole, frags := splitLeaks(o.Leaks)
			if e := outputLeaks(o, whole); e != nil {
				leaked = append(leaked, *e)
			}
			if e := outputLeaks(o, frags); e != nil {
				fragments = append(fragments, *e)
				for _, l := range frags {
					longest = max(longest, l.Random)
				}
			}
		}
		switch {
		case runs == 0:
			return finding.Judged(finding.NA, "nothing ran")
		case len(leaked) > 0:
			return finding.Judged(finding.Fail, "a token appeared in the client's output or files in %d run(s)", len(leaked)).With(capEvidence(leaked, 4)...)
		case len(fragments) > 0:
			// 4 to 11 of the token's random characters: too few to use, enough to show that the
			// client prints its credentials (12 and more are a "partial" leak, above).
			return finding.Judged(finding.Warn, "a fragment of a token (up to %d of its random characters) appeared in the client's output in %d run(s)", longest, len(fragments)).
				With(capEvidence(fragments, 4)...).Measure("fragment_random_chars", float64(longest))
		}
		return finding.Judged(finding.Pass, "no token, in any form, in the output or files of %d runs", runs)
	},
}

// outputLeaks says where the run's tokens appeared in the client's output and files (found
// when the run was captured, before its output was redacted), with the lines that held them.
func outputLeaks(o Observation, leaks []captured.Leak) *finding.Evidence {
	var where, excerpts []string
	for _, l := range leaks {
		place := l.Where
		if l.Line > 0 {
			place = fmt.Sprintf("%s line %d", l.Where, l.Line)
			if len(excerpts) < 3 {
				excerpts = append(excerpts, Clean(lineOf(o, l.Where, l.Line)))
			}
		}
		where = append(where, fmt.Sprintf("%s (%s token, %s)", Clean(place), l.Token, l.Form))
	}
	if len(where) == 0 {
		return nil
	}
	e := evidence(o, "token found in: "+strings.Join(dedupe(where), ", "), dedupe(excerpts)...)
	return &e
}

// splitLeaks tells whole or encoded tokens and long partials from short fragments.
func splitLeaks(leaks []captured.Leak) (whole, fragments []captured.Leak) {
	for _, l := range leaks {
		if l.Form == "fragment" {
			fragments = append(fragments, l)
		} else {
			whole = append(whole, l)
		}
	}
	return whole, fragments
}

// lineOf is one line (counted from 1) of a captured stream, redacted as captured.
func lineOf(o Observation, stream string, n int) string {
	data := o.Stdout.Data
	if stream == "stderr" {
		data = o.Stderr.Data
	}
	lines := strings.Split(data, "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

var secretsTransport = Check{
	ID: "secrets.transport", Title: "Sends each token only in its own API's Authorization header", Severity: finding.Critical, Critical: true,
	Indicator: finding.SecureHeaders,
	Question:  "Where can a bearer token end up besides the Authorization header, and what did you do to keep it there?",
	Judge: func(obs Observations) finding.Judgement {
		var ev []finding.Evidence
		for _, o := range obs {
			if o.Journal == nil {
				continue
			}
			var found []string
			for _, r := range o.Journal.Requests {
				for _, l := range r.Leaks {
					found = append(found, fmt.Sprintf("%s token in %s (%s) of %s %s", l.Token, l.Where, l.Form, r.Method, r.Path))
				}
				if r.Listener == "untrusted" && (r.Auth.Token == "source" || r.Auth.Token == "target") {
					found = append(found, fmt.Sprintf("%s token sent to the untrusted TLS listener (%s %s)", r.Auth.Token, r.Method, r.Path))
				}
			}
			if len(found) > 0 {
				found = dedupe(found)
				ev = append(ev, evidence(o, fmt.Sprintf("%d leak(s)", len(found)), capList(found, 5)...))
			}
		}
		if len(ev) > 0 {
			return finding.Judged(finding.Fail, "a token left its own Authorization header in %d run(s)", len(ev)).With(capEvidence(ev, 4)...)
		}
		return finding.Judged(finding.Pass, "each token travelled only in the Authorization header of its own API")
	},
}

var tlsVerification = Check{
	ID: "tls.verification", Title: "Verifies TLS certificates", Severity: finding.Critical, Critical: true,
	Indicator: finding.AIRisks,
	Question:  "Your client fails against a server with a self-signed certificate. What are your options, and which would you ship?",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "untrusted-tls"); ok {
			return j
		}
		o := obs.Of("untrusted-tls")[0]
		var reached []string
		for _, r := range o.Journal.Requests {
			if r.Listener == "untrusted" {
				reached = append(reached, line(r))
			}
		}
		if len(reached) > 0 {
			return finding.Judged(finding.Fail, "the client sent %d request(s) to a server whose certificate it could not verify", len(reached)).
				With(evidence(o, "requests the untrusted listener received", capList(reached, 4)...))
		}
		refused := 0
		for _, e := range o.Journal.TLSErrors {
			if e.Listener == "untrusted" {
				refused++
			}
		}
		if refused == 0 {
			return finding.Judged(finding.NA, "the client never tried the untrusted target")
		}
		return finding.Judged(finding.Pass, "the client refused the untrusted certificate (%d handshake(s) failed, no request sent)", refused)
	},
}
