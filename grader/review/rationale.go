package review

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/itsm-grader/grader/grader/finding"
)

// Tracks a submission declares in SUBMISSION.md's front matter.
const (
	TrackAI      = "ai"
	TrackManual  = "manual"
	TrackUnknown = "unknown"
)

const maxDocBytes = 256 << 10

// Track reads `track:` from SUBMISSION.md's front matter (between --- lines at the top).
func Track(src *Sources) string {
	if src == nil {
		return TrackUnknown
	}
	data, err := doc(src.Submission, "SUBMISSION.md")
	if err != nil {
		return TrackUnknown
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			first = false
			if line != "---" {
				return TrackUnknown
			}
			continue
		}
		if line == "---" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "track") {
			switch v := strings.ToLower(strings.Trim(strings.TrimSpace(v), `"'`)); v {
			case TrackAI, TrackManual:
				return v
			}
			return TrackUnknown
		}
	}
	return TrackUnknown
}

var rationaleRule = Rule{
	ID: "ai.rationale", Title: "The AI-assisted changes are explained", Severity: finding.Medium,
	Indicator: finding.AIRationale,
	Question:  "Pick one thing the assistant wrote that you rejected: what was wrong with it, and how did you find out?",
}

// The three things the kit asks an AI-track candidate to explain, and what counts as a reason.
var (
	categories = []struct {
		name string
		re   *regexp.Regexp
	}{
		{"accepted", regexp.MustCompile(`(?i)\b(accept(ed|s)?|kept|keep|retained|as[- ]is|unchanged)\b`)},
		{"modified", regexp.MustCompile(`(?i)\b(modif(y|ied|ication|ications)|changed?|rewr(o|i)te|rewritten|refactor(ed)?|replaced?|fixed|adjusted|reworked|added)\b`)},
		{"rejected", regexp.MustCompile(`(?i)\b(reject(ed|s)?|removed?|dropped|discard(ed)?|deleted|refused)\b`)},
	}
	// limitation marks a passage that owns up to a gap rather than claiming a fix: it is not
	// contradicted by the gap.
	limitation = regexp.MustCompile(`(?i)\b(did not|didn't|not implemented|todo|limitation|known issue|out of scope|left out|skipped|does not handle|doesn't handle|would add|in the future|next step)\b`)
	reason     = regexp.MustCompile(`(?i)\b(because|since|so that|so the|otherwise|to avoid|to prevent|which|as it|as the|instead of|risk|would|could)\b`)
)

var numbered = regexp.MustCompile(`^\d+[.)] `)

// claims are topics a rationale may discuss, with the findings that would contradict it.
var claims = []struct {
	topic    string
	re       *regexp.Regexp
	findings []string
}{
	{"logging the token", regexp.MustCompile(`(?i)(token|secret|credential|authorization|header)s?[^.\n]{0,60}\b(log|logged|logging|print|printed)|\b(log|logged|logging|print|printed)[^.\n]{0,60}(token|secret|credential|authorization|header)`), []string{"static.secret_logged", "secrets.output"}},
	{"TLS verification", regexp.MustCompile(`(?i)\b(tls|certificate|rejectUnauthorized|NODE_TLS_REJECT_UNAUTHORIZED)\b`), []string{"static.tls_disabled", "tls.verification"}},
	{"idempotency keys", regexp.MustCompile(`(?i)idempoten`), []string{"idempotency.key", "idempotency.duplicates"}},
	{"timeouts", regexp.MustCompile(`(?i)\btime ?outs?\b|AbortSignal`), []string{"static.no_timeout", "timeout.request"}},
	{"jitter", regexp.MustCompile(`(?i)\bjitter`), []string{"backoff.jitter"}},
	{"bounded retries", regexp.MustCompile(`(?i)(max(imum)?|bound(ed)?|limit(ed)?|cap(ped)?)\W+(\w+\W+){0,3}(retries|attempts)|infinite|for ever|forever|give up|gives up`), []string{"retry.bounded", "static.unbounded_retry"}},
	{"not retrying 4xx", regexp.MustCompile(`(?i)\b4xx\b|\b4\d\d\b|permanent|non-?retryable|classif`), []string{"retry.permanent"}},
	{"hard-coded credentials", regexp.MustCompile(`(?i)hard-?coded|environment variable|env var|process\.env`), []string{"static.hardcoded_credential"}},
}

// Rationale judges ai.rationale for a submission whose other findings (measured and static)
// are known: a rationale's claims are checked against them.
func Rationale(src *Sources, track string, others []finding.Finding) finding.Finding {
	return rationaleRule.finding(judgeRationale(src, track, others))
}

func judgeRationale(src *Sources, track string, others []finding.Finding) finding.Judgement {
	switch track {
	case TrackManual:
		return finding.Judged(finding.NA, "the submission is on the manual track (SUBMISSION.md): no AI rationale is asked for")
	case TrackAI:
	default:
		return finding.Judged(finding.NA, "the track is unknown: SUBMISSION.md declares neither track: ai nor track: manual")
	}
	var rationale *SourceFile
	if src != nil {
		rationale = src.Rationale
	}
	data, err := doc(rationale, "RATIONALE.md")
	if err != nil {
		return finding.Judged(finding.Fail, "the submission is on the AI-assisted track but has no RATIONALE.md saying what of the assistant's draft was accepted, modified or rejected, and why")
	}
	type para struct {
		line int
		text string
	}
	// Paragraphs (and list items) with the heading they sit under, so "## Rejected" counts for
	// the bullets below it.
	var paras []para
	heading := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxDocBytes)
	var cur *para
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "#"):
			heading = l
			cur = nil
		case l == "":
			cur = nil
		case strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "* ") || numbered.MatchString(l) || cur == nil:
			paras = append(paras, para{line: n, text: heading + " " + l})
			cur = &paras[len(paras)-1]
		default:
			cur.text += " " + l
		}
	}
	j := finding.Judgement{}
	var uncovered []string
	for _, c := range categories {
		covered := 0
		first := 0
		for _, p := range paras {
			if c.re.MatchString(p.text) && reason.MatchString(p.text) {
				if covered == 0 {
					first = p.line
				}
				covered++
			}
		}
		if covered == 0 {
			uncovered = append(uncovered, c.name)
			continue
		}
		j = j.With(located("RATIONALE.md", first, 1, fmt.Sprintf("%s: %s with a reason", c.name, plural(covered, "passage", "passages")), ""))
	}
	byID := map[string]finding.Finding{}
	for _, f := range others {
		byID[f.ID] = f
	}
	var contradicted []string
	for _, cl := range claims {
		for _, p := range paras {
			if !cl.re.MatchString(p.text) || limitation.MatchString(p.text) {
				continue
			}
			for _, id := range cl.findings {
				if f, ok := byID[id]; ok && f.Verdict == finding.Fail {
					contradicted = append(contradicted, fmt.Sprintf("it discusses %s (RATIONALE.md:%d) yet %s fails: %s", cl.topic, p.line, id, f.Summary))
					j = j.With(located("RATIONALE.md", p.line, 1, fmt.Sprintf("discusses %s, contradicted by %s (%s)", cl.topic, id, f.Verdict), p.text))
					break
				}
			}
			break
		}
	}
	switch {
	case len(uncovered) > 0:
		j.Verdict = finding.Fail
		j.Summary = fmt.Sprintf("RATIONALE.md does not say, with a reason, what of the assistant's draft was %s", strings.Join(uncovered, " or "))
		if len(contradicted) > 0 {
			j.Summary += "; and " + contradicted[0]
		}
	case len(contradicted) > 0:
		j.Verdict = finding.Fail
		j.Summary = "RATIONALE.md's claims do not hold: " + strings.Join(contradicted, "; ")
	default:
		j.Verdict = finding.Pass
		j.Summary = "RATIONALE.md says what was accepted, modified and rejected, each with reasons, and nothing it discusses is contradicted by the code or the runs"
	}
	return j.Measure("passages", float64(len(paras))).Measure("contradicted", float64(len(contradicted)))
}
