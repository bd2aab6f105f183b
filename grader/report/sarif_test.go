package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
)

// sarifSchemaFile is the OASIS SARIF 2.1.0 schema (testdata/sarif-schema-2.1.0.SOURCE.md says
// where it comes from).
func sarifSchemaFile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("sarif-schema-2.1.0.json", doc))
	s, err := c.Compile("sarif-schema-2.1.0.json")
	require.NoError(t, err)
	return s
}

// TestSARIFIsValidAndCarriesTheCodeFindings: report.sarif validates against the OASIS schema and
// holds the static findings only: a rule for each, a located result for each piece of evidence
// of a failure, nothing for a fact (info) or a pass.
func TestSARIFIsValidAndCarriesTheCodeFindings(t *testing.T) {
	t.Parallel()
	schema := sarifSchemaFile(t)
	for name, r := range map[string]*Report{"sample": sample(), "no static findings": New(Submission{Source: "x"}, Build{OK: true}, nil, nil, sample().JudgedAt)} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, r.WriteSARIF(&b))
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
			require.NoError(t, err)
			require.NoError(t, schema.Validate(inst))
		})
	}
	var b bytes.Buffer
	require.NoError(t, sample().WriteSARIF(&b))
	var log sarifLog
	require.NoError(t, json.Unmarshal(b.Bytes(), &log))
	require.Len(t, log.Runs, 1)
	var rules []string
	for _, r := range log.Runs[0].Tool.Driver.Rules {
		rules = append(rules, r.ID)
	}
	require.Equal(t, []string{"static.secret_logged", "static.separation", "ai.rationale"}, rules)
	require.Len(t, log.Runs[0].Results, 2)
	got := log.Runs[0].Results[0]
	require.Equal(t, "static.secret_logged", got.RuleID)
	require.Equal(t, "error", got.Level)
	loc := got.Locations[0].PhysicalLocation
	require.Equal(t, srcRoot, loc.ArtifactLocation.URIBaseID)
	require.NotContains(t, loc.ArtifactLocation.URI, " ", "a path is escaped into a URI reference")
	require.Equal(t, 71, loc.Region.StartLine)
	rationale := log.Runs[0].Results[1]
	require.Equal(t, "ai.rationale", rationale.RuleID)
	require.Equal(t, "SUBMISSION.md", rationale.Locations[0].PhysicalLocation.ArtifactLocation.URI, "an unlocated finding points at the file it is about")
	require.Equal(t, "note", sarifLevel(finding.Finding{Verdict: finding.Warn, Severity: finding.Low}))
}
