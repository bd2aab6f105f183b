package bundler

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// maxBundleBytes caps the bundle, so that the copy, node_modules and the bundle always fit the
// container's /tmp (a bundle over the cap is the submission's failure, never a full disk): the
// ideal client bundles to about 19 KB.
const maxBundleBytes = 64 << 20

// driverName is the name esbuild gives the driver, which reaches it through stdin: the grader
// never writes into the tree the candidate shaped.
const driverName = "itsm-grader-driver.mjs"

// driver calls syncTickets once and records how it settled: in /tmp (ResultFile) and, as a
// fallback, on stdout after the marker. It exits the process when done, so a client that
// leaves sockets or timers open does not hold the run.
const driver = `import * as submission from "./src/index.ts";
import { writeFileSync } from "node:fs";
const MARK = %q;
const started = performance.now();
function emit(o) {
  o.ms = Math.round(performance.now() - started);
  let line;
  try { line = JSON.stringify(o); } catch (e) { line = JSON.stringify({ kind: "unserialisable", error: String(e), ms: o.ms }); }
  try { writeFileSync("/tmp/%s", line); } catch {}
  try { process.stdout.write("\n" + MARK + " " + line + "\n"); } catch {}
}
const fn = submission.syncTickets;
if (typeof fn !== "function") {
  emit({ kind: "contract", error: "syncTickets is " + typeof fn + ", not a function" });
} else {
  try {
    emit({ kind: "resolved", result: await fn() });
  } catch (e) {
    emit({ kind: "rejected", error: String(e && e.message !== undefined ? e.message : e).slice(0, 4000), name: String((e && e.name) || "") });
  }
}
process.exit(0);
`

// banner gives bundled CommonJS dependencies a require (axios' CommonJS build bundled as ESM
// otherwise fails at run time with 'Dynamic require of "util" is not supported').
const banner = `import { createRequire as __itsmCreateRequire } from "node:module";
const require = __itsmCreateRequire(import.meta.url);`

func commonOptions(src string) api.BuildOptions {
	return api.BuildOptions{
		AbsWorkingDir: src,
		Bundle:        true,
		Platform:      api.PlatformNode,
		Format:        api.FormatESModule,
		Engines:       []api.Engine{{Name: api.EngineNode, Version: "24"}},
		Conditions:    []string{"node", "import", "module", "default"},
		LogLevel:      api.LogLevelSilent,
		Metafile:      true,
		// The grader's tsconfig, never the candidate's: with TsconfigRaw set esbuild reads no
		// tsconfig.json at all, so "extends" and "paths" cannot point it outside the submission.
		TsconfigRaw: graderTsconfig(src),
		Plugins:     []api.Plugin{confine(src)},
		Write:       false,
	}
}

// confine refuses to load any file outside the submission's root (its node_modules included):
// an import of /etc/hostname, of /proc/self/environ, or of "../../x" fails the build with a
// located message instead of reaching the bundle. The container holds nothing of the host's
// anyway; this is the second wall.
func confine(root string) api.Plugin {
	return api.Plugin{Name: "itsm-grader-confine", Setup: func(b api.PluginBuild) {
		b.OnLoad(api.OnLoadOptions{Filter: ".*"}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
			if args.Namespace != "file" || within(root, args.Path) {
				return api.OnLoadResult{}, nil // esbuild loads it as it would have
			}
			return api.OnLoadResult{}, fmt.Errorf("%s is outside the submission: only the submission's own files and its locked dependencies are bundled", args.Path)
		})
	}}
}

func within(root, p string) bool {
	p = filepath.Clean(p)
	return filepath.IsAbs(p) && (p == root || strings.HasPrefix(p, root+string(filepath.Separator)))
}

// checkExport bundles src/index.ts on its own and reads its exports from esbuild's metafile.
func checkExport(src string) *Failure {
	opts := commonOptions(src)
	opts.EntryPoints = []string{"src/index.ts"}
	opts.Outfile = "out.mjs"
	res := api.Build(opts)
	if len(res.Errors) > 0 {
		return &Failure{Stage: "bundle", Summary: "src/index.ts does not compile", Messages: messages(res.Errors)}
	}
	var meta struct {
		Outputs map[string]struct {
			Exports []string `json:"exports"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(res.Metafile), &meta); err != nil {
		return &Failure{Stage: "bundle", Summary: "esbuild's metafile could not be read: " + err.Error()}
	}
	for _, o := range meta.Outputs {
		if slices.Contains(o.Exports, "syncTickets") {
			return nil
		}
		return &Failure{Stage: "contract", Summary: fmt.Sprintf("src/index.ts does not export syncTickets (it exports: %s)", strings.Join(o.Exports, ", "))}
	}
	return &Failure{Stage: "bundle", Summary: "esbuild produced no output"}
}

// bundle bundles the driver (from stdin) with the submission into out/Entry.
func bundle(src, out, marker string) ([]Message, *Failure, error) {
	opts := commonOptions(src)
	opts.Stdin = &api.StdinOptions{
		Contents:   fmt.Sprintf(driver, marker, ResultFile),
		ResolveDir: src,
		Sourcefile: driverName,
		Loader:     api.LoaderJS,
	}
	opts.Outfile = filepath.Join(out, Entry)
	opts.Banner = map[string]string{"js": banner}
	res := api.Build(opts)
	if len(res.Errors) > 0 {
		return nil, &Failure{Stage: "bundle", Summary: "the submission does not bundle", Messages: messages(res.Errors)}, nil
	}
	if len(res.OutputFiles) != 1 {
		return nil, nil, fmt.Errorf("esbuild wrote %d files, not one", len(res.OutputFiles))
	}
	if n := len(res.OutputFiles[0].Contents); n > maxBundleBytes {
		return nil, &Failure{Stage: "bundle", Summary: fmt.Sprintf("the bundle is %d MiB; the grader runs bundles of at most %d MiB", n>>20, maxBundleBytes>>20)}, nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, nil, fmt.Errorf("make bundle folder: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, Entry), res.OutputFiles[0].Contents, 0o644); err != nil {
		return nil, nil, fmt.Errorf("write bundle: %w", err)
	}
	return messages(res.Warnings), nil, nil
}

func messages(ms []api.Message) []Message {
	out := make([]Message, 0, len(ms))
	for _, m := range ms {
		msg := Message{Text: m.Text}
		if m.Location != nil {
			msg.File, msg.Line, msg.Col = m.Location.File, m.Location.Line, m.Location.Column+1
		}
		out = append(out, msg)
	}
	return out
}
