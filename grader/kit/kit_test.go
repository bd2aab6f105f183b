package kit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/grader/bundler"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/kit"
	"github.com/itsm-grader/grader/grader/review"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// writeKit generates a kit into a new folder and returns it.
func writeKit(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "kit")
	_, err := kit.Write(dir)
	require.NoError(t, err)
	return dir
}

// withReference puts the reference client's src/ (fixtures/submissions/ideal) in place of the
// kit's stub, as a candidate replaces the stub with their client.
func withReference(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.Remove(filepath.Join(dir, "src", "index.ts")))
	require.NoError(t, os.CopyFS(filepath.Join(dir, "src"), os.DirFS(filepath.Join(submissions.Dir(), "ideal", "src"))))
}

// setTrack writes a track into SUBMISSION.md's front matter, as the kit asks the candidate to.
func setTrack(t *testing.T, dir, track string) {
	t.Helper()
	p := filepath.Join(dir, "SUBMISSION.md")
	raw, err := os.ReadFile(p)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(raw, []byte("---\ntrack:\n---\n")), "SUBMISSION.md opens with an empty track")
	raw = bytes.Replace(raw, []byte("track:\n"), []byte("track: "+track+"\n"), 1)
	require.NoError(t, os.WriteFile(p, raw, 0o644))
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	require.NoError(t, err)
	return raw
}

// TestKitHoldsExactlyItsFiles: the kit is these ten files, nothing else, regular files and
// folders only, and the exercise's documents are the fixtures' bytes.
func TestKitHoldsExactlyItsFiles(t *testing.T) {
	t.Parallel()
	dir := writeKit(t)
	var got []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		require.True(t, d.Type().IsRegular(), "%s is not a regular file", p)
		rel, err := filepath.Rel(dir, p)
		require.NoError(t, err)
		got = append(got, filepath.ToSlash(rel))
		return nil
	}))
	want := []string{".gitignore", "BRIEF.md", "README.md", "RATIONALE.md", "SUBMISSION.md", "openapi.yaml",
		"package.json", "src/index.ts", "target.schema.json", "tsconfig.json"}
	slices.Sort(want)
	slices.Sort(got)
	require.Equal(t, want, got)

	files, err := kit.Files()
	require.NoError(t, err)
	require.Len(t, files, len(want), "Write writes what Files returns")

	for _, tc := range []struct {
		name string
		want []byte
	}{
		{"BRIEF.md", exercise.Brief()},
		{"openapi.yaml", exercise.OpenAPI()},
		{"target.schema.json", exercise.TargetSchema()},
	} {
		t.Run(tc.name+" is the fixture's bytes", func(t *testing.T) {
			require.NotEmpty(t, tc.want)
			require.True(t, bytes.Equal(tc.want, readFile(t, dir, tc.name)), "%s differs from fixtures/exercise", tc.name)
		})
	}
}

// TestWriteOnlyIntoANewOrEmptyFolder: the kit is written into a folder that is new or empty,
// never over anything that is there.
func TestWriteOnlyIntoANewOrEmptyFolder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		prepare  func(t *testing.T, dir string) // dir does not exist before
		err      string                         // "" when the kit is written
		notEmpty bool
	}{
		{"a folder that does not exist, with its parents", func(t *testing.T, dir string) {}, "", false},
		{"an empty folder", func(t *testing.T, dir string) { require.NoError(t, os.MkdirAll(dir, 0o755)) }, "", false},
		{"a folder holding a README", func(t *testing.T, dir string) {
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("mine"), 0o644))
		}, "holds README.md; give a new or empty folder", true},
		{"a folder holding only a hidden .git", func(t *testing.T, dir string) {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, ".git"), 0o755))
		}, "holds .git", true},
		{"a folder holding many files", func(t *testing.T, dir string) {
			require.NoError(t, os.MkdirAll(dir, 0o755))
			for _, n := range []string{"a", "b", "c", "d", "e"} {
				require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
			}
		}, "holds a, b, c and 2 more", true},
		{"a file", func(t *testing.T, dir string) {
			require.NoError(t, os.MkdirAll(filepath.Dir(dir), 0o755))
			require.NoError(t, os.WriteFile(dir, []byte("x"), 0o644))
		}, "is a file, not a folder", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			dir := filepath.Join(base, "parent", "kit")
			tc.prepare(t, dir)
			before := snapshot(t, base)
			files, err := kit.Write(dir)
			if tc.err == "" {
				require.NoError(t, err)
				require.Len(t, files, 10)
				require.FileExists(t, filepath.Join(dir, "src", "index.ts"))
				return
			}
			require.ErrorContains(t, err, tc.err)
			require.Equal(t, tc.notEmpty, errors.Is(err, kit.ErrNotEmpty))
			require.Equal(t, before, snapshot(t, base), "nothing was written")
		})
	}
}

// snapshot lists every path under dir with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if !d.IsDir() {
			raw, err := os.ReadFile(p)
			require.NoError(t, err)
			out[p] = string(raw)
		} else {
			out[p] = "/"
		}
		return nil
	}))
	return out
}

// TestManifestMatchesHowTheGraderBuilds: package.json and tsconfig.json say what the grader
// does (ES modules, Node 24, strict TypeScript, no dependency to install), and the versions the
// README tells the candidate to pin are the grader's own toolchain's
// (grader/toolchain/typescript/package.json).
func TestManifestMatchesHowTheGraderBuilds(t *testing.T) {
	t.Parallel()
	dir := writeKit(t)
	var pkg map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(readFile(t, dir, "package.json"), &pkg))
	var cfg struct {
		CompilerOptions map[string]any `json:"compilerOptions"`
		Include         []string       `json:"include"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, dir, "tsconfig.json"), &cfg), "tsconfig.json is plain JSON")
	var pins struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, testenv.RepoRoot(t), "grader/toolchain/typescript/package.json"), &pins))
	readme := string(readFile(t, dir, "README.md"))

	cases := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"package.json is an ES module package", func(t *testing.T) { require.JSONEq(t, `"module"`, string(pkg["type"])) }},
		{"package.json asks for Node 24", func(t *testing.T) { require.JSONEq(t, `{"node": ">=24"}`, string(pkg["engines"])) }},
		{"package.json declares no dependency of any kind", func(t *testing.T) {
			for _, section := range []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"} {
				require.NotContains(t, pkg, section)
			}
		}},
		{"package.json has typecheck and sync scripts", func(t *testing.T) {
			var scripts map[string]string
			require.NoError(t, json.Unmarshal(pkg["scripts"], &scripts))
			require.Equal(t, "tsc -p tsconfig.json", scripts["typecheck"])
			require.Contains(t, scripts["sync"], "import('./src/index.ts')")
		}},
		{"tsconfig.json is strict, emits nothing, targets ES2024 with Node's types", func(t *testing.T) {
			for k, v := range map[string]any{"strict": true, "noEmit": true, "target": "es2024", "types": []any{"node"},
				"allowImportingTsExtensions": true, "isolatedModules": true, "verbatimModuleSyntax": true, "erasableSyntaxOnly": true} {
				require.Equal(t, v, cfg.CompilerOptions[k], k)
			}
			require.Equal(t, []string{"src/**/*.ts"}, cfg.Include)
		}},
		{"tsconfig.json carries every compiler option of the grader's analyzer", func(t *testing.T) {
			analyzer := analyzerOptions(t)
			require.GreaterOrEqual(t, len(analyzer), 10, "the analyzer's options were read: %v", analyzer)
			for k, v := range analyzer {
				require.Equal(t, v, cfg.CompilerOptions[k], "compilerOptions.%s", k)
			}
		}},
		{"the README pins the grader's TypeScript and @types/node", func(t *testing.T) {
			require.NotEmpty(t, pins.Dependencies["typescript"])
			require.NotEmpty(t, pins.Dependencies["@types/node"])
			require.Contains(t, readme, "npm i -D -E typescript@"+pins.Dependencies["typescript"]+" @types/node@"+pins.Dependencies["@types/node"]+"\n")
		}},
		{"the README says how the grader builds and where the mock comes from", func(t *testing.T) {
			for _, s := range []string{"esbuild", "Node.js 24", "make release", "Linux, macOS and Windows", "mock image",
				"grader mock --scenario happy", "npm run sync", "grader mock --list", "--tls"} {
				require.Contains(t, readme, s)
			}
		}},
		{"the .gitignore keeps tokens and node_modules out, and the lockfile in", func(t *testing.T) {
			ignore := string(readFile(t, dir, ".gitignore"))
			require.Contains(t, ignore, "\nnode_modules/\n")
			require.Contains(t, ignore, "\n.env\n")
			for _, line := range strings.Split(ignore, "\n") {
				if !strings.HasPrefix(line, "#") {
					require.NotContains(t, line, "package-lock", "the lockfile must be committed")
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.check)
	}
}

// tscError is one line of tsc's plain output: "src/a.ts(1,12): error TS7006: ...".
var tscError = regexp.MustCompile(`(?m)^(\S+)\(\d+,\d+\): error (TS\d+):`)

// TestTypeCheckWithThePinnedCompiler runs the kit's own `npm run typecheck` script (its command
// line from package.json, through sh as npm runs it) with real Node.js 24 and the grader's pinned
// TypeScript installed where npm would put it: the stub and the reference client check clean
// under --strict, and the mistakes the kit's settings exist for are reported.
func TestTypeCheckWithThePinnedCompiler(t *testing.T) {
	node := testenv.Node24(t)
	toolchain := testenv.TypeScript(t)
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  map[string]string // file → error code tsc must report; nil: it passes
	}{
		{"the stub as generated", func(t *testing.T, dir string) {}, nil},
		{"the reference client in place of the stub", withReference, nil},
		{"three mistakes in one project", func(t *testing.T, dir string) {
			files := map[string]string{
				// --strict: a parameter with no type.
				"src/implicit.ts": "export function title(s) { return s.trim(); }\n",
				// The contract's types: a result of the wrong shape.
				"src/shape.ts": "import type { SyncResult } from \"./index.ts\";\nexport const r: SyncResult = { created: \"27\", failed: [] };\n",
				// erasableSyntaxOnly: an enum, which Node's type stripping cannot run (npm run sync).
				"src/enum.ts": "export enum Priority { Critical = \"critical\" }\n",
			}
			for name, text := range files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(text), 0o644))
			}
		}, map[string]string{"src/implicit.ts": "TS7006", "src/shape.ts": "TS2322", "src/enum.ts": "TS1294"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeKit(t)
			tc.setup(t, dir)
			// What `npm i -D -E typescript @types/node` lays out, and npm's .bin/tsc on PATH.
			require.NoError(t, os.Symlink(toolchain, filepath.Join(dir, "node_modules")))
			bin := t.TempDir()
			wrapper := "#!/bin/sh\nexec '" + node + "' '" + filepath.Join(toolchain, "typescript", "bin", "tsc") + "' \"$@\"\n"
			require.NoError(t, os.WriteFile(filepath.Join(bin, "tsc"), []byte(wrapper), 0o755))

			start := time.Now()
			out, err := runScript(t, dir, "typecheck", []string{"PATH=" + bin + ":" + filepath.Dir(node) + ":/usr/bin:/bin"})
			t.Logf("typecheck took %v", time.Since(start).Round(time.Millisecond))
			got := map[string]string{}
			for _, m := range tscError.FindAllStringSubmatch(out, -1) {
				got[m[1]] = m[2]
			}
			if tc.want == nil {
				require.NoError(t, err, out)
				require.Empty(t, got, out)
				return
			}
			require.Error(t, err, "tsc must fail:\n%s", out)
			require.Equal(t, tc.want, got, out)
		})
	}
}

// runScript runs a package.json script of dir the way npm does (sh -c, in dir) with only env,
// and returns its combined output.
func runScript(t *testing.T, dir, name string, env []string) (string, error) {
	t.Helper()
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, dir, "package.json"), &pkg))
	script := pkg.Scripts[name]
	require.NotEmpty(t, script, "package.json has no %s script", name)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = append([]string{"HOME=" + t.TempDir()}, env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	require.NoError(t, ctx.Err(), "%s did not finish", name)
	return string(out), err
}

// TestBuildsWithTheGradersBundler: the grader's own build (grader/bundler, in process, as the
// sandbox runs it) bundles the stub and the reference client laid into the kit; a kit whose
// entry lost its export is refused, so the check can tell.
func TestBuildsWithTheGradersBundler(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		stage string // "" when it builds
	}{
		{"the stub as generated", func(t *testing.T, dir string) {}, ""},
		{"the reference client in place of the stub", withReference, ""},
		{"a stub whose syncTickets is not exported", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "src", "index.ts")
			raw := readFile(t, dir, "src/index.ts")
			require.Contains(t, string(raw), "export async function syncTickets")
			require.NoError(t, os.WriteFile(p, bytes.Replace(raw, []byte("export async function syncTickets"), []byte("async function syncTickets"), 1), 0o644))
		}, "contract"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeKit(t)
			tc.setup(t, dir)
			work := t.TempDir()
			res, err := bundler.Run(bundler.Options{Submission: dir, Work: work, Marker: "@@kit"})
			require.NoError(t, err)
			if tc.stage != "" {
				require.NotNil(t, res.Failure)
				require.Equal(t, tc.stage, res.Failure.Stage, res.Failure.Summary)
				return
			}
			require.Nil(t, res.Failure, "%+v", res.Failure)
			st, err := os.Stat(filepath.Join(work, "out", bundler.BundleDir, bundler.Entry))
			require.NoError(t, err)
			require.NotZero(t, st.Size())
		})
	}
}

// claimFailures are failing findings for every topic a rationale may discuss: a passage that
// discusses one is then reported as contradicted.
func claimFailures() []finding.Finding {
	var out []finding.Finding
	for _, id := range []string{"static.secret_logged", "secrets.output", "static.tls_disabled", "tls.verification",
		"idempotency.key", "idempotency.duplicates", "static.no_timeout", "timeout.request", "backoff.jitter",
		"retry.bounded", "static.unbounded_retry", "retry.permanent", "static.hardcoded_credential"} {
		out = append(out, finding.Finding{ID: id, Verdict: finding.Fail, Summary: id + " fails"})
	}
	return out
}

// filled is RATIONALE.md written as its comments ask: bullets under each heading, each with a
// reason, discussing nothing the runs measure.
var filled = map[string]string{
	"## Accepted": "- src/mapping.ts, mapIncident: kept unchanged, because it maps every worked example of BRIEF.md section 6 to the body the brief gives.",
	"## Modified": "- src/source.ts, readIncidents: the draft followed offsets alone; I changed it to skip a number already seen, since the live table can serve a record on two pages.",
	"## Rejected": "- src/index.ts, a module-level counter: removed, because two syncs in one process would share it.",
}

// TestSubmissionTrackAndRationaleOutline: SUBMISSION.md's front matter is read by the grader as
// the kit explains (empty: unknown; ai; manual), and RATIONALE.md's outline, as generated, earns
// nothing from ai.rationale (its comments neither cover a category nor claim anything a run
// could contradict), while the outline filled in as it asks passes.
func TestSubmissionTrackAndRationaleOutline(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		track     string // written into SUBMISSION.md; "" leaves it as generated
		fill      bool
		wantTrack string
		verdict   finding.Verdict
		summary   string
	}{
		{"as generated, the track is unknown", "", false, review.TrackUnknown, finding.NA, "the track is unknown"},
		{"track: manual", "manual", false, review.TrackManual, finding.NA, "manual track"},
		{"track: ai with the outline untouched", "ai", false, review.TrackAI, finding.Fail, "was accepted or modified or rejected"},
		{"track: ai with the outline filled in", "ai", true, review.TrackAI, finding.Pass, "says what was accepted, modified and rejected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeKit(t)
			if tc.track != "" {
				setTrack(t, dir, tc.track)
			}
			if tc.fill {
				p := filepath.Join(dir, "RATIONALE.md")
				text := string(readFile(t, dir, "RATIONALE.md"))
				for heading, bullet := range filled {
					require.Contains(t, text, "\n"+heading+"\n")
					text = strings.Replace(text, "\n"+heading+"\n", "\n"+heading+"\n\n"+bullet+"\n", 1)
				}
				require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
			}
			src, err := review.Gather(dir)
			require.NoError(t, err)
			require.NotNil(t, src.Submission)
			require.NotNil(t, src.Rationale)
			track := review.Track(src)
			require.Equal(t, tc.wantTrack, track)
			f := review.Rationale(src, track, claimFailures())
			require.Equal(t, tc.verdict, f.Verdict, f.Summary)
			require.Contains(t, f.Summary, tc.summary)
			if track == review.TrackAI {
				require.Zero(t, f.Measured["contradicted"], "the outline's own words claim nothing: %s", f.Summary)
			}
		})
	}
}

// analyzerCompilerOptions is the options literal in grader/static/analyzer/analyzer.ts, the
// compiler options the static review type-checks under.
var (
	analyzerCompilerOptions = regexp.MustCompile(`(?s)const options: TS\.CompilerOptions = \{(.*?)\};`)
	analyzerOption          = regexp.MustCompile(`(\w+): (\[[^\]]*\]|[^,\s]+)`)
)

// analyzerOptions reads the analyzer's compiler options as tsconfig.json spells them; typeRoots
// (paths in its container) and noErrorTruncation (how messages print) are left out.
func analyzerOptions(t *testing.T) map[string]any {
	t.Helper()
	src := readFile(t, testenv.RepoRoot(t), "grader/static/analyzer/analyzer.ts")
	m := analyzerCompilerOptions.FindSubmatch(src)
	require.NotNil(t, m, "the analyzer declares its compiler options")
	spelled := map[string]any{
		"true": true, "false": false,
		"ts.ScriptTarget.ES2024": "es2024", "ts.ModuleKind.Preserve": "preserve", "ts.ModuleResolutionKind.Bundler": "bundler",
		`["lib.es2024.d.ts"]`: []any{"es2024"}, `["node"]`: []any{"node"},
	}
	out := map[string]any{}
	for _, o := range analyzerOption.FindAllSubmatch(m[1], -1) {
		name, value := string(o[1]), string(o[2])
		if name == "typeRoots" || name == "noErrorTruncation" {
			continue
		}
		v, ok := spelled[value]
		require.True(t, ok, "the analyzer's option %s: %s has no tsconfig spelling here", name, value)
		out[name] = v
	}
	return out
}
