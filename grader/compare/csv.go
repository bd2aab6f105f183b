package compare

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

var csvHeader = []string{
	"finding", "track", "pass", "warn", "fail", "n", "na", "info", "absent", "pass_rate", "wilson_low", "wilson_high",
	"difference_of", "difference", "newcombe_low", "newcombe_high", "fisher_p", "fisher_n_first", "fisher_n_second",
	"bh_q", "bh_m", "exploratory",
}

// WriteCSV writes one row per finding and track, in the comparison's order. The difference, its
// interval, Fisher's p (with the n of both tracks) and q (with m) repeat on both rows of a
// finding; a cell is empty where the number does not exist.
func (c Comparison) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	rows := [][]string{csvHeader}
	for _, f := range c.Findings {
		for t, r := range f.Tracks {
			row := []string{cell(f.ID), cell(c.Tracks[t]), itoa(r.Pass), itoa(r.Warn), itoa(r.Fail), itoa(r.N), itoa(r.NA), itoa(r.Info), itoa(r.Absent),
				num(r.Rate), low(r.Interval), high(r.Interval), cell(c.Tracks[0] + " - " + c.Tracks[1]), num(f.Difference),
				low(f.DifferenceInterval), high(f.DifferenceInterval), num(f.P), "", "", num(f.Q), "", strconv.FormatBool(c.Exploratory)}
			if f.P != nil {
				row[17], row[18] = itoa(f.Tracks[0].N), itoa(f.Tracks[1].N)
			}
			if f.Q != nil {
				row[20] = itoa(c.Tested)
			}
			rows = append(rows, row)
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write comparison.csv: %w", err)
	}
	return nil
}

// cell keeps a text from being read as a formula by a spreadsheet (=, +, -, @, tab or carriage
// return first: OWASP's CSV injection advice) by putting a quote mark before it.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

func low(i *Interval) string {
	if i == nil {
		return ""
	}
	return num(&i.Lo)
}

func high(i *Interval) string {
	if i == nil {
		return ""
	}
	return num(&i.Hi)
}
