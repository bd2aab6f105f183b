package build

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// driverName is the driver's file in the copied submission; it imports ./src/index.ts.
const driverName = "__itsm_grader_driver__.mjs"

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
	}
}

// checkExport bundles src/index.ts on its own and reads its exports from esbuild's metafile.
func checkExport(src string) *Failure {
	opts := commonOptions(src)
	opts.EntryPoints = []string{"src/index.ts"}
	opts.Outfile = "out.mjs"
	opts.Write = false
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

// bundle writes the driver beside the sources, bundles it into out/Entry and removes it again:
// the copy is the candidate's code only when the static review reads it.
func bundle(src, out, marker string) ([]Message, *Failure, error) {
	driverPath := filepath.Join(src, driverName)
	if err := os.WriteFile(driverPath, []byte(fmt.Sprintf(driver, marker, ResultFile)), 0o644); err != nil {
		return nil, nil, fmt.Errorf("write driver: %w", err)
	}
	defer os.Remove(driverPath)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, nil, fmt.Errorf("make bundle directory: %w", err)
	}
	opts := commonOptions(src)
	opts.EntryPoints = []string{driverName}
	opts.Outfile = filepath.Join(out, Entry)
	opts.Write = true
	opts.Banner = map[string]string{"js": banner}
	res := api.Build(opts)
	if len(res.Errors) > 0 {
		return nil, &Failure{Stage: "bundle", Summary: "the submission does not bundle", Messages: messages(res.Errors)}, nil
	}
	if err := os.Chmod(filepath.Join(out, Entry), 0o644); err != nil {
		return nil, nil, fmt.Errorf("bundle permissions: %w", err)
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
