package cohort

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/intake"
)

func TestReadRoster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, sub := range []string{"alice", "bob"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "subs", sub), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a-file"), nil, 0o644))
	cases := []struct {
		name, roster string
		want         []Entry
		err          []string
	}{
		{"folders relative to the roster, a git URL, tracks",
			"candidate,source,ref,track\nalice,subs/alice,,ai\nbob, subs/bob ,,MANUAL\ncarol,https://git.example/carol.git,v1,\n",
			[]Entry{
				{Candidate: "alice", Source: filepath.Join(dir, "subs", "alice"), Track: "ai", Line: 2},
				{Candidate: "bob", Source: filepath.Join(dir, "subs", "bob"), Track: "manual", Line: 3},
				{Candidate: "carol", Source: "https://git.example/carol.git", Ref: "v1", Line: 4},
			}, nil},
		{"a byte-order mark before the header", "\ufeffcandidate,source,ref,track\nalice,subs/alice,,\n",
			[]Entry{{Candidate: "alice", Source: filepath.Join(dir, "subs", "alice"), Line: 2}}, nil},
		{"the wrong header", "name,repo\nalice,subs/alice\n", nil, []string{"the header must be candidate,source,ref,track"}},
		{"no candidates", "candidate,source,ref,track\n", nil, []string{"no candidates"}},
		{"every bad line named at once",
			"candidate,source,ref,track\nalice,subs/alice,,ai\nalice,subs/bob,,\ndave,subs/nobody,,\neve,http://git.example/e.git,,\nfrank,subs/alice,,robot\n,subs/alice,,\ngina,a-file,,\nhal,subs/alice,main,\n",
			nil, []string{
				`roster line 3: candidate "alice" is already on line 2`,
				"roster line 4: submission " + filepath.Join(dir, "subs", "nobody") + ": no such folder",
				"roster line 5: git source \"http://git.example/e.git\": only https:// URLs",
				`roster line 6: track "robot"`,
				"roster line 7: no candidate name",
				"roster line 8: submission " + filepath.Join(dir, "a-file") + " is a file",
				"roster line 9: --ref names a commit of a git repository, not of a folder",
			}},
		{"names a report cannot show", "candidate,source,ref,track\n\"a\x1b[31mb\",subs/alice,,\n../x,subs/bob,,\n", nil,
			[]string{"holds a control character", "holds a path separator"}},
		{"a line with too few fields", "candidate,source,ref,track\nalice,subs/alice\n", nil, []string{"wrong number of fields"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadRoster(strings.NewReader(tc.roster), dir, nil)
			if tc.err != nil {
				require.Error(t, err)
				for _, want := range tc.err {
					require.Contains(t, err.Error(), want)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestTreeHash(t *testing.T) {
	t.Parallel()
	write := func(dir string, files map[string]string) string {
		for name, body := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		}
		h, err := TreeHash(dir)
		require.NoError(t, err)
		return h
	}
	base := map[string]string{"package.json": "{}", "src/index.ts": "export {}"}
	a := write(t.TempDir(), base)
	require.Equal(t, a, write(t.TempDir(), base), "the same files hash the same wherever they are")
	require.NotEqual(t, a, write(t.TempDir(), map[string]string{"package.json": "{}", "src/index.ts": "export {} "}), "a byte changed")
	require.NotEqual(t, a, write(t.TempDir(), map[string]string{"package.json": "{}", "src/main.ts": "export {}"}), "a file renamed")
	require.NotEqual(t, write(t.TempDir(), map[string]string{"a": "bc"}), write(t.TempDir(), map[string]string{"ab": "c"}), "bytes cannot slide between a name and its content")
}

// hostRemote stands in for grader/github's intake: it claims host/OWNER/REPO sources.
type hostRemote struct{ host string }

func (r hostRemote) Claims(source string) bool { return strings.HasPrefix(source, r.host+"/") }
func (r hostRemote) Check(source, ref string) error {
	if strings.Count(source, "/") != 2 {
		return fmt.Errorf("%s is not %s/OWNER/REPO", source, r.host)
	}
	return nil
}
func (hostRemote) Fetch(context.Context, string, string, string, intake.Options) (*intake.Submission, error) {
	return nil, errors.New("not in this test")
}

// TestARosterTakesTheRemotesSources: a source the remote claims is neither a relative folder
// nor a git URL, and the remote checks it.
func TestARosterTakesTheRemotesSources(t *testing.T) {
	t.Parallel()
	roster := "candidate,source,ref,track\nalice,github.com/alice/sync,v1,ai\nbob,github.com/bob,,\n"
	_, err := ReadRoster(strings.NewReader(roster), "/rosters", hostRemote{"github.com"})
	require.ErrorContains(t, err, "roster line 3: github.com/bob is not github.com/OWNER/REPO")
	got, err := ReadRoster(strings.NewReader(roster[:strings.LastIndex(roster[:len(roster)-1], "\n")+1]), "/rosters", hostRemote{"github.com"})
	require.NoError(t, err)
	require.Equal(t, []Entry{{Candidate: "alice", Source: "github.com/alice/sync", Ref: "v1", Track: "ai", Line: 2}}, got)
	_, err = ReadRoster(strings.NewReader(roster), "/rosters", nil)
	require.ErrorContains(t, err, "no such folder", "without the remote, it is a folder that does not exist")
}
