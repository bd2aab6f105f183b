package compare

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCohort is a fixed small cohort: 12 AI-track and 11 manual submissions judged on eight
// findings (backoff.growth apart, timeout.request n/a now and then, static.separation info
// only), and one submission of unknown track.
func goldenCohort() []Submission {
	keep := []string{"build.contract", "retry.transient", "backoff.growth", "backoff.jitter", "retry.bounded", "timeout.request", "secrets.output", "ai.rationale"}
	subs := cohortSpec{perTrack: [2]int{12, 11}, seed: 42, exact: true, passRate: knownDifference}.build()
	for i := range subs {
		subs[i].Findings = slices.DeleteFunc(subs[i].Findings, func(v Verdict) bool { return !slices.Contains(keep, v.ID) })
		if i%4 == 1 {
			for j := range subs[i].Findings {
				if subs[i].Findings[j].ID == "timeout.request" {
					subs[i].Findings[j].Verdict, subs[i].Findings[j].Critical = finding.NA, false
				}
			}
		}
		subs[i].Findings = append(subs[i].Findings, Verdict{ID: "static.separation", Verdict: finding.Info, Severity: finding.Low, Indicator: finding.Separation})
	}
	subs[3].Rationale = append(subs[3].Rationale, RationaleItem{Kind: Modified, Text: "1 passage with a reason"})
	return append(subs, Submission{Candidate: "late-01", Track: TrackUnknown, Score: 50})
}

// goldenSimilar is a cohort pair and a match against a known AI draft, as grader/cohort makes them.
func goldenSimilar() []SimilarPair {
	return []SimilarPair{
		{Left: "ai-03", Right: "unreviewed-ai-draft", Draft: true, Similarity: 0.412, LongestTokens: 187, Fragments: []SimilarFragment{{
			Left:  Excerpt{File: "src/index.ts", From: 12, To: 15, Text: "for (let attempt = 1; attempt <= 5; attempt++) {\n  const res = await fetch(url, init);\n  if (res.ok) return res;\n}"},
			Right: Excerpt{File: "src/index.ts", From: 40, To: 43, Text: "for (let i = 1; i <= 5; i++) {\n  const r = await fetch(u, o);\n  if (r.ok) return r;\n}"},
		}}},
		{Left: "manual-01", Right: "manual-04", Similarity: 0.25, LongestTokens: 64},
	}
}

func writeAll(t *testing.T, c Comparison) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"comparison.html": func(b *bytes.Buffer) error { return c.WriteHTML(b) },
		"comparison.md":   func(b *bytes.Buffer) error { return c.WriteMarkdown(b) },
		"comparison.csv":  func(b *bytes.Buffer) error { return c.WriteCSV(b) },
		"comparison.json": func(b *bytes.Buffer) error { return c.WriteJSON(b) },
	} {
		var b bytes.Buffer
		require.NoError(t, write(&b), name)
		out[name] = b.String()
	}
	return out
}

func TestWritersMatchTheirGoldenFiles(t *testing.T) {
	t.Parallel()
	c := compareOrFail(t, goldenCohort(), Options{Seed: 42, Bootstrap: 2000, Cohort: "Autumn round", Similar: goldenSimilar(), SimilarityThreshold: 0.2})
	for name, got := range writeAll(t, c) {
		path := filepath.Join("testdata", name+".golden")
		if *update {
			require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test ./grader/compare -update")
		require.Equal(t, string(want), got, name)
	}
}

// TestThePageIsSelfContained: no scripts and no reference to anything outside the page (the
// inline SVG needs no namespace URL either).
func TestThePageIsSelfContained(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, compareOrFail(t, goldenCohort(), Options{Bootstrap: 100}).WriteHTML(&b))
	page := strings.ToLower(b.String())
	for _, external := range []string{"<script", "http://", "https://", "src=", "href=", "url(", "@import", "<link"} {
		require.NotContains(t, page, external)
	}
	require.Contains(t, page, `<meta http-equiv="content-security-policy" content="default-src 'none'; style-src 'unsafe-inline'">`)
}

// printedP matches a printed p- or q-value, in any of the human formats.
var printedP = regexp.MustCompile(`\b[pq] (=|<) `)

// TestAnExploratoryComparisonPrintsNoPValue: every format says the comparison is exploratory and
// none prints a p-value, a q-value or an interval of δ.
func TestAnExploratoryComparisonPrintsNoPValue(t *testing.T) {
	t.Parallel()
	c := compareOrFail(t, cohortSpec{perTrack: [2]int{6, 6}, seed: 5, exact: true, passRate: knownDifference}.build(), Options{Seed: 1})
	out := writeAll(t, c)
	for _, name := range []string{"comparison.html", "comparison.md"} {
		require.Contains(t, out[name], "Exploratory comparison", name)
		require.NotRegexp(t, printedP, out[name], name)
		require.NotContains(t, out[name], "Mann–Whitney U =", name)
		require.NotContains(t, out[name], "bootstrap interval", name)
		require.Contains(t, out[name], "Cliff's δ =", name)
	}
	var js map[string]any
	require.NoError(t, json.Unmarshal([]byte(out["comparison.json"]), &js))
	require.Equal(t, true, js["exploratory"])
	for _, key := range []string{`"p":`, `"q":`, `"mannWhitney"`, `"cliffsDeltaInterval"`} {
		require.NotContains(t, out["comparison.json"], key)
	}
	records, err := csv.NewReader(strings.NewReader(out["comparison.csv"])).ReadAll()
	require.NoError(t, err)
	for _, r := range records[1:] {
		require.Empty(t, r[16], "fisher_p")
		require.Empty(t, r[19], "bh_q")
		require.Equal(t, "true", r[21])
	}
}

// TestEveryPValueIsPrintedWithItsN: in the human formats every p has its n, every q its m.
func TestEveryPValueIsPrintedWithItsN(t *testing.T) {
	t.Parallel()
	c := compareOrFail(t, goldenCohort(), Options{Seed: 42, Bootstrap: 200})
	out := writeAll(t, c)
	withN := regexp.MustCompile(`\bp (= [0-9.e-]+|< 0\.0001) \(n = \d+, \d+\)`)
	withM := regexp.MustCompile(`\bq (= [0-9.e-]+|< 0\.0001) \(m = \d+\)`)
	for _, name := range []string{"comparison.html", "comparison.md"} {
		text := out[name]
		require.Len(t, printedP.FindAllString(text, -1), len(withN.FindAllString(text, -1))+len(withM.FindAllString(text, -1)), name)
		require.NotEmpty(t, withN.FindAllString(text, -1), name)
		require.NotEmpty(t, withM.FindAllString(text, -1), name)
	}
}

// hostileNames are what a candidate, or whoever fills the store, might try to smuggle into a
// comparison through a name, a track, a rationale or a finding.
var hostileNames = []string{
	"<script>alert(1)</script>",
	"</svg><script>alert(2)</script><svg>",
	`"'><img src=x onerror=alert(3)>`,
	"[click](javascript:alert(4)) **bold** # heading | cell |",
	"=HYPERLINK(\"http://evil.example/\")",
	"ctrl\x00\x1b[31mred\u202eevil\r\nnext\tline\xff",
	strings.Repeat("A", 10<<10),
}

func hostileCohort() []Submission {
	subs := cohortSpec{perTrack: [2]int{12, 12}, seed: 9, exact: true, passRate: sameRates}.build()
	for i := range subs {
		h := hostileNames[i%len(hostileNames)]
		subs[i].Candidate = h
		subs[i].Rationale = append(subs[i].Rationale, RationaleItem{Kind: Rejected, Text: h})
		subs[i].Findings = append(subs[i].Findings, Verdict{ID: h, Verdict: finding.Fail, Critical: true, Indicator: finding.Indicator{Kind: h, Text: h}})
	}
	return append(subs, Submission{Candidate: hostileNames[1], Track: hostileNames[2]})
}

// TestCandidateTextCannotInject: hostile names, tracks, rationales and finding ids stay text in
// all four formats, and the page stays self-contained.
func TestCandidateTextCannotInject(t *testing.T) {
	t.Parallel()
	var similar []SimilarPair
	for i, h := range hostileNames {
		code := "</pre></td></tr></table><script>alert(5)</script>\n```\n" + h
		similar = append(similar, SimilarPair{Left: h, Right: hostileNames[(i+1)%len(hostileNames)], Similarity: 0.5, Fragments: []SimilarFragment{
			{Left: Excerpt{File: h, From: 1, To: 2, Text: code}, Right: Excerpt{File: h, From: 3, To: 4, Text: strings.Repeat(code+"\n", 100)}}}})
	}
	c := compareOrFail(t, hostileCohort(), Options{Seed: 1, Bootstrap: 100, Cohort: hostileNames[0], Similar: similar, SimilarityThreshold: 0.2})
	out := writeAll(t, c)
	for name, text := range out {
		require.NotContains(t, text, strings.Repeat("A", 1000), "%s: long text is capped", name)
		for _, r := range text {
			require.False(t, r < 0x20 && r != '\n', "%s: raw control character %q", name, r)
			require.False(t, r == '\u202e', "%s: raw bidi override", name)
		}
	}

	page := out["comparison.html"]
	requireOnlyOurMarkup(t, page)
	require.Equal(t, 2, strings.Count(page, "<svg "), "only the two plots open an svg")
	require.Equal(t, 2, strings.Count(page, "</svg>"), "and only they close one")
	require.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.Contains(t, page, `default-src 'none'`)

	for _, l := range strings.Split(out["comparison.md"], "\n") {
		require.NotContains(t, l, "<script", l)
		require.NotContains(t, l, "<img", l)
		require.NotRegexp(t, `[^\\]\]\(javascript`, l, "no live link")
		require.NotRegexp(t, `(^|[^\\])\*\*bold`, l, "no emphasis")
		if strings.HasPrefix(l, "|") {
			require.Equal(t, strings.Count(l, "|")-strings.Count(l, `\|`), tableColumns(out["comparison.md"], l)+1, "a name cannot add a table cell: %s", l)
		}
	}

	records, err := csv.NewReader(strings.NewReader(out["comparison.csv"])).ReadAll()
	require.NoError(t, err)
	for _, r := range records {
		require.Len(t, r, len(csvHeader))
		for _, col := range []int{0, 1, 12} {
			require.False(t, r[col] != "" && strings.ContainsRune("=+-@", rune(r[col][0])), "formula in %q", r[col])
		}
	}

	js := out["comparison.json"]
	require.NotContains(t, js, "<")
	var back Comparison
	require.NoError(t, json.Unmarshal([]byte(js), &back))
	require.Equal(t, c, back)
	var names []string
	for _, ts := range back.Scores.Tracks {
		for _, p := range ts.Points {
			names = append(names, p.Candidate)
		}
	}
	require.Contains(t, names, `ctrl\x00\x1b[31mred\x202eevil\x0d\x0anext line\xff`, "control characters are shown, not kept")
	require.Contains(t, names, strings.Repeat("A", maxName)+"…", "a long name is cut")
}

var (
	tagPattern  = regexp.MustCompile(`<(/?)([a-zA-Z!][a-zA-Z0-9-]*)([^<>]*)>`)
	attrPattern = regexp.MustCompile(`\s([a-zA-Z:-]+)=`)
	ourTags     = []string{"!doctype", "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "span", "div", "strong", "code",
		"svg", "circle", "rect", "line", "text", "table", "tr", "th", "td", "ul", "li", "details", "summary", "pre"}
	ourAttrs = []string{"lang", "charset", "http-equiv", "content", "class", "width", "height", "viewBox", "role", "aria-label",
		"x", "y", "dx", "dy", "x1", "x2", "y1", "y2", "cx", "cy", "r", "colspan"}
)

// requireOnlyOurMarkup: candidate text has every < escaped, so each tag in the page is one the
// template wrote; each must be one of its elements, with its attributes (no src, no href, no
// event handler, no style).
func requireOnlyOurMarkup(t *testing.T, page string) {
	t.Helper()
	require.Equal(t, strings.Count(page, "<"), len(tagPattern.FindAllString(page, -1)), "every < opens a tag")
	for _, m := range tagPattern.FindAllStringSubmatch(page, -1) {
		require.Contains(t, ourTags, strings.ToLower(m[2]), "tag %s", m[0])
		for _, a := range attrPattern.FindAllStringSubmatch(m[3], -1) {
			require.Contains(t, ourAttrs, a[1], "attribute in %s", m[0])
		}
	}
}

// tableColumns is the number of columns of the Markdown table a row belongs to (its header's).
func tableColumns(doc, row string) int {
	lines := strings.Split(doc, "\n")
	i := slices.Index(lines, row)
	for i > 0 && strings.HasPrefix(lines[i-1], "|") {
		i--
	}
	return strings.Count(lines[i], "|") - strings.Count(lines[i], `\|`) - 1
}
