package cohort

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/itsm-grader/grader/grader/compare"
	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/similarity"
	"github.com/itsm-grader/grader/grader/store"
)

// Draft is a known AI draft to match submissions against: its tokens and its code.
type Draft struct {
	Doc  similarity.Document
	Code []evidence.CodeFile
}

// SimilarOptions say what to compare a cohort's code with.
type SimilarOptions struct {
	// Threshold is the similarity at or above which a pair is kept (0: similarity.DefaultThreshold).
	Threshold float64
	// Base is the code every candidate received (the brief's, a template): subtracted first.
	Base similarity.Index
	// Drafts are known AI drafts (the corpus's unreviewed draft is the first).
	Drafts []Draft
}

// Similar finds the cohort's submissions whose code looks alike, and those that look like a
// known AI draft, from the tokens and code kept in each latest grading's evidence (nothing is
// run). The cohort's pairs are recorded in the store (replacing the last computation); both
// kinds are returned with their passages side by side, the most similar first.
func Similar(ctx context.Context, st *store.Store, cohort string, opts SimilarOptions) ([]compare.SimilarPair, error) {
	if opts.Threshold <= 0 {
		opts.Threshold = similarity.DefaultThreshold
	}
	graded, err := st.LatestGradings(ctx, cohort)
	if err != nil {
		return nil, err
	}
	var docs []similarity.Document
	code := map[string][]evidence.CodeFile{}
	submission := map[string]int64{}
	for _, g := range graded {
		if g.EvidencePath == "" {
			continue
		}
		doc, files, err := tokensOf(g.EvidencePath)
		if err != nil {
			return nil, fmt.Errorf("similarity of %s: %w", g.Candidate, err)
		}
		if doc == nil {
			continue // graded before tokens were kept, or they could not be read
		}
		doc.Name = g.Candidate
		docs = append(docs, *doc)
		code[g.Candidate], submission[g.Candidate] = files, g.SubmissionID
	}
	pairs := similarity.Cohort(docs, opts.Base, opts.Threshold)
	rows := make([]store.Pair, 0, len(pairs))
	var out []compare.SimilarPair
	for _, p := range pairs {
		frags, err := json.Marshal(p.Fragments)
		if err != nil {
			return nil, err
		}
		rows = append(rows, store.Pair{A: submission[p.Left.Name], B: submission[p.Right.Name], Score: p.Similarity, LongestFragment: p.Longest.Tokens, Fragments: frags})
		out = append(out, view(p, code[p.Left.Name], code[p.Right.Name], false))
	}
	if err := st.ReplaceSimilarity(ctx, cohort, rows); err != nil {
		return nil, err
	}
	draftDocs := make([]similarity.Document, len(opts.Drafts))
	draftCode := map[string][]evidence.CodeFile{}
	for i, d := range opts.Drafts {
		draftDocs[i] = d.Doc
		draftCode[d.Doc.Name] = d.Code
	}
	for _, p := range similarity.AgainstDrafts(docs, draftDocs, opts.Base, opts.Threshold) {
		out = append(out, view(p, code[p.Left.Name], draftCode[p.Right.Name], true))
	}
	return out, nil
}

// tokensOf reads the tokens and code a grading's evidence kept.
func tokensOf(path string) (*similarity.Document, []evidence.CodeFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	ev, err := evidence.Read(fh)
	if err != nil {
		return nil, nil, err
	}
	return ev.Static.Tokens, ev.Static.Code, nil
}

// view is a pair as the comparison shows it: the passages' text from each side's code.
func view(p similarity.Pair, left, right []evidence.CodeFile, draft bool) compare.SimilarPair {
	v := compare.SimilarPair{Left: p.Left.Name, Right: p.Right.Name, Draft: draft, Similarity: p.Similarity, LongestTokens: p.Longest.Tokens}
	for i, f := range p.Fragments {
		if i == 5 {
			break
		}
		v.Fragments = append(v.Fragments, compare.SimilarFragment{Left: excerpt(f.Left, left), Right: excerpt(f.Right, right)})
	}
	return v
}

// excerpt is a line range with its text, when the code holds the file.
func excerpt(r similarity.LineRange, code []evidence.CodeFile) compare.Excerpt {
	e := compare.Excerpt{File: r.File, From: r.From, To: r.To}
	for _, f := range code {
		if f.Path != r.File {
			continue
		}
		lines := strings.Split(f.Data, "\n")
		if r.From >= 1 && r.From <= r.To && r.To <= len(lines) {
			e.Text = strings.Join(lines[r.From-1:r.To], "\n")
		}
	}
	return e
}
