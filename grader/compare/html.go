package compare

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
)

//go:embed compare.html.tmpl
var htmlTemplate string

var page = template.Must(template.New("compare").Funcs(template.FuncMap{
	"percent":      percent,
	"percentRange": percentRange,
	"points":       points,
	"pointsRange":  pointsRange,
	"pWithN":       pWithN,
	"qWithM":       qWithM,
	"score":        score,
	"count":        count,
	"delta":        delta,
	"deltaRange":   deltaRange,
	"leftOut":      leftOutText,
	"ns":           ns,
	"px":           func(v float64) string { return strconv.FormatFloat(finite(v), 'f', 1, 64) },
	"off":          func(v float64) float64 { return v - 4 },
	"inset":        func(y int) int { return y + 8 },
	"bottom":       func(y int) int { return y + stripRowH - 8 },
}).Parse(htmlTemplate))

// htmlPage is what the page's template reads.
type htmlPage struct {
	C     Comparison
	Dots  dotChart
	Strip stripChart
}

// WriteHTML writes the comparison as one self-contained page: inline CSS and SVG, no scripts,
// no external resources, a CSP that allows neither; html/template escapes every text.
func (c Comparison) WriteHTML(w io.Writer) error {
	if err := page.Execute(w, htmlPage{C: c, Dots: dotPlot(c), Strip: stripPlot(c)}); err != nil {
		return fmt.Errorf("write comparison.html: %w", err)
	}
	return nil
}
