package review

import (
	"fmt"
	"sort"
	"strings"

	"github.com/itsm-grader/grader/grader/facts"
	"github.com/itsm-grader/grader/grader/finding"
)

var separationRule = Rule{
	ID: "static.separation", Title: "Where mapping, transport and retry live", Severity: finding.Low,
	Indicator: finding.Separation,
	Question:  "If the target API changed its error format tomorrow, which functions would you touch, and which tests would tell you it still works?",
	Judge:     judgeSeparation,
}

var concerns = []string{"mapping", "transport", "retry"}

// judgeSeparation reports a fact, not a verdict on taste: which functions hold which concern,
// and the module graph between them.
func judgeSeparation(in *Input) finding.Judgement {
	f := in.Facts
	byID := map[int]facts.Function{}
	callers := map[int][]string{}
	for _, fn := range f.Functions {
		byID[fn.ID] = fn
	}
	for _, fn := range f.Functions {
		for _, c := range fn.Calls {
			callers[c] = append(callers[c], fn.Name)
		}
	}
	holders := map[string][]facts.Function{}
	var mixed []facts.Function
	modules := map[string]bool{}
	for _, fn := range f.Functions {
		if len(fn.Roles) == 0 {
			continue
		}
		modules[fn.File] = true
		for _, r := range fn.Roles {
			holders[r] = append(holders[r], fn)
		}
		if len(fn.Roles) > 1 {
			mixed = append(mixed, fn)
		}
	}
	j := finding.Judgement{Verdict: finding.Info}
	var parts, missing []string
	for _, c := range concerns {
		if len(holders[c]) == 0 {
			missing = append(missing, c)
			continue
		}
		var names []string
		for _, fn := range holders[c] {
			names = append(names, fmt.Sprintf("%s (%s)", clean(fn.Name), where(fn.File, fn.Line)))
		}
		parts = append(parts, c+" in "+strings.Join(names, ", "))
	}
	switch {
	case len(mixed) > 0:
		var m []string
		for _, fn := range mixed {
			m = append(m, fmt.Sprintf("%s (%s, lines %d–%d) holds %s", clean(fn.Name), clean(fn.File), fn.Line, fn.EndLine, strings.Join(fn.Roles, " and ")))
		}
		j.Summary = "concerns share a function: " + strings.Join(m, "; ")
	case len(missing) == 0:
		j.Summary = fmt.Sprintf("mapping, transport and retry live in separate functions across %s", plural(len(modules), "module", "modules"))
	default:
		j.Summary = "each concern found lives in its own function"
	}
	if len(parts) > 0 {
		j.Summary += ": " + strings.Join(parts, "; ")
	}
	if len(missing) > 0 {
		j.Summary += fmt.Sprintf(" (no %s code recognised)", strings.Join(missing, " or "))
	}
	for _, c := range concerns {
		for _, fn := range holders[c] {
			text := fmt.Sprintf("%s: %s, lines %d–%d", c, clean(fn.Name), fn.Line, fn.EndLine)
			if cs := callers[fn.ID]; len(cs) > 0 {
				sort.Strings(cs)
				text += ", called by " + clean(strings.Join(cs, ", "))
			}
			j = j.With(located(fn.File, fn.Line, 1, text, ""))
		}
	}
	var graph []string
	for _, im := range f.Imports {
		if !im.External {
			graph = append(graph, clean(im.From)+" → "+clean(im.To))
		}
	}
	if len(graph) > 0 {
		sort.Strings(graph)
		if len(graph) > 40 {
			graph = append(graph[:40], fmt.Sprintf("and %d more", len(graph)-40))
		}
		j = j.With(finding.Evidence{Text: "module graph (project files)", Excerpts: graph})
	}
	return j.Measure("functions", float64(len(f.Functions))).Measure("modules_with_concerns", float64(len(modules))).Measure("mixed_functions", float64(len(mixed)))
}
