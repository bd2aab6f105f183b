package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"

	"github.com/itsm-grader/grader/grader/finding"
)

//go:embed report.html.tmpl
var htmlTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"timeline": timeline,
	"verdictClass": func(v finding.Verdict) string {
		return map[finding.Verdict]string{finding.Pass: "pass", finding.Fail: "fail", finding.Warn: "warn", finding.NA: "na", finding.Info: "info"}[v]
	},
}).Parse(htmlTemplate))

// WriteHTML writes report.html: one self-contained page (inline CSS and SVG, no scripts, no
// external resources). html/template escapes everything the candidate produced.
func (r *Report) WriteHTML(w io.Writer) error {
	if err := page.Execute(w, r); err != nil {
		return fmt.Errorf("write report.html: %w", err)
	}
	return nil
}

// Row is one subject's attempts on a timeline.
type Row struct {
	Subject string
	Y       int
	Marks   []Mark
}

// Mark is one attempt drawn on a timeline.
type Mark struct {
	X, W  float64
	Class string
	Title string
}

// Chart is one run's timeline as SVG geometry.
type Chart struct {
	Width, Height int
	Rows          []Row
	Ticks         []Tick
}

// Tick is a time label on the axis.
type Tick struct {
	X     float64
	Label string
}

const (
	chartLeft  = 110.0
	chartWidth = 760.0
	rowHeight  = 16
)

// timeline lays out a run's attempts: one row per ticket or page, one bar per attempt from
// arrival to end, coloured by what the client received.
func timeline(run Run) Chart {
	var end int64 = 1
	rows := map[string]*Row{}
	var order []string
	for _, a := range run.Attempts {
		end = max(end, a.EndMS)
		if rows[a.Subject] == nil {
			rows[a.Subject] = &Row{Subject: a.Subject}
			order = append(order, a.Subject)
		}
	}
	sort.Strings(order)
	scale := chartWidth / float64(end)
	c := Chart{Width: int(chartLeft + chartWidth + 20)}
	for i, s := range order {
		rows[s].Y = 20 + i*rowHeight
	}
	for _, a := range run.Attempts {
		r := rows[a.Subject]
		w := max(2, float64(a.EndMS-a.StartMS)*scale)
		r.Marks = append(r.Marks, Mark{X: chartLeft + float64(a.StartMS)*scale, W: w, Class: markClass(a), Title: markTitle(a)})
	}
	for _, s := range order {
		c.Rows = append(c.Rows, *rows[s])
	}
	c.Height = 30 + len(order)*rowHeight
	step := tickStep(end)
	for t := int64(0); t <= end; t += step {
		c.Ticks = append(c.Ticks, Tick{X: chartLeft + float64(t)*scale, Label: fmt.Sprintf("%.1fs", float64(t)/1000)})
	}
	return c
}

func tickStep(end int64) int64 {
	for _, s := range []int64{25, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000, 30000, 60000} {
		if end/s <= 10 {
			return s
		}
	}
	return 120000
}

func markClass(a Attempt) string {
	switch {
	case a.Outcome == "reset" || a.Outcome == "empty" || a.Outcome == "none" || a.Outcome == "truncated":
		return "lost" // even when the ticket was created: the client never heard
	case a.Replay:
		return "replay"
	case a.Created || (a.Status >= 200 && a.Status < 300):
		return "ok"
	default:
		return "err"
	}
}

func markTitle(a Attempt) string {
	s := fmt.Sprintf("%s at %.3fs for %dms: ", a.Subject, float64(a.StartMS)/1000, a.EndMS-a.StartMS)
	if a.Status != 0 {
		s += fmt.Sprintf("status %d, ", a.Status)
	}
	if a.Fault != "" {
		s += "fault " + a.Fault + ", "
	}
	return s + a.Outcome + " (ended by " + a.EndedBy + ")"
}
