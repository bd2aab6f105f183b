package checks

import "github.com/itsm-grader/grader/grader/finding"

var contractCheck = Check{
	ID: "build.contract", Title: "Builds and honours the entry-point contract", Severity: finding.High,
	Indicator: finding.FollowsSpecs,
	Question:  "Walk me through how you checked your package against the brief's contract before handing it in.",
	Judge: func(obs Observations) finding.Judgement {
		if j, ok := missing(obs, "happy"); ok {
			return j
		}
		o := obs.Of("happy")[0]
		if o.Process.TimedOut { // whatever the driver recorded: a stopped run did not honour the contract
			return finding.Judged(finding.Fail, "the no-fault scenario was stopped at its %v budget (syncTickets() %s)", o.Budget, settled(o.Outcome.Kind)).
				With(evidence(o, "last lines of stderr", tailLines(o.Stderr.Data, 5)...))
		}
		switch o.Outcome.Kind {
		case "resolved", "rejected":
			return finding.Judged(finding.Pass, "the bundle built and syncTickets() settled (%s) in the no-fault scenario", o.Outcome.Kind)
		case "contract":
			return finding.Judged(finding.Fail, "syncTickets is not a function: %s", capText(o.Outcome.Error, 200)).With(evidence(o, "the driver's record"))
		default:
			return finding.Judged(finding.Fail, "the process ended before syncTickets() settled (exit %d%s)", o.Process.ExitCode, killed(o)).
				With(evidence(o, "last lines of stderr", tailLines(o.Stderr.Data, 5)...))
		}
	},
}

// settled says how syncTickets() settled, as the driver recorded it.
func settled(kind string) string {
	switch kind {
	case "resolved", "rejected":
		return "had " + kind
	case "none":
		return "had not settled"
	}
	return "recorded " + kind
}

// BuildFailed is the build.contract finding of a submission that did not build: the grading
// stops there, so it is judged from the build's messages rather than from a run.
func BuildFailed(summary string, messages []string) finding.Finding {
	return contractCheck.finding(finding.Judged(finding.Fail, "%s", summary).With(finding.Evidence{Text: "compiler and installer messages", Excerpts: messages}))
}
