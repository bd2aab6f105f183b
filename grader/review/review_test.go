package review_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/review"
	"github.com/itsm-grader/grader/grader/static"
	"github.com/itsm-grader/grader/sandbox/sandboxtest"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// Pieces of a small client, combined by the cases below. Each case changes one thing, so a
// verdict that moves is the rule's doing.
const (
	config = `export type Config = { sourceUrl: string; sourceToken: string };
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const sourceUrl = env["ITSM_SOURCE_URL"];
  const sourceToken = env["ITSM_SOURCE_TOKEN"];
  if (!sourceUrl || !sourceToken) throw new Error("ITSM_SOURCE_URL and ITSM_SOURCE_TOKEN are required");
  return { sourceUrl, sourceToken };
}
`
	mapping = `export type Incident = { number: string; short_description: string; description: string; priority: string };
export type Ticket = { externalId: string; title: string; description: string; priority: string };
export function mapIncident(i: Incident): Ticket {
  return { externalId: i.number, title: i.short_description.trim(), description: i.description, priority: i.priority };
}
`
	transport = `export async function send(url: string, token: string, body: unknown, timeoutMs: number): Promise<Response> {
  return fetch(url, { method: "POST", headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
}
`
	retry = `const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export async function withRetries(op: () => Promise<Response>, maxAttempts = 5): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await op();
      if (res.ok || res.status < 500) return res;
    } catch (err) {
      if (attempt >= maxAttempts) throw err;
    }
    if (attempt >= maxAttempts) throw new Error("gave up after " + attempt + " attempts");
    await sleep(Math.random() * 100 * 2 ** attempt);
  }
}
`
	index = `import { readConfig } from "./config.ts";
import { mapIncident, type Incident } from "./mapping.ts";
import { send } from "./transport.ts";
import { withRetries } from "./retry.ts";
export async function syncTickets(rows: Incident[]): Promise<{ created: number }> {
  const cfg = readConfig();
  let created = 0;
  for (const row of rows) {
    const res = await withRetries(() => send(cfg.sourceUrl + "/tickets", cfg.sourceToken, mapIncident(row), 10_000));
    if (res.ok) created++;
    else console.error("ticket failed", { externalId: row.number, status: res.status });
  }
  return { created };
}
`
)

// envHelper reads any environment variable (the issue 10 shape: the token and the URLs come from
// the same helper; only what it is asked for makes a value a credential).
const envHelper = `function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === "") throw new Error(name + " is not set");
  return value;
}
`

// withEnv is the clean client's index with envHelper and a start-up function of the given body.
func withEnv(body string) map[string]string {
	return client(map[string]string{"src/index.ts": index + envHelper + "export function startup(): void {\n" + body + "}\n"})
}

func client(changes map[string]string) map[string]string {
	files := map[string]string{
		"package.json":     `{"name":"snippet","private":true,"type":"module"}`,
		"src/config.ts":    config,
		"src/mapping.ts":   mapping,
		"src/transport.ts": transport,
		"src/retry.ts":     retry,
		"src/index.ts":     index,
		"test/mapping.test.ts": `import { mapIncident } from "../src/mapping.ts";
export const t = mapIncident({ number: "INC1", short_description: "x", description: "", priority: "1" });
`,
	}
	for k, v := range changes {
		if v == "" {
			delete(files, k)
		} else {
			files[k] = v
		}
	}
	return files
}

// cases: each a client with one change and the verdicts it must draw (rules not named must keep
// the clean client's verdict).
var cases = []struct {
	name  string
	files map[string]string
	want  map[string]finding.Verdict
	mixed int // functions holding more than one concern (static.separation's fact)
	// cites: text a finding's summary or evidence must quote; never: text it must not.
	cites, never map[string][]string
}{
	{name: "clean client", files: client(nil)},
	{name: "syntax error", files: client(map[string]string{"src/mapping.ts": mapping + "export function broken( {\n"}),
		want: map[string]finding.Verdict{"static.typecheck": finding.Fail}},
	{name: "type error", files: client(map[string]string{"src/mapping.ts": mapping + "export const n: number = \"one\";\n"}),
		want: map[string]finding.Verdict{"static.typecheck": finding.Info}},
	{name: "untyped package whose @types are a devDependency", files: client(map[string]string{
		"package.json":                          `{"name":"snippet","private":true,"type":"module","dependencies":{"untyped-lib":"1.0.0"},"devDependencies":{"@types/untyped-lib":"1.0.0"}}`,
		"node_modules/untyped-lib/package.json": `{"name":"untyped-lib","version":"1.0.0","main":"index.js"}`,
		"node_modules/untyped-lib/index.js":     "module.exports = { uniq: (xs) => [...new Set(xs)] };\n",
		"src/mapping.ts":                        mapping + "import lib from \"untyped-lib\";\nexport const uniq = lib.uniq;\n",
	}), want: map[string]finding.Verdict{"static.dependencies": finding.Pass}},
	{name: "untyped package with no @types at all", files: client(map[string]string{
		"package.json":                          `{"name":"snippet","private":true,"type":"module","dependencies":{"untyped-lib":"1.0.0"}}`,
		"node_modules/untyped-lib/package.json": `{"name":"untyped-lib","version":"1.0.0","main":"index.js"}`,
		"node_modules/untyped-lib/index.js":     "module.exports = { uniq: (xs) => [...new Set(xs)] };\n",
		"src/mapping.ts":                        mapping + "import lib from \"untyped-lib\";\nexport const uniq = lib.uniq;\n",
	}), want: map[string]finding.Verdict{"static.typecheck": finding.Info}},
	{name: "no entry point", files: client(map[string]string{"src/index.ts": "", "src/main.ts": index}),
		want: map[string]finding.Verdict{"static.typecheck": finding.Fail}},
	{name: "token-shaped fallback", files: client(map[string]string{"src/config.ts": config + `export const fallback = process.env["T"] ?? "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";` + "\n"}),
		want: map[string]finding.Verdict{"static.hardcoded_credential": finding.Fail}},
	{name: "high-entropy default given to a token name", files: client(map[string]string{"src/config.ts": config + `export const sourceToken = process.env["T"] || "q8ZfK2mW9xLp4RtY7vB3";` + "\n"}),
		want: map[string]finding.Verdict{"static.hardcoded_credential": finding.Fail}},
	{name: "token in test fixtures", files: client(map[string]string{"test/fixtures.ts": `export const env = { ITSM_SOURCE_TOKEN: "src_live_9c2e7a41d0b84f6e8a3d5c1b7e9f2a60" };` + "\n"}),
		want: map[string]finding.Verdict{"static.hardcoded_credential": finding.Fail}},
	{name: "token in a .env file", files: client(map[string]string{".env": "ITSM_SOURCE_TOKEN=Zq8fK2mW9xLp4RtY7vB3nH6d\n"}),
		want: map[string]finding.Verdict{"static.hardcoded_credential": finding.Fail}},
	{name: "placeholders, ids and variable names are not credentials", files: client(map[string]string{"src/config.ts": config +
		`export const example = { sourceToken: "your-token-here-please", apiKey: "ITSM_TARGET_TOKEN", sys_id: "69e2c0fdc6cb40dcd8195e1f91512c2e", idempotencyKey: "Idempotency-Key" };` + "\n"})},
	{name: "rejectUnauthorized false on an agent behind a flag", files: client(map[string]string{"src/transport.ts": transport +
		`import { Agent } from "node:https";
export const agent = process.env["INSECURE"] === "1" ? new Agent({ rejectUnauthorized: false }) : undefined;
`}), want: map[string]finding.Verdict{"static.tls_disabled": finding.Fail}},
	{name: "NODE_TLS_REJECT_UNAUTHORIZED through an element access", files: client(map[string]string{"src/config.ts": config + `process.env["NODE_TLS_REJECT_UNAUTHORIZED"] = "0";` + "\n"}),
		want: map[string]finding.Verdict{"static.tls_disabled": finding.Fail}},
	{name: "checkServerIdentity that accepts everything", files: client(map[string]string{"src/transport.ts": transport + `export const tlsOptions = { checkServerIdentity: () => undefined };` + "\n"}),
		want: map[string]finding.Verdict{"static.tls_disabled": finding.Fail}},
	{name: "TLS switched off in a JavaScript helper", files: client(map[string]string{"src/agent.js": `import https from "node:https";
export const agent = new https.Agent({ rejectUnauthorized: false });
`}), want: map[string]finding.Verdict{"static.tls_disabled": finding.Fail}},
	{name: "TLS switched off in test code only", files: client(map[string]string{"test/tls.test.ts": `process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";` + "\n"})},
	{name: "logs the token", files: client(map[string]string{"src/index.ts": index + `export function debug(): void { const cfg = readConfig(); console.debug("token", cfg.sourceToken); }` + "\n"}),
		want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}},
	{name: "logs the config object whole", files: client(map[string]string{"src/index.ts": index + `export function debug(): void { const settings = readConfig(); console.log("starting with", settings); }` + "\n"}),
		want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}},
	{name: "logs headers through a helper that stringifies them", files: client(map[string]string{"src/transport.ts": transport +
		`type Req = { method: string; url: string; headers: Record<string, string> };
function describe(req: Req): string { return JSON.stringify({ method: req.method, headers: req.headers }); }
export function trace(req: Req): void { const line = describe(req); process.stderr.write(line + "\n"); }
`}), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}},
	{name: "logs the token's length and a redacted token", files: client(map[string]string{"src/index.ts": index +
		`function redact(s: string): string { return s.slice(0, 2) + "…"; }
export function debug(): void { const cfg = readConfig(); console.log("token length", cfg.sourceToken.length, redact(cfg.sourceToken)); }
`})},
	{name: "busy-wait sleep", files: client(map[string]string{"src/retry.ts": retry + `export function pause(ms: number): void { const until = Date.now() + ms; while (Date.now() < until) {} }` + "\n"}),
		want: map[string]finding.Verdict{"static.busy_wait": finding.Fail}},
	{name: "polling the clock with an await is no spin", files: client(map[string]string{"src/retry.ts": retry + `export async function waitUntil(t: number): Promise<void> { while (Date.now() < t) { await sleep(10); } }` + "\n"})},
	{name: "retry loop with no exit on failure", files: client(map[string]string{"src/retry.ts": `const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export async function withRetries(op: () => Promise<Response>): Promise<Response> {
  while (true) {
    try {
      const res = await op();
      if (res.ok || res.status < 500) return res;
    } catch {
      // network error: try again
    }
    await sleep(Math.random() * 1000);
  }
}
`}), want: map[string]finding.Verdict{"static.unbounded_retry": finding.Fail}},
	{name: "retry by unguarded recursion", files: client(map[string]string{"src/retry.ts": `const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export async function withRetries(op: () => Promise<Response>): Promise<Response> {
  try {
    const res = await op();
    if (res.status >= 500) throw new Error("server error " + res.status);
    return res;
  } catch {
    await sleep(500);
    return withRetries(op);
  }
}
`}), want: map[string]finding.Verdict{"static.unbounded_retry": finding.Fail}},
	{name: "retry by recursion with an attempt bound", files: client(map[string]string{"src/retry.ts": `const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export async function withRetries(op: () => Promise<Response>, attempt = 1): Promise<Response> {
  try {
    const res = await op();
    if (res.status >= 500) throw new Error("server error " + res.status);
    return res;
  } catch (err) {
    if (attempt >= 5) throw err;
    await sleep(500 * 2 ** attempt);
    return withRetries(op, attempt + 1);
  }
}
`})},
	{name: "retry library told to retry for ever", files: client(map[string]string{"src/retry.ts": retry + `export const retryOptions = { retries: Infinity, factor: 2 };` + "\n"}),
		want: map[string]finding.Verdict{"static.unbounded_retry": finding.Fail}},
	{name: "a pagination loop is not a retry loop", files: client(map[string]string{"src/index.ts": index + `export async function pages(first: string): Promise<number> {
  let url: string | null = first;
  let n = 0;
  while (url) {
    const res: Response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error("page failed: " + res.status);
    n++;
    url = res.headers.get("x-next");
  }
  return n;
}
`})},
	{name: "everything in one function", files: client(map[string]string{"src/index.ts": `import { readConfig } from "./config.ts";
import type { Incident } from "./mapping.ts";
export async function syncTickets(rows: Incident[]): Promise<{ created: number }> {
  const cfg = readConfig();
  let created = 0;
  for (const row of rows) {
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        const res = await fetch(cfg.sourceUrl, { method: "POST", signal: AbortSignal.timeout(10_000), headers: { Authorization: "Bearer " + cfg.sourceToken },
          body: JSON.stringify({ externalId: row.number, title: row.short_description.trim(), description: row.description, priority: row.priority }) });
        if (res.ok) { created++; break; }
        if (res.status < 500) break;
      } catch {
        // try again
      }
      await new Promise((r) => setTimeout(r, Math.random() * 100 * 2 ** attempt));
    }
  }
  return { created };
}
`}), mixed: 1},
	{name: "fetch with no timeout", files: client(map[string]string{"src/transport.ts": `export async function send(url: string, token: string, body: unknown, timeoutMs: number): Promise<Response> {
  void timeoutMs;
  return fetch(url, { method: "POST", headers: { Authorization: "Bearer " + token }, body: JSON.stringify(body) });
}
`}), want: map[string]finding.Verdict{"static.no_timeout": finding.Fail}},
	{name: "options built in a variable carry the signal", files: client(map[string]string{"src/transport.ts": `export async function send(url: string, token: string, body: unknown, timeoutMs: number): Promise<Response> {
  const init: RequestInit = { method: "POST", headers: { Authorization: "Bearer " + token }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) };
  return fetch(url, init);
}
`})},
	{name: "json typed any and forced with !", files: client(map[string]string{"src/index.ts": index + `export async function firstPage(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = JSON.parse(await res.text());
  return body.result!.number;
}
`}), want: map[string]finding.Verdict{"static.unsafe_types": finding.Warn}},
	{name: "json cast to any", files: client(map[string]string{"src/index.ts": index + `export async function firstPage(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return ((await res.json()) as any).result.length;
}
`}), want: map[string]finding.Verdict{"static.unsafe_types": finding.Warn}},
	{name: "json asserted to a type is not any", files: client(map[string]string{"src/index.ts": index + `type Page = { result: Incident[] };
export async function firstPage(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as Page;
  return body.result.length;
}
`})},
	{name: "a framework heavier than the task", files: client(map[string]string{"package.json": `{"name":"snippet","private":true,"type":"module","dependencies":{"express":"4.21.2"}}`}),
		want: map[string]finding.Verdict{"static.dependencies": finding.Warn}},

	// Taint follows the token's value, not the helper that read it (issue 10).
	{name: "issue 10: a fragment of the token read through the helper that reads the URL", files: withEnv(`  const targetUrl = env("ITSM_TARGET_URL");
  const targetToken = env("ITSM_TARGET_TOKEN");
  console.log("syncing to " + targetUrl);
  console.log(` + "`using token ${targetToken.slice(0, 8)}…`" + `);
`), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail},
		cites: map[string][]string{"static.secret_logged": {"1 logging call receives", "targetToken.slice(0, 8)", `env("ITSM_TARGET_TOKEN")`}},
		never: map[string][]string{"static.secret_logged": {"targetUrl"}}},
	{name: "a URL read through the helper that reads the token is no credential", files: withEnv(`  const targetUrl = env("ITSM_TARGET_URL");
  const targetToken = env("ITSM_TARGET_TOKEN");
  console.log("syncing to " + targetUrl, { authenticated: targetToken.length > 0 });
`)},
	{name: "a fragment through substring and concatenation", files: withEnv(`  const token = env("ITSM_SOURCE_TOKEN");
  console.info("source token " + token.substring(0, 10) + "…");
`), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}, cites: map[string][]string{"static.secret_logged": {"token.substring(0, 10)"}}},
	{name: "a fragment through String and a template, the variable named for nothing", files: withEnv(`  const t = env("ITSM_TARGET_TOKEN");
  console.warn(` + "`t=${String(t).substr(4, 6)}`" + `);
`), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}, cites: map[string][]string{"static.secret_logged": {"String(t).substr(4, 6) (6 characters of t"}}},
	{name: "the last four characters are a mask, not a fragment", files: withEnv(`  const targetToken = env("ITSM_TARGET_TOKEN");
  console.log("using the token ending in …" + targetToken.slice(-4));
`)},
	{name: "a config object's URL logged", files: withEnv(`  const cfg = { token: env("ITSM_TARGET_TOKEN"), url: env("ITSM_TARGET_URL") };
  console.log("target", cfg.url);
`)},
	{name: "a config object's token sliced and logged", files: withEnv(`  const cfg = { token: env("ITSM_TARGET_TOKEN"), url: env("ITSM_TARGET_URL") };
  console.log("target", cfg.url, cfg.token.slice(0, 6));
`), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}, cites: map[string][]string{"static.secret_logged": {"cfg.token.slice(0, 6)"}}},
	{name: "a config object whose names say nothing: its URL logged", files: withEnv(`  const cfg = { a: env("ITSM_TARGET_TOKEN"), b: env("ITSM_TARGET_URL") };
  console.log("target", cfg.b);
`)},
	{name: "a config object whose names say nothing: its token sliced and logged", files: withEnv(`  const cfg = { a: env("ITSM_TARGET_TOKEN"), b: env("ITSM_TARGET_URL") };
  console.log("target", cfg.b, cfg.a.slice(0, 6));
`), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail},
		cites: map[string][]string{"static.secret_logged": {"cfg.a.slice(0, 6)", `env("ITSM_TARGET_TOKEN")`}}, never: map[string][]string{"static.secret_logged": {"cfg.b "}}},
	{name: "destructured from process.env: the URL logged", files: withEnv(`  const { ITSM_TARGET_URL: url, ITSM_TARGET_TOKEN: key } = process.env;
  console.log("target", url, key === undefined ? "no token" : "token set");
`)},
	{name: "destructured from process.env: the token logged", files: withEnv(`  const { ITSM_TARGET_URL: url, ITSM_TARGET_TOKEN: key } = process.env;
  console.log("target", url, key);
`), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}, never: map[string][]string{"static.secret_logged": {"url ("}}},
	{name: "a helper passing the URL on", files: withEnv(`  const tidy = (v: string): string => v.trim();
  const targetToken = env("ITSM_TARGET_TOKEN");
  console.log("target", tidy(env("ITSM_TARGET_URL")), tidy(targetToken).length);
`)},
	{name: "a helper passing the token on", files: withEnv(`  const tidy = (v: string): string => v.trim();
  console.log("target", tidy(env("ITSM_TARGET_URL")), tidy(env("ITSM_TARGET_TOKEN")));
`), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}, cites: map[string][]string{"static.secret_logged": {`tidy(env("ITSM_TARGET_TOKEN"))`}}},
	{name: "a helper that logs what it reads, asked for URLs only", files: client(map[string]string{"src/index.ts": index + `function setting(name: string): string {
  const value = process.env[name] ?? "";
  console.debug("setting", name, "=", value);
  return value;
}
export const urls = [setting("ITSM_SOURCE_URL"), setting("ITSM_TARGET_URL")];
`})},
	{name: "a helper that logs what it reads, asked for the token", files: client(map[string]string{"src/index.ts": index + `function setting(name: string): string {
  const value = process.env[name] ?? "";
  console.debug("setting", name, "=", value);
  return value;
}
export const urls = [setting("ITSM_SOURCE_URL"), setting("ITSM_TARGET_URL")];
export const token = setting("ITSM_TARGET_TOKEN");
`}), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}, cites: map[string][]string{"static.secret_logged": {"src/index.ts:17 console.debug", `setting("ITSM_TARGET_TOKEN") at src/index.ts:21`}}},
	{name: "a helper that logs the value it is given, given the token", files: client(map[string]string{"src/index.ts": index + `function show(label: string, value: string): void { console.log(label, value.trim()); }
export function startup(): void { show("source", process.env["ITSM_SOURCE_URL"] ?? ""); show("key", process.env["ITSM_SOURCE_TOKEN"] ?? ""); }
`}), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}, cites: map[string][]string{"static.secret_logged": {"value is given", "ITSM_SOURCE_TOKEN"}}},
	{name: "a helper that logs the value it is given, given URLs only", files: client(map[string]string{"src/index.ts": index + `function show(label: string, value: string): void { console.log(label, value.trim()); }
export function startup(): void { show("source", process.env["ITSM_SOURCE_URL"] ?? ""); show("target", process.env["ITSM_TARGET_URL"] ?? ""); }
`})},
	{name: "a loop that logs every environment variable", files: withEnv(`  for (const name in process.env) console.debug(name, process.env[name]);
`), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}, cites: map[string][]string{"static.secret_logged": {"process.env[name] (every variable in turn"}}},
	{name: "a loop that logs the environment's variable names", files: withEnv(`  for (const name in process.env) if (name.startsWith("ITSM_")) console.debug("set:", name, process.env[name] === "" ? "empty" : "present");
`)},
	{name: "a loop over the tokens' names logs their values", files: withEnv(`  const required = ["ITSM_SOURCE_TOKEN", "ITSM_TARGET_TOKEN"];
  for (const name of required) console.debug(name, "=", process.env[name]);
`), want: map[string]finding.Verdict{"static.secret_logged": finding.Fail}, cites: map[string][]string{"static.secret_logged": {"process.env[name] (a credential's name)"}}},
	{name: "a loop over the URLs' names logs their values", files: withEnv(`  const required = ["ITSM_SOURCE_URL", "ITSM_TARGET_URL"];
  for (const name of required) console.debug(name, "=", process.env[name]);
`)},
	{name: "a library's property given the token once is not a credential everywhere", files: withEnv(`  const failure = new Error("rejected");
  failure.message = "rejected with " + env("ITSM_TARGET_TOKEN").length + " characters of token";
  const other = new Error("timeout");
  other.message = env("ITSM_TARGET_TOKEN");
  console.error("sync failed:", failure.message);
`)},
	{name: "a high-entropy default of the token read through the helper", files: withEnv(`  const t = env("ITSM_TARGET_TOKEN", "q8ZfK2mW9xLp4RtY7vB3");
  void t;
`), want: map[string]finding.Verdict{"static.hardcoded_credential": finding.Fail}, cites: map[string][]string{"static.hardcoded_credential": {"ITSM_TARGET_TOKEN"}}},
	{name: "a high-entropy default of the token read from process.env", files: withEnv(`  const t = process.env.ITSM_TARGET_TOKEN ?? "q8ZfK2mW9xLp4RtY7vB3";
  void t;
`), want: map[string]finding.Verdict{"static.hardcoded_credential": finding.Fail}},
	{name: "the same default of a setting that is no credential", files: withEnv(`  const region = env("ITSM_REGION", "q8ZfK2mW9xLp4RtY7vB3");
  void region;
`)},
}

var clean = map[string]finding.Verdict{
	"static.typecheck": finding.Pass, "static.hardcoded_credential": finding.Pass, "static.tls_disabled": finding.Pass,
	"static.secret_logged": finding.Pass, "static.busy_wait": finding.Pass, "static.unbounded_retry": finding.Pass,
	"static.no_timeout": finding.Pass, "static.separation": finding.Info, "static.dependencies": finding.Pass,
	"static.unsafe_types": finding.Pass,
}

// quoted is all a finding says: its summary, its evidence's texts and places and excerpts.
func quoted(f finding.Finding) string {
	var b strings.Builder
	b.WriteString(f.Summary)
	for _, e := range f.Evidence {
		fmt.Fprintf(&b, "\n%s:%d %s", e.File, e.Line, e.Text)
		for _, x := range e.Excerpts {
			b.WriteString("\n" + x)
		}
	}
	return b.String()
}

// TestEveryRuleHasCasesOnBothSides: the clean client passes every rule, and some case makes
// each rule fail or warn (static.separation, a fact, counts mixed functions instead).
func TestEveryRuleHasCasesOnBothSides(t *testing.T) {
	t.Parallel()
	flagged := map[string]bool{}
	for _, c := range cases {
		for id, v := range c.want {
			if v != clean[id] {
				flagged[id] = true
			}
		}
		if c.mixed > 0 {
			flagged["static.separation"] = true
		}
	}
	for _, r := range review.Rules() {
		require.Contains(t, clean, r.ID, "the clean client's verdict on %s", r.ID)
		require.True(t, flagged[r.ID], "no case makes %s fail or warn", r.ID)
	}
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// TestRulesOnRealTypeScript runs the analyzer (the real compiler, in the sandbox) over every case
// in one container and judges each with the rules.
func TestRulesOnRealTypeScript(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the TypeScript compiler in Docker")
	}
	sb := sandboxtest.New(t)
	fields, err := exercise.TargetFields()
	require.NoError(t, err)
	root := t.TempDir()
	require.NoError(t, os.Chmod(root, 0o755))
	dirs := make([]string, len(cases))
	for i, c := range cases {
		dirs[i] = filepath.Join(root, filepath.Base(t.Name())+"-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		write(t, dirs[i], c.files)
	}
	facts, err := static.AnalyzeAll(context.Background(), sb, dirs, static.Options{Toolchain: testenv.TypeScript(t), Fields: fields})
	require.NoError(t, err)
	require.Len(t, facts, len(cases))
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]finding.Verdict{}
			summaries := map[string]string{}
			for _, f := range review.Review(&review.Input{Facts: &facts[i], Sources: gathered(t, dirs[i])}) {
				got[f.ID] = f.Verdict
				summaries[f.ID] = f.Summary
				require.Equal(t, finding.Static, f.Kind)
			}
			var diffs []string
			for id, v := range clean {
				want := v
				if w, ok := c.want[id]; ok {
					want = w
				}
				if got[id] != want {
					diffs = append(diffs, id+": want "+string(want)+", got "+string(got[id])+" ("+summaries[id]+")")
				}
			}
			sort.Strings(diffs)
			require.Empty(t, diffs)
			for _, f := range review.Review(&review.Input{Facts: &facts[i], Sources: gathered(t, dirs[i])}) {
				if f.ID == "static.separation" {
					require.Equal(t, float64(c.mixed), f.Measured["mixed_functions"], f.Summary)
				}
				said := quoted(f)
				for _, s := range c.cites[f.ID] {
					require.Contains(t, said, s, "%s quotes it", f.ID)
				}
				for _, s := range c.never[f.ID] {
					require.NotContains(t, said, s, "%s does not quote it", f.ID)
				}
			}
		})
	}
}

// TestTaintRulesOnTheCorpus: the rules that read the taint give every calibration submission the
// verdict its expected.yaml states, from the source alone (the corpus test grades them in full,
// in about 20 minutes; these two rules do not depend on installed packages).
func TestTaintRulesOnTheCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the TypeScript compiler in Docker")
	}
	sb := sandboxtest.New(t)
	fields, err := exercise.TargetFields()
	require.NoError(t, err)
	corpus, err := submissions.All()
	require.NoError(t, err)
	var names, dirs []string
	for name := range corpus {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		dirs = append(dirs, filepath.Join(submissions.Dir(), name))
	}
	facts, err := static.AnalyzeAll(context.Background(), sb, dirs, static.Options{Toolchain: testenv.TypeScript(t), Fields: fields})
	require.NoError(t, err)
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			for _, f := range review.Review(&review.Input{Facts: &facts[i], Sources: gathered(t, dirs[i])}) {
				if want, ok := corpus[name].Expect[f.ID]; ok && (f.ID == "static.secret_logged" || f.ID == "static.hardcoded_credential") {
					require.Equal(t, want, string(f.Verdict), "%s: %s", f.ID, f.Summary)
				}
			}
		})
	}
}

// gathered reads a submission's sources as a grading captures them.
func gathered(t *testing.T, dir string) *review.Sources {
	t.Helper()
	src, err := review.Gather(dir)
	require.NoError(t, err)
	return src
}
