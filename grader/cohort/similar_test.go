package cohort

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/similarity"
)

// program is a token stream of n tokens drawn from a seeded vocabulary, ten to a line, and the
// code those lines hold.
func program(seed uint64, n int) (similarity.File, evidence.CodeFile) {
	vocab := []string{"ID", "LIT", "(", ")", "{", "}", "=", "await", "return", "if", "for", ".", "=>", "const", "+"}
	rng := rand.New(rand.NewPCG(seed, 1))
	f := similarity.File{Path: "src/index.ts"}
	var lines []string
	for i := range n {
		kind := vocab[rng.IntN(len(vocab))]
		f.Tokens = append(f.Tokens, similarity.Token{Kind: kind, Line: i/10 + 1, Col: i%10 + 1})
		if i%10 == 0 {
			lines = append(lines, "")
		}
		lines[len(lines)-1] += kind + " "
	}
	return f, evidence.CodeFile{Path: f.Path, Data: strings.Join(lines, "\n")}
}

// TestSimilarFindsCopiesAndDraftsFromTheEvidence: two candidates handing in the same code are a
// pair (recorded in the store), a third matches a known draft, and independent code is in no
// pair; the passages come with their text.
func TestSimilarFindsCopiesAndDraftsFromTheEvidence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	entries := cohortOf(t, 4)
	programs := map[string]uint64{"cand00": 1, "cand01": 1, "cand02": 2, "cand03": 3} // cand00 and cand01 hand in the same code
	capture := func(_ context.Context, source, _ string) (*evidence.Evidence, error) {
		name, err := os.ReadFile(filepath.Join(source, "package.json"))
		if err != nil {
			return nil, err
		}
		file, code := program(programs[string(name)], 400)
		return &evidence.Evidence{SchemaVersion: evidence.SchemaVersion, Versions: evidence.Versions{Rules: judge.RulesVersion},
			Build:  evidence.Build{Stage: "bundle", Summary: "fake"},
			Static: evidence.Static{Tokens: &similarity.Document{Files: []similarity.File{file}}, Code: []evidence.CodeFile{code}}}, nil
	}
	st := openStore(t, filepath.Join(t.TempDir(), "round.db"))
	_, err := Run(ctx, st, entries, Options{Cohort: "round", Capture: capture, Write: writeReport})
	require.NoError(t, err)

	draftFile, draftCode := program(2, 400)
	pairs, err := Similar(ctx, st, "round", SimilarOptions{Drafts: []Draft{{Doc: similarity.Document{Name: "unreviewed-ai-draft", Files: []similarity.File{draftFile}}, Code: []evidence.CodeFile{draftCode}}}})
	require.NoError(t, err)
	var found []string
	for _, p := range pairs {
		found = append(found, fmt.Sprintf("%s~%s draft=%t", p.Left, p.Right, p.Draft))
		require.InDelta(t, 1, p.Similarity, 1e-9)
		require.NotEmpty(t, p.Fragments)
		require.NotEmpty(t, p.Fragments[0].Left.Text, "the passage's code is shown")
		require.Equal(t, p.Fragments[0].Left.Text, p.Fragments[0].Right.Text)
	}
	require.ElementsMatch(t, []string{"cand00~cand01 draft=false", "cand02~unreviewed-ai-draft draft=true"}, found)
	stored, err := st.Similarity(ctx, "round")
	require.NoError(t, err)
	require.Len(t, stored, 1, "the cohort's pair is recorded; a draft match is not a pair of the cohort")
}
