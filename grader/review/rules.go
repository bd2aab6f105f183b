package review

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/itsm-grader/grader/grader/facts"
	"github.com/itsm-grader/grader/grader/finding"
)

var typecheckRule = Rule{
	ID: "static.typecheck", Title: "The code type-checks under --strict", Severity: finding.Low,
	Indicator: finding.TypeScript, Related: []string{"build.contract"},
	Question: "Which of these compiler errors would have caught a real bug, and how do you keep the build strict?",
	Judge:    judgeTypecheck,
}

func judgeTypecheck(in *Input) finding.Judgement {
	f := in.Facts
	if !f.EntryFound {
		return finding.Judged(finding.Fail, "src/index.ts is missing: there is no program to check")
	}
	var syntax, other, excused []facts.Diagnostic
	typesFromDev := devTypes(in.Sources)
	for _, d := range f.Diagnostics {
		switch {
		case d.Syntactic:
			syntax = append(syntax, d)
		case d.Code == tsNoDeclarationFile && typesFromDev[quotedModule(d.Message)]:
			excused = append(excused, d)
		default:
			other = append(other, d)
		}
	}
	diag := func(d facts.Diagnostic) finding.Evidence {
		return located(d.File, d.Line, d.Col, fmt.Sprintf("TS%d: %s", d.Code, d.Message), "")
	}
	if len(syntax) > 0 {
		j := finding.Judged(finding.Fail, "the code does not parse: %s, the first at %s: %s", plural(len(syntax), "syntax error", "syntax errors"), where(syntax[0].File, syntax[0].Line), clean(syntax[0].Message))
		for _, d := range syntax {
			j = j.With(diag(d))
		}
		return j.Measure("syntax_errors", float64(len(syntax)))
	}
	counted := f.DiagnosticsTotal - len(excused)
	var notes []finding.Evidence
	for _, d := range excused {
		notes = append(notes, located(d.File, d.Line, d.Col, fmt.Sprintf("not counted: the declarations of '%s' come from a devDependency (@types), which the grader does not install (npm ci --omit=dev)", clean(quotedModule(d.Message))), ""))
	}
	if counted > 0 {
		j := finding.Judged(finding.Info, "%s under --strict (TypeScript %s), informational: the code still bundles and runs, so this is for the conversation, not the score",
			plural(counted, "type error", "type errors"), clean(f.TypeScript))
		for _, d := range other {
			j = j.With(diag(d))
		}
		return j.With(notes...).Measure("type_errors", float64(counted))
	}
	program := 0
	for _, x := range f.Files {
		if x.Program {
			program++
		}
	}
	return finding.Judged(finding.Pass, "%s under --strict with TypeScript %s", plural(program, "file type-checks", "files type-check"), clean(f.TypeScript)).With(notes...).Measure("type_errors", 0)
}

// tsNoDeclarationFile is TS7016: "Could not find a declaration file for module 'x'".
const tsNoDeclarationFile = 7016

var quoted = regexp.MustCompile(`module '([^']+)'`)

// quotedModule is the module a TS7016 message names.
func quotedModule(msg string) string {
	if m := quoted.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// devTypes are the packages whose declarations the submission takes from an @types
// devDependency: the grader installs runtime dependencies only, so their absence is ours, not
// the candidate's.
func devTypes(src *Sources) map[string]bool {
	if src == nil || src.PackageJSON == "" {
		return nil
	}
	raw := []byte(src.PackageJSON)
	var pkg struct {
		Dev map[string]string `json:"devDependencies"`
	}
	if json.Unmarshal(raw, &pkg) != nil {
		return nil
	}
	out := map[string]bool{}
	for name := range pkg.Dev {
		if t, ok := strings.CutPrefix(name, "@types/"); ok {
			if scope, rest, scoped := strings.Cut(t, "__"); scoped {
				t = "@" + scope + "/" + rest
			}
			out[t] = true
		}
	}
	return out
}

var tlsRule = Rule{
	ID: "static.tls_disabled", Title: "TLS verification is never switched off in the code", Severity: finding.Critical, Critical: true,
	Indicator: finding.AIRisks, Related: []string{"tls.verification", "secrets.transport"}, Mirror: "tls.verification",
	Question: "Why is this switch in the code, and what would you do instead when a server's certificate does not verify?",
	Judge: func(in *Input) finding.Judgement {
		hits, tests := nonTest(in.Facts.TLS, func(h facts.Hit) bool { return h.Test })
		if len(hits) == 0 {
			j := finding.Judged(finding.Pass, "nothing in the client's code switches certificate verification off")
			if tests > 0 {
				j.Summary += fmt.Sprintf(" (%s in test code only)", plural(tests, "switch", "switches"))
			}
			return j
		}
		j := finding.Judged(finding.Fail, "certificate verification is switched off at %s (%s), on every path that reaches it, whether or not the runs took it",
			where(hits[0].File, hits[0].Line), clean(hits[0].Kind))
		for _, h := range hits {
			j = j.With(at(h, h.Kind))
		}
		return j.Measure("switches", float64(len(hits)))
	},
}

var secretLogRule = Rule{
	ID: "static.secret_logged", Title: "No credential flows into a logging call", Severity: finding.High,
	Indicator: finding.HardcodedOrLogged, Related: []string{"secrets.output"}, Mirror: "secrets.output",
	Question: "What exactly does this log line print when it runs, and who can read those logs?",
	Judge: func(in *Input) finding.Judgement {
		hits, _ := nonTest(in.Facts.SecretLogs, func(h facts.Hit) bool { return h.Test })
		if len(hits) == 0 {
			return finding.Judged(finding.Pass, "%s; none receives a token, a headers or configuration object, or an error carrying them",
				plural(in.Facts.LogCalls, "logging call", "logging calls")).Measure("logging_calls", float64(in.Facts.LogCalls))
		}
		j := finding.Judged(finding.Fail, "%s a credential: %s at %s receives %s",
			plural(len(hits), "logging call receives", "logging calls receive"), clean(hits[0].Kind), where(hits[0].File, hits[0].Line), clean(hits[0].Detail))
		for _, h := range hits {
			j = j.With(at(h, fmt.Sprintf("%s receives %s", h.Kind, h.Detail)))
		}
		return j.Measure("logging_calls", float64(in.Facts.LogCalls)).Measure("leaking_calls", float64(len(hits)))
	},
}

var busyWaitRule = Rule{
	ID: "static.busy_wait", Title: "No loop spins on the clock", Severity: finding.High,
	Indicator: finding.BlockingLoops, Related: []string{"wait.blocking"}, Mirror: "wait.blocking",
	Question: "What does this loop do to every other request in flight while it waits?",
	Judge: func(in *Input) finding.Judgement {
		var spins []facts.Loop
		for _, l := range in.Facts.Loops {
			if l.Clock && !l.Awaits && !l.Test {
				spins = append(spins, l)
			}
		}
		if len(spins) == 0 {
			return finding.Judged(finding.Pass, "no loop reads the clock without awaiting: waits are timers")
		}
		j := finding.Judged(finding.Fail, "%s the clock without ever awaiting, blocking the event loop: %s in %s",
			plural(len(spins), "loop polls", "loops poll"), where(spins[0].File, spins[0].Line), functionName(spins[0].Function))
		for _, l := range spins {
			j = j.With(at(l.Hit, fmt.Sprintf("a %s in %s reads the clock and never awaits", loopKind(l.Kind), functionName(l.Function))))
		}
		return j.Measure("spinning_loops", float64(len(spins)))
	},
}

var unboundedRetryRule = Rule{
	ID: "static.unbounded_retry", Title: "Every retry loop has an exit on failure", Severity: finding.High,
	Indicator: finding.FixedRetryLogic, Related: []string{"retry.bounded"}, Mirror: "retry.bounded",
	Question: "If the target stayed down for an hour, when would this loop stop, and what would it have done meanwhile?",
	Judge: func(in *Input) finding.Judgement {
		var retries, unbounded []facts.Loop
		for _, l := range in.Facts.Loops {
			if l.Retry && !l.Test {
				retries = append(retries, l)
				if l.BoundedBy == "" {
					unbounded = append(unbounded, l)
				}
			}
		}
		options, _ := nonTest(in.Facts.RetryOptions, func(h facts.Hit) bool { return h.Test })
		if len(unbounded) > 0 || len(options) > 0 {
			var j finding.Judgement
			if len(unbounded) > 0 {
				j = finding.Judged(finding.Fail, "the retry %s at %s in %s has no exit on failure: nothing counts attempts or watches a deadline",
					loopKind(unbounded[0].Kind), where(unbounded[0].File, unbounded[0].Line), functionName(unbounded[0].Function))
			} else {
				j = finding.Judged(finding.Fail, "a retry library is told to retry for ever: %s at %s", clean(options[0].Kind), where(options[0].File, options[0].Line))
			}
			for _, l := range unbounded {
				j = j.With(at(l.Hit, fmt.Sprintf("retry %s in %s: its exits are on success or on a permanent failure only", loopKind(l.Kind), functionName(l.Function))))
			}
			for _, h := range options {
				j = j.With(at(h, h.Kind))
			}
			return j.Measure("retry_loops", float64(len(retries))).Measure("unbounded", float64(len(unbounded)+len(options)))
		}
		libs, _ := nonTest(in.Facts.RetryLibraries, func(h facts.Hit) bool { return h.Test })
		if len(retries) == 0 && len(libs) == 0 {
			return finding.Judged(finding.Pass, "no retry loop was found (whether the client retries at all is retry.transient's to say)").Measure("retry_loops", 0)
		}
		parts := []string{}
		j := finding.Judgement{Verdict: finding.Pass}
		for _, l := range retries {
			parts = append(parts, fmt.Sprintf("%s: %s", functionName(l.Function), l.BoundedBy))
			j = j.With(at(l.Hit, fmt.Sprintf("retry %s in %s is bounded: %s", loopKind(l.Kind), functionName(l.Function), l.BoundedBy)))
		}
		for _, h := range libs {
			parts = append(parts, "retries by "+h.Kind+" with finite options")
			j = j.With(at(h, "retries are left to "+h.Kind))
		}
		j.Summary = clean("every retry is bounded: " + strings.Join(parts, "; "))
		return j.Measure("retry_loops", float64(len(retries)))
	},
}

var noTimeoutRule = Rule{
	ID: "static.no_timeout", Title: "Requests carry a timeout", Severity: finding.Medium,
	Indicator: finding.TimesOut, Related: []string{"timeout.request"}, Mirror: "timeout.request",
	Question: "What happens to this request, and to the whole sync, when the server accepts the connection and never answers?",
	Judge: func(in *Input) finding.Judgement {
		reqs, _ := nonTest(in.Facts.Requests, func(r facts.Request) bool { return r.Test })
		timeouts, _ := nonTest(in.Facts.Timeouts, func(h facts.Hit) bool { return h.Test })
		if len(reqs) == 0 {
			return finding.Judged(finding.NA, "no request call was recognised (fetch, node:http(s), axios, got, ky, undici, superagent): nothing to judge")
		}
		libraryTimeout := false
		for _, t := range timeouts {
			libraryTimeout = libraryTimeout || t.Kind == "timeout option"
		}
		var open []facts.Request
		for _, r := range reqs {
			bounded := r.Bounded || (r.Passed && len(timeouts) > 0) || (libraryTimeout && r.API != "fetch" && !strings.HasPrefix(r.API, "node:"))
			if !bounded {
				open = append(open, r)
			}
		}
		var j finding.Judgement
		switch {
		case len(open) == len(reqs):
			j = finding.Judged(finding.Fail, "no request call (%d) carries a signal or a timeout, and the functions making them set none: a hung server holds the sync for ever", len(reqs))
		case len(open) > 0:
			j = finding.Judged(finding.Warn, "%s of %d carry no signal or timeout the review can see: the first at %s", plural(len(open), "request call", "request calls"), len(reqs), where(open[0].File, open[0].Line))
		default:
			j = finding.Judged(finding.Pass, "every request call (%d) is bounded by a signal or a timeout", len(reqs))
		}
		for _, r := range open {
			j = j.With(at(r.Hit, fmt.Sprintf("%s request with no signal or timeout", r.API)))
		}
		for _, t := range timeouts {
			j = j.With(at(t, t.Kind))
		}
		return j.Measure("requests", float64(len(reqs))).Measure("unbounded_requests", float64(len(open)))
	},
}

var unsafeTypesRule = Rule{
	ID: "static.unsafe_types", Title: "External data is not handled through any or !", Severity: finding.Low,
	Indicator: finding.MappingEdges, Related: []string{"mapping.accuracy"},
	Question: "What happens in this code when the API returns a field as null, or leaves it out?",
	Judge: func(in *Input) finding.Judgement {
		var external []facts.Hit
		explicit := 0
		for _, h := range in.Facts.Unsafe {
			if h.Test {
				continue
			}
			switch h.Kind {
			case "any-external", "as-any-external", "non-null-external":
				external = append(external, h)
			case "any-annotation", "as-any":
				explicit++
			}
		}
		if len(external) == 0 {
			j := finding.Judged(finding.Pass, "responses and parsed JSON are never typed any nor forced with !")
			if explicit > 0 {
				j.Summary += fmt.Sprintf(" (%s elsewhere)", plural(explicit, "explicit any", "explicit anys"))
			}
			return j.Measure("external_unsafe", 0).Measure("explicit_any", float64(explicit))
		}
		j := finding.Judged(finding.Warn, "external data goes unchecked in %s: %s at %s", plural(len(external), "place", "places"), describeUnsafe(external[0]), where(external[0].File, external[0].Line))
		for _, h := range external {
			j = j.With(at(h, describeUnsafe(h)))
		}
		return j.Measure("external_unsafe", float64(len(external))).Measure("explicit_any", float64(explicit))
	},
}

func describeUnsafe(h facts.Hit) string {
	switch h.Kind {
	case "any-external":
		return clean(h.Detail)
	case "as-any-external":
		return "external data cast to any"
	case "non-null-external":
		return "a non-null assertion on external data: " + clean(h.Detail)
	}
	return clean(h.Kind)
}

func functionName(name string) string {
	if name == "" {
		return "the module's top level"
	}
	return clean(name)
}

func loopKind(kind string) string {
	switch kind {
	case "WhileStatement":
		return "while loop"
	case "DoStatement":
		return "do-while loop"
	case "ForStatement":
		return "for loop"
	case "ForOfStatement", "ForInStatement":
		return "for-of loop"
	case "Recursion":
		return "by recursion"
	}
	return "loop"
}
