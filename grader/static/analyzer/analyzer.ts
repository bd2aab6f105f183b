// The static review's analyzer: parses and type-checks a submission with the TypeScript compiler
// and prints what it found as JSON facts. It judges nothing (the Go rules in grader/review do)
// and executes nothing of the submission. It runs on Node 24 inside the sandbox:
//
//   node analyzer.mjs --typescript DIR --fields a,b,c PROJECT...
//
// DIR is the node_modules folder holding typescript and @types/node (the pinned toolchain);
// --fields are the target schema's property names (mapping is recognised by them); each PROJECT
// is a submission's root. The output is {"analyzer":1,"typescript":VERSION,"projects":[FACTS...]}.
//
// Facts are kept small and plain (locations, names, kinds) so the Go side can read them strictly.

import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type * as TS from "typescript";

type Hit = { file: string; line: number; col: number; kind: string; text: string; detail?: string; test?: boolean };
type FileFact = { path: string; lines: number; program: boolean; test: boolean };
type Diag = { file: string; line: number; col: number; code: number; message: string; syntactic: boolean };
type StringFact = { file: string; line: number; col: number; value: string; name: string; test: boolean; text: string };
type RequestFact = Hit & { api: string; bounded: boolean; passed: boolean };
type LoopFact = Hit & { clock: boolean; awaits: boolean; retry: boolean; boundedBy: string; function: string };
type FnFact = { id: number; name: string; file: string; line: number; endLine: number; roles: string[]; calls: number[] };
type ImportFact = { from: string; to: string; external: boolean };
type Facts = {
  root: string;
  entry: string;
  entryFound: boolean;
  files: FileFact[];
  diagnostics: Diag[];
  diagnosticsTotal: number;
  strings: StringFact[];
  tls: Hit[];
  logCalls: number;
  secretLogs: Hit[];
  requests: RequestFact[];
  timeouts: Hit[];
  loops: LoopFact[];
  retryOptions: Hit[];
  retryLibraries: Hit[];
  functions: FnFact[];
  imports: ImportFact[];
  unsafe: Hit[];
  truncated: string[];
};

const MAX_FILES = 2000;
const MAX_FILE_BYTES = 2 << 20;
const MAX_ITEMS = 2000;
const MAX_TEXT = 240;
const SOURCE_EXT = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;
const SKIP_DIRS = new Set(["node_modules", ".git", "dist", "build", "coverage", "out", ".next", ".cache"]);
const TEST_PATH = /(^|\/)(test|tests|__tests__|spec|specs|fixtures|__fixtures__|__mocks__)\/|\.(test|spec)\.[cm]?[jt]sx?$/;

// Words of a name: camelCase, snake_case, kebab-case and digits split, lower-cased.
export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

const AUTH_WORDS = new Set(["token", "tokens", "secret", "secrets", "password", "passwd", "passphrase", "apikey", "credential", "credentials", "bearer", "authorization", "auth", "authtoken"]);
const NOT_A_VALUE = new Set(["name", "names", "env", "var", "variable", "length", "len", "count", "size", "type", "kind", "label", "field", "header", "present", "set", "missing", "configured", "url", "path", "file", "prefix", "scheme", "source", "ok", "valid", "pattern", "regex", "chars", "re"]);

// authLike: a name that holds a credential (sourceToken, api_key, Authorization), not one that
// merely talks about it (tokenName, authHeader, TOKEN_ENV).
export function authLike(name: string): boolean {
  const w = words(name);
  if (w.length === 0) return false;
  let hit = w.some((x) => AUTH_WORDS.has(x));
  for (let i = 0; i + 1 < w.length; i++) if (w[i] === "api" && w[i + 1] === "key") hit = true;
  if (!hit) return false;
  return !NOT_A_VALUE.has(w[w.length - 1]!);
}

const WHOLE_OBJECTS = new Set(["headers", "config", "cfg", "conf", "options", "opts", "init", "settings", "credentials", "env"]);
const REDACTING = /^(redact|mask|scrub|sanitize|sanitise|hash|censor|obfuscate|strip)/i;
const BOUND_WORDS = new Set(["attempt", "attempts", "retry", "retries", "tries", "try", "count", "max", "deadline", "elapsed", "budget", "remaining", "left", "limit", "until", "timeout", "expires", "expiry"]);
const SLEEP_NAMES = /^(sleep|delay|wait|backoff|pause|settimeout|timeout|nap)/i;
const LOG_METHODS = new Set(["log", "info", "warn", "error", "debug", "trace", "fatal", "verbose", "dir", "table"]);
const RETRY_PACKAGES = new Set(["p-retry", "async-retry", "axios-retry", "retry", "promise-retry", "exponential-backoff", "cockatiel", "fetch-retry", "@lifeomic/attempt", "ts-retry-promise", "retry-axios"]);
const HTTP_PACKAGES = ["axios", "got", "ky", "node-fetch", "undici", "superagent", "needle", "ofetch", "cross-fetch", "isomorphic-fetch", "request", "phin", "make-fetch-happen"];

function parseArgs(argv: string[]): { typescript: string; fields: string[]; projects: string[] } {
  const out = { typescript: "", fields: [] as string[], projects: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--typescript") out.typescript = argv[++i] ?? "";
    else if (a === "--fields") out.fields = (argv[++i] ?? "").split(",").filter((f) => f.length > 0);
    else out.projects.push(a);
  }
  if (out.typescript === "" || out.projects.length === 0) {
    throw new Error("usage: analyzer.mjs --typescript NODE_MODULES --fields a,b,c PROJECT...");
  }
  return out;
}

function listFiles(root: string, truncated: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 40) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p, depth + 1);
      } else if (e.isFile() && SOURCE_EXT.test(e.name) && !e.name.endsWith(".d.ts")) {
        if (out.length >= MAX_FILES) {
          if (!truncated.includes("files")) truncated.push("files");
          return;
        }
        try {
          if (fs.statSync(p).size <= MAX_FILE_BYTES) out.push(p);
          else truncated.push("file too large: " + path.relative(root, p));
        } catch {
          // unreadable: nothing to say about it
        }
      }
    }
  };
  walk(root, 0);
  return out;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  // The toolchain folder is a node_modules: require the package by its path, so the lookup
  // does not depend on where that folder is mounted.
  const require = createRequire(import.meta.url);
  const ts = require(path.join(args.typescript, "typescript")) as typeof TS;
  const libCache = new Map<string, TS.SourceFile | undefined>();
  const projects = args.projects.map((p) => analyze(ts, path.resolve(p), args.typescript, args.fields, libCache));
  process.stdout.write(JSON.stringify({ analyzer: 1, typescript: ts.version, projects }) + "\n");
}

function analyze(ts: typeof TS, root: string, toolchain: string, fields: string[], libCache: Map<string, TS.SourceFile | undefined>): Facts {
  const facts: Facts = {
    root, entry: "src/index.ts", entryFound: false, files: [], diagnostics: [], diagnosticsTotal: 0, strings: [], tls: [],
    logCalls: 0, secretLogs: [], requests: [], timeouts: [], loops: [], retryOptions: [], retryLibraries: [], functions: [],
    imports: [], unsafe: [], truncated: [],
  };
  const rel = (f: string): string => path.relative(root, f).split(path.sep).join("/");
  const isTest = (f: string): boolean => TEST_PATH.test(rel(f));
  const entry = path.join(root, "src", "index.ts");
  facts.entryFound = fs.existsSync(entry);
  const all = listFiles(root, facts.truncated);
  // Every non-test file is a root, JavaScript included (allowJs without checkJs: parsed, typed
  // for the rules, but its own type errors are not the candidate's TypeScript's).
  const roots = all.filter((f) => !isTest(f));
  if (facts.entryFound && !roots.includes(entry)) roots.unshift(entry);

  const typeRoots = [path.join(root, "node_modules", "@types"), path.join(toolchain, "@types")].filter((d) => fs.existsSync(d));
  const options: TS.CompilerOptions = {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2024, lib: ["lib.es2024.d.ts"],
    module: ts.ModuleKind.Preserve, moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true, esModuleInterop: true, resolveJsonModule: true, skipLibCheck: true,
    types: ["node"], typeRoots, allowJs: true, checkJs: false, noErrorTruncation: false,
  };
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (!fileName.startsWith(toolchain) && !fileName.includes("/typescript/lib/")) return getSourceFile(fileName, languageVersion, onError, shouldCreate);
    const key = fileName + "\u0000" + JSON.stringify(languageVersion);
    if (!libCache.has(key)) libCache.set(key, getSourceFile(fileName, languageVersion, onError, shouldCreate));
    return libCache.get(key);
  };
  const program = ts.createProgram({ rootNames: roots, options, host });
  const checker = program.getTypeChecker();
  const inProject = (f: string): boolean => f.startsWith(root + path.sep) && !f.includes(`${path.sep}node_modules${path.sep}`);

  // Diagnostics of the project's own files under --strict.
  const syntactic = new Set<TS.Diagnostic>();
  for (const sf of program.getSourceFiles()) {
    if (inProject(sf.fileName)) for (const d of program.getSyntacticDiagnostics(sf)) syntactic.add(d);
  }
  const diags = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...syntactic];
  if (syntactic.size === 0) {
    for (const sf of program.getSourceFiles()) if (inProject(sf.fileName)) diags.push(...program.getSemanticDiagnostics(sf));
  }
  for (const d of diags) {
    if (d.file && !inProject(d.file.fileName)) continue;
    facts.diagnosticsTotal++;
    if (facts.diagnostics.length >= 200) continue;
    const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: -1, character: -1 };
    facts.diagnostics.push({
      file: d.file ? rel(d.file.fileName) : "", line: pos.line + 1, col: pos.character + 1, code: d.code,
      message: cap(ts.flattenDiagnosticMessageText(d.messageText, " ")), syntactic: syntactic.has(d),
    });
  }

  // Every source file: the program's (with types) and the rest (parsed alone).
  const files: { sf: TS.SourceFile; typed: boolean }[] = [];
  for (const f of all) {
    const sf = program.getSourceFile(f);
    if (sf) files.push({ sf, typed: true });
    else {
      const text = fs.readFileSync(f, "utf8");
      const kind = /\.[cm]?jsx?$/.test(f) ? ts.ScriptKind.JS : f.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
      files.push({ sf: ts.createSourceFile(f, text, ts.ScriptTarget.ES2024, true, kind), typed: false });
    }
    facts.files.push({ path: rel(f), lines: files[files.length - 1]!.sf.getLineStarts().length, program: !!sf, test: isTest(f) });
  }

  const a = new Analysis(ts, checker, facts, rel, isTest, inProject, new Set(fields), program, options, host);
  a.run(files);
  return facts;
}

function cap(s: string, n = MAX_TEXT): string {
  return s.length > n ? s.slice(0, n) + "…" : s;
}

// --- taint values ----------------------------------------------------------------------------

// Taint says why a value carries a credential: expr is the value as written, why how it came to
// carry one, origin the expression the credential was first read as (env("ITSM_TARGET_TOKEN"),
// cfg.targetToken), name the credential's name where the code gives one.
type Taint = { expr: string; why: string; origin: string; name: string };

// Flow is what flows into a value: a credential (taint); the parameters of its function whose
// value it is or is derived from (from); the parameters that chose the key it was read with from
// the environment or another string-keyed store (keys).
type Flow = { taint?: Taint; from: Set<TS.Symbol>; keys: Set<TS.Symbol> };

const MAX_TAINT_ROUNDS = 10;
// A piece of a credential of at most this many characters, cut at literal bounds, is a mask
// (the "last four" shown to tell tokens apart), not a fragment: slice(-4) passes, slice(0, 6)
// does not. Four characters of a token hold at most 24 bits of it, and the measured side
// (harness/secrets) needs 8 characters in a row to see a fragment at all.
const MAX_MASK = 4;
// Calls and constructors whose result carries their arguments' values.
const TRANSPARENT_CALLS = new Set(["JSON.stringify", "String", "util.inspect", "util.format", "inspect", "format", "Object.assign", "Object.entries",
  "Object.fromEntries", "Object.values", "structuredClone", "Buffer.from", "btoa", "encodeURIComponent", "encodeURI", "escape", "Array.from", "Array.of"]);
const TRANSPARENT_NEW = new Set(["Headers", "URLSearchParams", "Map", "Set", "String", "Error", "TypeError", "RangeError"]);
// Methods whose result is their receiver's value, whole (concat adds its arguments').
const VALUE_METHODS = new Set(["toString", "join", "concat", "trim", "trimStart", "trimEnd", "toJSON", "toUpperCase", "toLowerCase",
  "toLocaleUpperCase", "toLocaleLowerCase", "normalize", "padEnd", "padStart", "valueOf", "toWellFormed"]);
// Methods that cut a piece of a string, and those that take one character of it.
const FRAGMENT_METHODS = new Set(["slice", "substring", "substr"]);
const CHARACTER_METHODS = new Set(["at", "charAt", "charCodeAt", "codePointAt"]);

function none(): Flow {
  return { from: new Set(), keys: new Set() };
}

function tainted(t: Taint | undefined): Flow {
  return { taint: t, from: new Set(), keys: new Set() };
}

function join(a: Flow, b: Flow): Flow {
  return { taint: a.taint ?? b.taint, from: new Set([...a.from, ...b.from]), keys: new Set([...a.keys, ...b.keys]) };
}

// holding: a variable or property holding a credential read elsewhere.
function holding(expr: string, t: Taint): Taint {
  return { expr, why: `it holds ${t.origin}`, origin: t.origin, name: t.name };
}

// credentialName is the name a credential goes by, for a literal flowing into it.
function credentialName(t: Taint): string {
  return authLike(t.name) ? t.name : "credential";
}

function render(t: Taint): string {
  return `${t.expr} (${t.why})`;
}

function short(n: TS.Node): string {
  return cap(n.getText().replace(/\s+/g, " "), 80);
}

// pieceLength is how many characters slice/substring/substr cut when the code says (literal
// bounds), or undefined.
function pieceLength(ts: typeof TS, method: string, args: readonly TS.Expression[]): number | undefined {
  const num = (e: TS.Expression | undefined): number | undefined => {
    if (!e) return undefined;
    if (ts.isNumericLiteral(e)) return Number(e.text);
    if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(e.operand)) return -Number(e.operand.text);
    return undefined;
  };
  const a = num(args[0]);
  const b = num(args[1]);
  if (a === undefined || (args.length > 1 && b === undefined)) return undefined;
  if (b === undefined) return a < 0 && method !== "substring" ? -a : undefined; // from a to the end
  if (method === "substr") return Math.max(0, b);
  if (method === "substring") return a >= 0 && b >= 0 ? Math.abs(b - a) : undefined;
  return (a >= 0) === (b >= 0) ? Math.max(0, b - a) : undefined;
}

// argsAt are the arguments a call gives its callee's parameter i (all the rest for a rest
// parameter).
function argsAt(fn: TS.Node, call: TS.CallExpression, i: number, ts: typeof TS): TS.Expression[] {
  const params = ts.isFunctionLike(fn) ? fn.parameters : undefined;
  if (params?.[i]?.dotDotDotToken) return call.arguments.slice(i);
  const a = call.arguments[i];
  return a ? [a] : [];
}

type Fn = { id: number; node: TS.Node; name: string; sf: TS.SourceFile; roles: Set<string>; calls: Set<TS.Node>; request: boolean };

class Analysis {
  private fns: Fn[] = [];
  private fnByNode = new Map<TS.Node, Fn>();
  // The taint (see "secrets flowing"): variables holding a credential, the parameters a
  // variable's value comes from, the parameters that chose the key it was read with, properties
  // holding a credential (by declaration), the functions' summaries, and the parameters some call
  // gives a credential or a credential's name.
  private tainted = new Map<TS.Symbol, Taint>();
  private fromParams = new Map<TS.Symbol, Set<TS.Symbol>>();
  private keyed = new Map<TS.Symbol, Set<TS.Symbol>>();
  private taintedProps = new Map<TS.Node, Taint>();
  private secretReturns = new Map<TS.Node, Taint>();
  private passReturns = new Map<TS.Node, Set<number>>();
  private keyedReturns = new Map<TS.Node, Set<number>>();
  private givenCredential = new Map<TS.Symbol, string>();
  private givenKey = new Map<TS.Symbol, string>();
  private retryImports = new Set<TS.Symbol>();

  constructor(
    private ts: typeof TS,
    private checker: TS.TypeChecker,
    private facts: Facts,
    private rel: (f: string) => string,
    private isTest: (f: string) => boolean,
    private inProject: (f: string) => boolean,
    private fields: Set<string>,
    private program: TS.Program,
    private options: TS.CompilerOptions,
    private host: TS.CompilerHost,
  ) {}

  run(files: { sf: TS.SourceFile; typed: boolean }[]): void {
    for (const { sf } of files) this.collectFunctions(sf);
    for (const { sf } of files) if (!this.isTest(sf.fileName)) this.markMappings(sf);
    for (const { sf, typed } of files) if (typed) this.imports(sf);
    // Taint and function summaries settle in a few rounds (flow-insensitive, per symbol): each
    // round can carry a value one call or assignment further across files.
    for (let round = 0; round < MAX_TAINT_ROUNDS; round++) {
      this.changed = 0;
      for (const { sf, typed } of files) if (typed && !this.isTest(sf.fileName)) this.propagate(sf);
      if (this.changed === 0) break;
    }
    for (const { sf } of files) this.visitFile(sf);
    this.transitiveRequests();
    for (const { sf, typed } of files) if (typed && !this.isTest(sf.fileName)) this.loopsAndRecursion(sf);
    for (const f of this.fns) {
      if (this.facts.functions.length >= MAX_ITEMS) break;
      const start = f.sf.getLineAndCharacterOfPosition(f.node.getStart(f.sf));
      const end = f.sf.getLineAndCharacterOfPosition(f.node.getEnd());
      this.facts.functions.push({
        id: f.id, name: f.name, file: this.rel(f.sf.fileName), line: start.line + 1, endLine: end.line + 1,
        roles: [...f.roles].sort(), calls: [...f.calls].map((n) => this.fnByNode.get(n)!.id).sort((x, y) => x - y),
      });
    }
  }

  // --- locations -----------------------------------------------------------------------

  private hit(node: TS.Node, kind: string, detail?: string): Hit {
    const sf = node.getSourceFile();
    const p = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    const lineStart = sf.getLineStarts()[p.line]!;
    const lineEnd = sf.getLineEndOfPosition(lineStart);
    const h: Hit = { file: this.rel(sf.fileName), line: p.line + 1, col: p.character + 1, kind, text: cap(sf.text.slice(lineStart, lineEnd).trim()) };
    if (detail !== undefined) h.detail = cap(detail);
    if (this.isTest(sf.fileName)) h.test = true;
    return h;
  }

  private push<T>(list: T[], item: T, name: string): void {
    if (list.length < MAX_ITEMS) list.push(item);
    else if (!this.facts.truncated.includes(name)) this.facts.truncated.push(name);
  }

  // --- functions and the call graph ---------------------------------------------------------

  private fnName(node: TS.Node): string | undefined {
    const ts = this.ts;
    if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name) {
      const cls = node.parent && ts.isClassLike(node.parent) && node.parent.name ? node.parent.name.text + "." : "";
      return cls + node.name.getText();
    }
    if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
      const p = node.parent;
      if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
      if (ts.isPropertyAssignment(p)) return p.name.getText();
      if (ts.isPropertyDeclaration(p)) return p.name.getText();
      if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) return p.left.getText();
    }
    if (ts.isConstructorDeclaration(node) && node.parent.name) return node.parent.name.text + ".constructor";
    if ((ts.isGetAccessor(node) || ts.isSetAccessor(node)) && node.name) return node.name.getText();
    return undefined;
  }

  private collectFunctions(sf: TS.SourceFile): void {
    if (this.isTest(sf.fileName)) return;
    const module: Fn = { id: this.fns.length, node: sf, name: "(module " + this.rel(sf.fileName) + ")", sf, roles: new Set(), calls: new Set(), request: false };
    this.fns.push(module);
    this.fnByNode.set(sf, module);
    const visit = (n: TS.Node): void => {
      const name = this.fnName(n);
      if (name !== undefined) {
        const f: Fn = { id: this.fns.length, node: n, name, sf, roles: new Set(), calls: new Set(), request: false };
        this.fns.push(f);
        this.fnByNode.set(n, f);
      }
      this.ts.forEachChild(n, visit);
    };
    this.ts.forEachChild(sf, visit);
  }

  // The named function (or module) a node belongs to.
  private owner(n: TS.Node): Fn | undefined {
    for (let p: TS.Node | undefined = n.parent; p; p = p.parent) {
      const f = this.fnByNode.get(p);
      if (f) return f;
    }
    return undefined;
  }

  // The declaration a call's callee resolves to.
  private calleeDecl(call: TS.CallExpression | TS.NewExpression): TS.Declaration | undefined {
    let sym = this.checker.getSymbolAtLocation(call.expression);
    if (sym && sym.flags & this.ts.SymbolFlags.Alias) sym = this.checker.getAliasedSymbol(sym);
    return sym?.valueDeclaration ?? sym?.declarations?.[0];
  }

  private projectFn(call: TS.CallExpression): Fn | undefined {
    const d = this.calleeDecl(call);
    if (!d) return undefined;
    let node: TS.Node = d;
    if (this.ts.isVariableDeclaration(d) && d.initializer) node = d.initializer;
    if (this.ts.isPropertyAssignment(d)) node = d.initializer;
    const f = this.fnByNode.get(node);
    return f && f.node !== f.sf ? f : undefined;
  }

  // Mapping: a function building an object with three or more of the target schema's properties.
  private markMappings(sf: TS.SourceFile): void {
    const ts = this.ts;
    const visit = (n: TS.Node): void => {
      if (ts.isObjectLiteralExpression(n)) {
        let hits = 0;
        for (const p of n.properties) if (p.name && this.fields.has(p.name.getText().replace(/^["']|["']$/g, ""))) hits++;
        if (hits >= 3) this.owner(n)?.roles.add("mapping");
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }

  // --- imports ---------------------------------------------------------------------------------

  private imports(sf: TS.SourceFile): void {
    const ts = this.ts;
    const from = this.rel(sf.fileName);
    const add = (spec: string, node: TS.Node, clause?: TS.ImportClause): void => {
      const r = ts.resolveModuleName(spec, sf.fileName, this.options, this.host);
      const file = r.resolvedModule?.resolvedFileName;
      const local = file !== undefined && this.inProject(file);
      const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
      if (!this.isTest(sf.fileName)) {
        this.push(this.facts.imports, { from, to: local ? this.rel(file) : spec.startsWith(".") ? spec : pkg, external: !local && !spec.startsWith(".") }, "imports");
      }
      if (RETRY_PACKAGES.has(pkg)) {
        this.push(this.facts.retryLibraries, this.hit(node, pkg), "retryLibraries");
        if (clause) {
          const names: TS.Identifier[] = [];
          if (clause.name) names.push(clause.name);
          const nb = clause.namedBindings;
          if (nb && ts.isNamespaceImport(nb)) names.push(nb.name);
          if (nb && ts.isNamedImports(nb)) for (const e of nb.elements) names.push(e.name);
          for (const id of names) {
            const s = this.checker.getSymbolAtLocation(id);
            if (s) this.retryImports.add(s);
            const aliased = s ? this.symbolOf(id) : undefined;
            if (aliased) this.retryImports.add(aliased);
          }
        }
      }
    };
    const visit = (n: TS.Node): void => {
      if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
        add(n.moduleSpecifier.text, n, ts.isImportDeclaration(n) ? n.importClause : undefined);
      } else if (ts.isCallExpression(n) && n.arguments.length === 1 && ts.isStringLiteral(n.arguments[0]!) &&
        (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === "require"))) {
        add((n.arguments[0] as TS.StringLiteral).text, n);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }

  // --- secrets flowing -----------------------------------------------------------------------
  //
  // Taint follows values, not the functions that read them. A value carries a credential when it
  // is named like one (cfg.targetToken), read from the environment or another string-keyed store
  // under a credential's name (process.env.ITSM_TARGET_TOKEN, env["X_TOKEN"]), returned by a
  // helper that reads such a store with a key it is given and is given a credential's name
  // (env("ITSM_TARGET_TOKEN"), never env("ITSM_TARGET_URL")), held by a variable or property
  // assigned one, or derived from one (a slice, a template, a concatenation, String(x), a
  // helper passing it on). Functions are summarised by what they return: a credential whatever
  // the call (secretReturns), the value of a store read with the key their parameter i chose
  // (keyedReturns), or (a derivation of) their parameter i's value (passReturns). Flow-
  // insensitive, per symbol; settled in rounds.

  private symbolOf(n: TS.Node): TS.Symbol | undefined {
    const s = this.checker.getSymbolAtLocation(n);
    if (s && s.flags & this.ts.SymbolFlags.Alias) return this.checker.getAliasedSymbol(s);
    return s;
  }

  // rootIdentifier of a.b[c].d is a.
  private rootIdentifier(e: TS.Expression): TS.Identifier | undefined {
    const ts = this.ts;
    let x: TS.Expression = e;
    for (;;) {
      if (ts.isPropertyAccessExpression(x) || ts.isElementAccessExpression(x) || ts.isNonNullExpression(x) || ts.isParenthesizedExpression(x) || ts.isAsExpression(x)) x = x.expression;
      else break;
    }
    return ts.isIdentifier(x) ? x : undefined;
  }

  private typeSecret(e: TS.Expression): string {
    let t: TS.Type;
    try {
      t = this.checker.getTypeAtLocation(e);
    } catch {
      return "";
    }
    if (t.flags & (this.ts.TypeFlags.Any | this.ts.TypeFlags.Unknown | this.ts.TypeFlags.StringLike | this.ts.TypeFlags.NumberLike | this.ts.TypeFlags.BooleanLike)) return "";
    const props = this.checker.getPropertiesOfType(t);
    if (props.length > 200) return "";
    const names = props.map((p) => p.name);
    if (names.includes("isAxiosError")) return "an axios error (its config.headers hold the Authorization header)";
    const auth = names.find((n) => authLike(n));
    if (auth) return `an object with the property ${auth}`;
    if (names.includes("headers") && names.includes("method")) return "a request (its headers hold the Authorization header)";
    return "";
  }

  private byName(e: TS.Node, name: string): Taint | undefined {
    const text = short(e);
    if (authLike(name)) return { expr: text, why: "a credential's name", origin: text, name };
    if (WHOLE_OBJECTS.has(name.toLowerCase())) return { expr: text, why: "passed whole", origin: text, name: "" };
    return undefined;
  }

  private byType(e: TS.Expression): Taint | undefined {
    const why = this.typeSecret(e);
    return why ? { expr: short(e), why, origin: short(e), name: "" } : undefined;
  }

  private isStringType(e: TS.Expression): boolean {
    try {
      return !!(this.checker.getTypeAtLocation(e).flags & this.ts.TypeFlags.StringLike);
    } catch {
      return false;
    }
  }

  private isAssignment(kind: TS.SyntaxKind): boolean {
    const k = this.ts.SyntaxKind;
    return kind === k.EqualsToken || kind === k.PlusEqualsToken || kind === k.QuestionQuestionEqualsToken || kind === k.BarBarEqualsToken;
  }

  // place renders where a node is: src/index.ts:12.
  private place(n: TS.Node): string {
    const sf = n.getSourceFile();
    return `${this.rel(sf.fileName)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  }

  private isParameter(s: TS.Symbol | undefined): boolean {
    const d = s?.valueDeclaration;
    return !!d && this.ts.isParameter(d);
  }

  // isStore: the environment (process.env, an env parameter) or another object indexed by any
  // string, whose values are read by key.
  private isStore(c: TS.Expression, typed: boolean): boolean {
    const ts = this.ts;
    const text = c.getText();
    if (/^(globalThis\.)?process\.env$/.test(text) || text === "import.meta.env") return true;
    const name = ts.isIdentifier(c) ? c.text : ts.isPropertyAccessExpression(c) ? c.name.text : "";
    const w = words(name);
    if (w.length > 0 && ["env", "environment", "vars"].includes(w[w.length - 1]!)) return true;
    if (!typed) return false;
    try {
      const t = this.checker.getTypeAtLocation(c);
      return !!t.getStringIndexType() && !this.checker.isArrayLikeType(t);
    } catch {
      return false;
    }
  }

  // walksKeys: the key is the variable of a loop over the store's keys (for (k in process.env),
  // for (k of Object.keys(env))) or the parameter of a callback given them
  // (Object.keys(process.env).forEach((k) => …)).
  private walksKeys(k: TS.Expression, store: TS.Expression): boolean {
    const ts = this.ts;
    if (!ts.isIdentifier(k)) return false;
    const d = this.symbolOf(k)?.valueDeclaration;
    const sameStore = (x: TS.Expression): boolean => x.getText() === store.getText();
    const keysOf = (x: TS.Expression): boolean =>
      ts.isCallExpression(x) && /^Object\.(keys|getOwnPropertyNames)$/.test(x.expression.getText()) && !!x.arguments[0] && sameStore(x.arguments[0]);
    if (d && ts.isVariableDeclaration(d) && ts.isVariableDeclarationList(d.parent)) {
      const loop = d.parent.parent;
      if (ts.isForInStatement(loop)) return sameStore(loop.expression);
      if (ts.isForOfStatement(loop)) return keysOf(loop.expression);
    }
    if (d && ts.isParameter(d) && d.parent.parameters[0] === d && (ts.isArrowFunction(d.parent) || ts.isFunctionExpression(d.parent))) {
      const call = d.parent.parent;
      return ts.isCallExpression(call) && ts.isPropertyAccessExpression(call.expression) && keysOf(call.expression.expression);
    }
    return false;
  }

  // keyNames are the strings a key can be, when the code says (a literal, a constant, a
  // literal type, a template of them); undefined when it is chosen at run time (a parameter,
  // a loop variable).
  private keyNames(k: TS.Expression, typed: boolean, depth = 0): string[] | undefined {
    const ts = this.ts;
    if (depth > 6) return undefined;
    if (ts.isParenthesizedExpression(k) || ts.isAsExpression(k) || ts.isNonNullExpression(k) || ts.isSatisfiesExpression(k)) return this.keyNames(k.expression, typed, depth + 1);
    if (ts.isStringLiteralLike(k) || ts.isNumericLiteral(k)) return [k.text];
    if (ts.isTemplateExpression(k) || (ts.isBinaryExpression(k) && k.operatorToken.kind === ts.SyntaxKind.PlusToken)) {
      // A part chosen at run time leaves the rest to say what the key is: ITSM_${side}_TOKEN
      // names a credential whatever side is.
      const parts = ts.isTemplateExpression(k) ? [k.head.text] : [];
      let unknown = false;
      const add = (x: TS.Expression): void => {
        const v = this.keyNames(x, typed, depth + 1);
        if (v && v.length === 1) parts.push(v[0]!);
        else unknown = true;
      };
      if (ts.isTemplateExpression(k)) {
        for (const s of k.templateSpans) {
          add(s.expression);
          parts.push(s.literal.text);
        }
      } else {
        add(k.left);
        add(k.right);
      }
      if (!unknown) return [parts.join("")];
      return authLike(parts.join("_")) ? [parts.join("_")] : undefined;
    }
    if (!typed) return undefined;
    const s = ts.isIdentifier(k) || ts.isPropertyAccessExpression(k) ? this.symbolOf(k) : undefined;
    if (this.isParameter(s)) return undefined;
    try {
      const t = this.checker.getTypeAtLocation(k);
      if (t.isStringLiteral()) return [t.value];
      if (t.isNumberLiteral()) return [String(t.value)];
      if (t.isUnion() && t.types.length <= 20 && t.types.every((x) => x.isStringLiteral())) return t.types.map((x) => (x as TS.StringLiteralType).value);
    } catch {
      // no type: the declaration below may still say
    }
    const d = s?.valueDeclaration;
    if (d && ts.isVariableDeclaration(d) && d.initializer && ts.getCombinedNodeFlags(d) & ts.NodeFlags.Const) return this.keyNames(d.initializer, typed, depth + 1);
    if (d && ts.isVariableDeclaration(d) && !d.initializer && ts.isVariableDeclarationList(d.parent) && ts.isForOfStatement(d.parent.parent)) {
      return this.elementNames(d.parent.parent.expression, typed, depth + 1); // for (const name of ["ITSM_SOURCE_TOKEN", …])
    }
    if (d && ts.isPropertyAssignment(d)) return this.keyNames(d.initializer, typed, depth + 1);
    return undefined;
  }

  // elementNames are the strings an array literal (or a constant holding one) lists, when the
  // code says.
  private elementNames(e: TS.Expression, typed: boolean, depth: number): string[] | undefined {
    const ts = this.ts;
    let x: TS.Expression = e;
    while (ts.isParenthesizedExpression(x) || ts.isAsExpression(x) || ts.isSatisfiesExpression(x)) x = x.expression;
    if (ts.isIdentifier(x) && typed) {
      const d = this.symbolOf(x)?.valueDeclaration;
      if (d && ts.isVariableDeclaration(d) && d.initializer && ts.getCombinedNodeFlags(d) & ts.NodeFlags.Const) return this.elementNames(d.initializer, typed, depth + 1);
    }
    if (!ts.isArrayLiteralExpression(x) || depth > 6) return undefined;
    const out: string[] = [];
    for (const el of x.elements) {
      const v = this.keyNames(el, typed, depth + 1);
      if (!v) return undefined;
      out.push(...v);
    }
    return out;
  }

  // credentialKey is the credential a key names (ITSM_TARGET_TOKEN, "apiKey"), or "".
  private credentialKey(k: TS.Expression, typed: boolean): string {
    return this.keyNames(k, typed)?.find((n) => authLike(n)) ?? "";
  }

  // propertyTaint: a property (of an object literal, a class, an interface) assigned a credential.
  private propertyTaint(e: TS.PropertyAccessExpression | TS.ElementAccessExpression): Taint | undefined {
    const at = this.ts.isPropertyAccessExpression(e) ? e.name : e.argumentExpression;
    const s = this.checker.getSymbolAtLocation(at);
    for (const d of s?.declarations ?? []) {
      const t = this.taintedProps.get(d);
      if (t) return holding(short(e), t);
    }
    return undefined;
  }

  // flow says what flows into an expression's value.
  private flow(e: TS.Node | undefined, typed: boolean, depth = 0): Flow {
    const ts = this.ts;
    if (!e || depth > 12) return none();
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isAwaitExpression(e) || ts.isTypeAssertionExpression(e) || ts.isSatisfiesExpression(e) || ts.isSpreadElement(e) || ts.isSpreadAssignment(e)) {
      return this.flow(e.expression, typed, depth + 1);
    }
    if (ts.isIdentifier(e)) return this.variableFlow(e, e.text, typed ? this.symbolOf(e) : undefined, typed);
    if (ts.isPropertyAccessExpression(e)) {
      if (/^(globalThis\.)?process\.env$/.test(e.getText())) return tainted({ expr: "process.env", why: "passed whole", origin: "process.env", name: "" });
      return tainted(this.byName(e, e.name.text) ?? (typed ? this.propertyTaint(e) ?? this.byType(e) : undefined));
    }
    if (ts.isElementAccessExpression(e)) return this.elementFlow(e, typed, depth);
    if (ts.isTemplateExpression(e)) return this.joinAll(e.templateSpans.map((s) => s.expression), typed, depth);
    if (ts.isObjectLiteralExpression(e)) {
      return this.joinAll(e.properties.map((p) => (ts.isPropertyAssignment(p) ? p.initializer : ts.isShorthandPropertyAssignment(p) || ts.isSpreadAssignment(p) ? p : undefined)), typed, depth);
    }
    if (ts.isShorthandPropertyAssignment(e)) {
      return this.variableFlow(e.name, e.name.text, typed ? this.checker.getShorthandAssignmentValueSymbol(e) : undefined, typed);
    }
    if (ts.isArrayLiteralExpression(e)) return this.joinAll([...e.elements], typed, depth);
    if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === ts.SyntaxKind.PlusToken || op === ts.SyntaxKind.QuestionQuestionToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.CommaToken) {
        return join(this.flow(e.left, typed, depth + 1), this.flow(e.right, typed, depth + 1));
      }
      if (op === ts.SyntaxKind.AmpersandAmpersandToken) return this.flow(e.right, typed, depth + 1);
      return none();
    }
    if (ts.isConditionalExpression(e)) return join(this.flow(e.whenTrue, typed, depth + 1), this.flow(e.whenFalse, typed, depth + 1));
    if (ts.isCallExpression(e)) return this.callFlow(e, typed, depth);
    if (ts.isNewExpression(e) && TRANSPARENT_NEW.has(e.expression.getText())) return this.joinAll([...(e.arguments ?? [])], typed, depth);
    return none();
  }

  private joinAll(es: (TS.Node | undefined)[], typed: boolean, depth: number): Flow {
    let out = none();
    for (const x of es) out = join(out, this.flow(x, typed, depth + 1));
    return out;
  }

  private variableFlow(e: TS.Node, name: string, s: TS.Symbol | undefined, typed: boolean): Flow {
    const out = none();
    if (s) {
      const t = this.tainted.get(s);
      if (t) out.taint = t.origin === name ? t : holding(name, t);
      if (this.isParameter(s)) out.from.add(s);
      for (const p of this.fromParams.get(s) ?? []) out.from.add(p);
      for (const p of this.keyed.get(s) ?? []) out.keys.add(p);
    }
    if (!out.taint) out.taint = this.byName(e, name) ?? (typed && this.ts.isIdentifier(e) ? this.byType(e) : undefined);
    return out;
  }

  private elementFlow(e: TS.ElementAccessExpression, typed: boolean, depth: number): Flow {
    const k = e.argumentExpression;
    const names = this.keyNames(k, typed);
    const numeric = names !== undefined && names.every((n) => /^-?\d+$/.test(n));
    if (names !== undefined && !numeric) {
      const cred = names.find((n) => authLike(n));
      if (cred) return tainted({ expr: short(e), why: "a credential's name", origin: short(e), name: cred });
      const whole = names.find((n) => WHOLE_OBJECTS.has(n.toLowerCase()));
      if (whole) return tainted(this.byName(e, whole));
      const p = typed ? this.propertyTaint(e) : undefined;
      if (p || this.isStore(e.expression, typed)) return tainted(p);
      return tainted(typed ? this.byType(e) : undefined);
    }
    if (this.isStore(e.expression, typed)) {
      // Read with a key chosen at run time: every variable when the key walks the store's own
      // keys; a credential when the key comes from a parameter and a caller names one (keys);
      // not followed otherwise.
      if (typed && this.walksKeys(k, e.expression)) return tainted({ expr: short(e), why: "every variable in turn, the credentials included", origin: short(e), name: "" });
      const out = none();
      for (const p of this.flow(k, typed, depth + 1).from) out.keys.add(p);
      return out;
    }
    if (numeric && typed && this.isStringType(e.expression)) return none(); // one character
    return this.flow(e.expression, typed, depth + 1); // an element of an array (or a string) at an index the code computes
  }

  private callFlow(e: TS.CallExpression, typed: boolean, depth: number): Flow {
    const ts = this.ts;
    const callee = e.expression;
    const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : "";
    if (REDACTING.test(name)) return none();
    if (TRANSPARENT_CALLS.has(callee.getText())) return this.joinAll([...e.arguments], typed, depth);
    if (ts.isPropertyAccessExpression(callee)) {
      const recv = callee.expression;
      if (VALUE_METHODS.has(name)) {
        const f = this.flow(recv, typed, depth + 1);
        return name === "concat" ? join(f, this.joinAll([...e.arguments], typed, depth)) : f;
      }
      if (FRAGMENT_METHODS.has(name)) return this.fragmentFlow(e, recv, name, typed, depth);
      if (CHARACTER_METHODS.has(name) && typed && this.isStringType(recv)) return none();
    }
    const f = typed ? this.projectFn(e) : undefined;
    return f ? this.summaryFlow(e, f, typed, depth) : none();
  }

  // fragmentFlow: a slice of a credential is still one, unless the code cuts at most MAX_MASK
  // characters (the usual "last four" shown to tell tokens apart).
  private fragmentFlow(e: TS.CallExpression, recv: TS.Expression, method: string, typed: boolean, depth: number): Flow {
    const inner = this.flow(recv, typed, depth + 1);
    if (!typed || !this.isStringType(recv)) return inner;
    const n = pieceLength(this.ts, method, e.arguments);
    if (n !== undefined && n <= MAX_MASK) return none();
    const t = inner.taint;
    if (!t) return inner;
    const of = t.origin !== t.expr ? `, which holds ${t.origin}` : `, ${t.why}`;
    const piece = n === undefined ? "a fragment" : `${n} characters`;
    return { ...inner, taint: { expr: short(e), why: `${piece} of ${t.expr}${of}`, origin: t.origin, name: t.name } };
  }

  // summaryFlow: what a project function's call returns, from its summary and its arguments.
  private summaryFlow(e: TS.CallExpression, f: Fn, typed: boolean, depth: number): Flow {
    const out = none();
    const secret = this.secretReturns.get(f.node);
    if (secret) out.taint = { expr: short(e), why: `it returns ${secret.origin}`, origin: secret.origin, name: secret.name };
    for (const i of this.keyedReturns.get(f.node) ?? []) {
      for (const a of argsAt(f.node, e, i, this.ts)) {
        const cred = this.credentialKey(a, typed);
        if (cred && !out.taint) out.taint = { expr: short(e), why: `it reads the credential ${cred}`, origin: short(e), name: cred };
        for (const p of this.flow(a, typed, depth + 1).from) out.keys.add(p);
      }
    }
    for (const i of this.passReturns.get(f.node) ?? []) {
      for (const a of argsAt(f.node, e, i, this.ts)) {
        const g = this.flow(a, typed, depth + 1);
        if (g.taint && !out.taint) out.taint = { expr: short(e), why: `${f.name} returns ${g.taint.expr}${g.taint.origin !== g.taint.expr ? `, which holds ${g.taint.origin}` : ""}`, origin: g.taint.origin, name: g.taint.name };
        for (const p of g.from) out.from.add(p);
        for (const p of g.keys) out.keys.add(p);
      }
    }
    return out;
  }

  // --- settling the taint ---------------------------------------------------------------------

  private changed = 0;

  private addTo<K, V>(m: Map<K, Set<V>>, k: K, vs: Iterable<V>): void {
    for (const v of vs) {
      let set = m.get(k);
      if (!set) m.set(k, (set = new Set()));
      if (!set.has(v)) {
        set.add(v);
        this.changed++;
      }
    }
  }

  private setOnce<K, V>(m: Map<K, V>, k: K, v: V | undefined): void {
    if (v !== undefined && !m.has(k)) {
      m.set(k, v);
      this.changed++;
    }
  }

  private assignVariable(s: TS.Symbol | undefined, fl: Flow): void {
    if (!s) return;
    this.setOnce(this.tainted, s, fl.taint);
    this.addTo(this.fromParams, s, fl.from);
    this.addTo(this.keyed, s, fl.keys);
  }

  // taintProperty: a property assigned a credential, at its declaration and, for an object
  // literal, at the property of the type it is written for (Config.targetToken). Only the
  // project's own declarations: RequestInit.body or Error.message given a credential once must
  // not make every body or message one.
  private taintProperty(name: TS.Node, t: Taint, literal?: TS.ObjectLiteralExpression): void {
    const mark = (d: TS.Declaration): void => {
      if (this.inProject(d.getSourceFile().fileName)) this.setOnce(this.taintedProps, d, t);
    };
    (this.checker.getSymbolAtLocation(name)?.declarations ?? []).forEach(mark);
    if (!literal) return;
    const ct = this.checker.getContextualType(literal);
    (ct?.getProperty(name.getText().replace(/^["']|["']$/g, ""))?.declarations ?? []).forEach(mark);
  }

  private destructure(pattern: TS.BindingPattern, init: TS.Expression): void {
    const ts = this.ts;
    const whole = this.flow(init, true);
    if (ts.isArrayBindingPattern(pattern)) {
      for (const el of pattern.elements) if (ts.isBindingElement(el) && ts.isIdentifier(el.name)) this.assignVariable(this.symbolOf(el.name), whole);
      return;
    }
    let type: TS.Type | undefined;
    try {
      type = this.checker.getTypeAtLocation(init);
    } catch {
      type = undefined;
    }
    for (const el of pattern.elements) {
      if (!ts.isIdentifier(el.name)) continue;
      const local = this.symbolOf(el.name);
      if (el.dotDotDotToken) {
        this.assignVariable(local, whole);
        continue;
      }
      const prop = (el.propertyName ?? el.name).getText().replace(/^["']|["']$/g, "");
      let t: Taint | undefined;
      if (authLike(prop)) t = { expr: `${short(init)}.${prop}`, why: "a credential's name", origin: `${short(init)}.${prop}`, name: prop };
      for (const d of type?.getProperty(prop)?.declarations ?? []) t ??= this.taintedProps.get(d);
      this.assignVariable(local, { taint: t, from: new Set(), keys: new Set() });
    }
  }

  // bindElements binds a for-of loop's variable to the elements of what it iterates: each
  // element carries what the collection carries, except the key of an Object.entries pair.
  private bindElements(name: TS.BindingName, iterated: TS.Expression): void {
    const ts = this.ts;
    const whole = this.flow(iterated, true);
    if (ts.isIdentifier(name)) {
      this.assignVariable(this.symbolOf(name), whole);
      return;
    }
    const entries = ts.isCallExpression(iterated) && iterated.expression.getText() === "Object.entries";
    if (ts.isArrayBindingPattern(name)) {
      name.elements.forEach((el, i) => {
        if (ts.isBindingElement(el) && ts.isIdentifier(el.name) && !(entries && i === 0)) this.assignVariable(this.symbolOf(el.name), whole);
      });
      return;
    }
    for (const el of name.elements) {
      const prop = (el.propertyName ?? el.name).getText();
      if (ts.isIdentifier(el.name) && authLike(prop)) this.assignVariable(this.symbolOf(el.name), tainted({ expr: `${short(iterated)}[…].${prop}`, why: "a credential's name", origin: `${short(iterated)}[…].${prop}`, name: prop }));
    }
  }

  // recordReturn summarises a named function by a value it returns (an unnamed callback's
  // return is the callback's, not its caller's).
  private recordReturn(fnNode: TS.Node | undefined, value: TS.Expression): void {
    const ts = this.ts;
    if (!fnNode || !ts.isFunctionLike(fnNode) || !this.fnByNode.has(fnNode)) return;
    const fl = this.flow(value, true);
    this.setOnce(this.secretReturns, fnNode, fl.taint);
    const index = (p: TS.Symbol): number => (fnNode as TS.SignatureDeclaration).parameters.findIndex((d) => this.symbolOf(d.name) === p);
    this.addTo(this.passReturns, fnNode, [...fl.from].map(index).filter((i) => i >= 0));
    this.addTo(this.keyedReturns, fnNode, [...fl.keys].map(index).filter((i) => i >= 0));
  }

  // recordArguments: a project function's parameter given a credential (or a credential's name
  // as a key) by some call; what a logging call inside it prints then carries one on that path.
  private recordArguments(call: TS.CallExpression): void {
    const f = this.projectFn(call);
    if (!f || !this.ts.isFunctionLike(f.node) || this.isLogCall(call)) return;
    const params = (f.node as TS.SignatureDeclaration).parameters;
    call.arguments.forEach((a, i) => {
      const decl = params[Math.min(i, params.length - 1)];
      if (!decl || (i >= params.length && !decl.dotDotDotToken)) return;
      const p = this.symbolOf(decl.name);
      if (!p) return;
      const fl = this.flow(a, true);
      const at = `${short(call)} at ${this.place(call)}`;
      if (fl.taint) this.setOnce(this.givenCredential, p, `${fl.taint.expr}${fl.taint.origin !== fl.taint.expr ? ` (it holds ${fl.taint.origin})` : ""} by ${at}`);
      for (const q of fl.from) this.setOnce(this.givenCredential, p, this.givenCredential.get(q));
      const cred = this.credentialKey(a, true);
      if (cred) this.setOnce(this.givenKey, p, at);
      for (const q of fl.from) this.setOnce(this.givenKey, p, this.givenKey.get(q));
    });
  }

  private propagate(sf: TS.SourceFile): void {
    const ts = this.ts;
    const visit = (n: TS.Node): void => {
      if (ts.isVariableDeclaration(n) && n.initializer) {
        if (ts.isIdentifier(n.name)) this.assignVariable(this.symbolOf(n.name), this.flow(n.initializer, true));
        else this.destructure(n.name, n.initializer);
      } else if (ts.isBinaryExpression(n) && this.isAssignment(n.operatorToken.kind)) {
        const fl = this.flow(n.right, true);
        if (ts.isIdentifier(n.left)) this.assignVariable(this.symbolOf(n.left), fl);
        else if (fl.taint && (ts.isPropertyAccessExpression(n.left) || ts.isElementAccessExpression(n.left))) {
          // The object now carries a credential (logged whole, it prints it); the property holds it.
          const root = this.rootIdentifier(n.left);
          if (root) this.assignVariable(this.symbolOf(root), tainted(fl.taint));
          this.taintProperty(ts.isPropertyAccessExpression(n.left) ? n.left.name : n.left.argumentExpression, fl.taint);
        }
      } else if ((ts.isPropertyAssignment(n) || ts.isShorthandPropertyAssignment(n)) && ts.isObjectLiteralExpression(n.parent)) {
        const t = this.flow(ts.isPropertyAssignment(n) ? n.initializer : n, true).taint;
        if (t) this.taintProperty(n.name, t, n.parent);
      } else if (ts.isPropertyDeclaration(n) && n.initializer) {
        const t = this.flow(n.initializer, true).taint;
        if (t) this.setOnce(this.taintedProps, n, t);
      } else if (ts.isForOfStatement(n) && ts.isVariableDeclarationList(n.initializer)) {
        for (const d of n.initializer.declarations) this.bindElements(d.name, n.expression);
      } else if (ts.isReturnStatement(n) && n.expression) {
        let fnNode: TS.Node | undefined = n.parent;
        while (fnNode && !ts.isFunctionLike(fnNode)) fnNode = fnNode.parent;
        this.recordReturn(fnNode, n.expression);
      } else if (ts.isArrowFunction(n) && !ts.isBlock(n.body)) {
        this.recordReturn(n, n.body);
      }
      if (ts.isCallExpression(n)) this.recordArguments(n);
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }

  // loggedCredential says why a logging call's argument prints a credential, or "".
  private loggedCredential(arg: TS.Expression, typed: boolean): string {
    const fl = this.flow(arg, typed);
    if (fl.taint) return render(fl.taint);
    for (const p of fl.from) {
      const g = this.givenCredential.get(p);
      if (g) return `${short(arg)} (its ${p.name} is given ${g})`;
    }
    for (const p of fl.keys) {
      const g = this.givenKey.get(p);
      if (g) return `${short(arg)} (a credential when called as ${g})`;
    }
    return "";
  }

  private isLogCall(call: TS.CallExpression): string {
    const ts = this.ts;
    const c = call.expression;
    if (ts.isPropertyAccessExpression(c)) {
      const obj = c.expression.getText();
      const m = c.name.text;
      if (obj === "console" && LOG_METHODS.has(m)) return `console.${m}`;
      if ((obj === "process.stdout" || obj === "process.stderr") && m === "write") return `${obj}.write`;
      const last = ts.isPropertyAccessExpression(c.expression) ? c.expression.name.text : ts.isIdentifier(c.expression) ? c.expression.text : "";
      const w = words(last);
      if (LOG_METHODS.has(m) && w.length > 0 && /^(log|logger|logging|console)$/.test(w[w.length - 1]!)) return `${obj}.${m}`;
      return "";
    }
    if (ts.isIdentifier(c)) {
      const w = words(c.text);
      if (w[0] === "log" || w[0] === "debug" || c.text === "trace") return c.text;
    }
    return "";
  }

  // --- one pass over a file: strings, TLS, logs, requests, timeouts, options, unsafe types ------

  private visitFile(sf: TS.SourceFile): void {
    const ts = this.ts;
    const test = this.isTest(sf.fileName);
    const typed = !!this.program.getSourceFile(sf.fileName);
    const external = new Set<TS.Symbol>();
    const visit = (n: TS.Node): void => {
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) this.stringFact(n, test, typed);
      if (!test) {
        this.tlsFact(n);
        if (ts.isCallExpression(n)) this.callFacts(n, typed);
        if (ts.isNewExpression(n) && n.expression.getText() === "AbortController") this.push(this.facts.timeouts, this.hit(n, "AbortController"), "timeouts");
        if (ts.isPropertyAssignment(n) || ts.isShorthandPropertyAssignment(n)) {
          const name = n.name.getText();
          if (name === "signal" || name === "timeout") this.push(this.facts.timeouts, this.hit(n, `${name} option`), "timeouts");
          if (ts.isPropertyAssignment(n)) this.retryOptionFact(n);
        }
        this.unsafeFact(n, typed, external);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }

  private stringFact(n: TS.StringLiteral | TS.NoSubstitutionTemplateLiteral, test: boolean, typed: boolean): void {
    const v = n.text;
    if (v.length < 12 || v.length > 4096) return;
    if (/\s/.test(v) && !/^(Bearer|Basic|Token|token)\s+\S+$/.test(v)) return;
    if (this.ts.isImportDeclaration(n.parent) || this.ts.isExportDeclaration(n.parent) || this.ts.isExternalModuleReference(n.parent)) return;
    const h = this.hit(n, "string");
    this.push(this.facts.strings, { file: h.file, line: h.line, col: h.col, value: cap(v, 512), name: this.bindingName(n, typed), test, text: h.text }, "strings");
  }

  // bindingName is the name a literal is given to, through defaults and wrappers:
  // sourceToken: token(env.X ?? "literal") names it sourceToken. A literal that is the default
  // of a credential's read (process.env.ITSM_TARGET_TOKEN ?? "literal",
  // env("ITSM_TARGET_TOKEN", "literal")) is given that credential's name, whatever the variable
  // holding the result is called.
  private bindingName(n: TS.Node, typed: boolean): string {
    const ts = this.ts;
    let c: TS.Node = n;
    for (let p = n.parent; p; c = p, p = p.parent) {
      if (ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isPropertyDeclaration(p) || ts.isBindingElement(p)) return p.name.getText();
      if (ts.isPropertyAssignment(p)) return p.name.getText().replace(/^["']|["']$/g, "");
      if (ts.isBinaryExpression(p)) {
        if (p.operatorToken.kind === ts.SyntaxKind.EqualsToken) return p.left.getText().split(/[.[\]"']/).filter((x) => x).pop() ?? "";
        const fallback = p.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || p.operatorToken.kind === ts.SyntaxKind.BarBarToken;
        if (fallback && c === p.right && typed) {
          const t = this.flow(p.left, true).taint;
          if (t) return credentialName(t);
        }
        if (fallback || p.operatorToken.kind === ts.SyntaxKind.PlusToken) continue;
        return "";
      }
      if (ts.isCallExpression(p) && p.arguments.includes(c as TS.Expression)) {
        const callee = p.expression.getText();
        if (/^(set|header|append)$/i.test(callee.split(".").pop() ?? "") && p.arguments[0] && ts.isStringLiteralLike(p.arguments[0]) && p.arguments[0] !== c) return p.arguments[0].text;
        const t = typed ? this.flow(p, true).taint : undefined;
        if (t && t.name !== (c as TS.StringLiteralLike).text) return credentialName(t);
        continue;
      }
      if (ts.isParenthesizedExpression(p) || ts.isConditionalExpression(p) || ts.isAsExpression(p) || ts.isTemplateSpan(p) || ts.isTemplateExpression(p) || ts.isSatisfiesExpression(p)) continue;
      return "";
    }
    return "";
  }

  private falsy(e: TS.Expression): boolean {
    const ts = this.ts;
    if (e.kind === ts.SyntaxKind.FalseKeyword) return true;
    if (ts.isNumericLiteral(e) && e.text === "0") return true;
    if (ts.isStringLiteralLike(e) && (e.text === "0" || e.text === "false")) return true;
    if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.ExclamationToken && ts.isNumericLiteral(e.operand) && e.operand.text !== "0") return true;
    return false;
  }

  private tlsFact(n: TS.Node): void {
    const ts = this.ts;
    let name = "";
    let value: TS.Expression | undefined;
    if (ts.isPropertyAssignment(n)) {
      name = n.name.getText().replace(/^["']|["']$/g, "");
      value = n.initializer;
    } else if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const l = n.left;
      if (ts.isPropertyAccessExpression(l)) name = l.name.text;
      else if (ts.isElementAccessExpression(l) && ts.isStringLiteralLike(l.argumentExpression)) name = l.argumentExpression.text;
      value = n.right;
    } else if ((ts.isMethodDeclaration(n) || ts.isPropertyAssignment(n)) && (n as TS.MethodDeclaration).name?.getText() === "checkServerIdentity") {
      name = "checkServerIdentity";
    }
    if (!name || !value) {
      if (ts.isMethodDeclaration(n) && n.name.getText() === "checkServerIdentity" && n.body && !this.throws(n.body)) {
        this.push(this.facts.tls, this.hit(n, "checkServerIdentity accepts every certificate"), "tls");
      }
      return;
    }
    if ((name === "rejectUnauthorized" || name === "strictSSL") && this.falsy(value)) this.push(this.facts.tls, this.hit(n, `${name}: false`), "tls");
    else if (name === "insecure" && value.kind === ts.SyntaxKind.TrueKeyword) this.push(this.facts.tls, this.hit(n, "insecure: true"), "tls");
    else if (name === "NODE_TLS_REJECT_UNAUTHORIZED" && this.falsy(value)) this.push(this.facts.tls, this.hit(n, "NODE_TLS_REJECT_UNAUTHORIZED=0"), "tls");
    else if (name === "checkServerIdentity" && (ts.isArrowFunction(value) || ts.isFunctionExpression(value)) && !this.throws(value.body)) {
      this.push(this.facts.tls, this.hit(n, "checkServerIdentity accepts every certificate"), "tls");
    }
  }

  // throws: the body can reject a certificate (throws, or returns an Error or a value).
  private throws(body: TS.Node): boolean {
    const ts = this.ts;
    if (!ts.isBlock(body)) return !(body.kind === ts.SyntaxKind.UndefinedKeyword || (ts.isIdentifier(body) && body.text === "undefined") || ts.isVoidExpression(body));
    let found = false;
    const visit = (n: TS.Node): void => {
      if (ts.isThrowStatement(n) || (ts.isReturnStatement(n) && n.expression && !(ts.isIdentifier(n.expression) && n.expression.text === "undefined"))) found = true;
      if (!found && !ts.isFunctionLike(n)) ts.forEachChild(n, visit);
    };
    ts.forEachChild(body, visit);
    return found;
  }

  private requestApi(call: TS.CallExpression, typed: boolean): string {
    const ts = this.ts;
    const c = call.expression;
    const text = c.getText();
    if (typed) {
      const d = this.calleeDecl(call);
      const file = d?.getSourceFile().fileName ?? "";
      if (d && this.inProject(file)) return "";
      const name = ts.isIdentifier(c) ? c.text : ts.isPropertyAccessExpression(c) ? c.name.text : "";
      if (name === "fetch" && (file.includes("/typescript/lib/lib.dom") || file.includes("/undici-types/") || file.includes("/@types/node/"))) return "fetch";
      if (file.includes("/typescript/lib/") || file.includes("/undici-types/")) return "";
      if (/\/@types\/node\/(http|https|http2)\.d\.ts$/.test(file) && /^(request|get|connect)$/.test(name)) return "node:" + file.replace(/.*\/(http2?|https)\.d\.ts$/, "$1");
      for (const pkg of HTTP_PACKAGES) {
        if (file.includes(`/node_modules/${pkg}/`) || file.includes(`/node_modules/@types/${pkg}/`)) {
          if (pkg === "axios" && !/^(axios|request|get|post|put|patch|delete|head|options|postForm|putForm|patchForm)$/.test(name) && !/^axios\b/.test(text)) return "";
          return pkg;
        }
      }
      if (d) return "";
    }
    if (text === "fetch" || text === "globalThis.fetch") return "fetch";
    if (/^(axios)(\.(get|post|put|patch|delete|request|head))?$/.test(text)) return "axios";
    if (/^https?\.(request|get)$/.test(text)) return "node:" + text.split(".")[0];
    return "";
  }

  private callFacts(call: TS.CallExpression, typed: boolean): void {
    const ts = this.ts;
    const text = call.expression.getText();
    if (text === "AbortSignal.timeout" || text === "AbortSignal.any") this.push(this.facts.timeouts, this.hit(call, text), "timeouts");
    if (ts.isPropertyAccessExpression(call.expression) && call.expression.name.text === "setTimeout" && text !== "globalThis.setTimeout" && !/^(timers|timersPromises|window)\./.test(text)) {
      this.push(this.facts.timeouts, this.hit(call, ".setTimeout on a request or socket"), "timeouts");
    }
    const api = this.requestApi(call, typed);
    const owner = this.owner(call);
    if (api) {
      const bounded = call.arguments.some((a) => this.carriesSignal(a, typed)) || (owner !== undefined && this.createsSignal(owner.node));
      const passed = typed && call.arguments.some((a) => this.optionsParameter(a));
      this.push(this.facts.requests, { ...this.hit(call, "request"), api, bounded, passed }, "requests");
      if (owner) {
        owner.roles.add("transport");
        owner.request = true;
      }
    }
    if (owner && typed) {
      const f = this.projectFn(call);
      if (f) owner.calls.add(f.node);
      const raw = this.checker.getSymbolAtLocation(call.expression);
      const s = this.symbolOf(call.expression);
      if ((raw && this.retryImports.has(raw)) || (s && this.retryImports.has(s))) owner.roles.add("retry");
    }
    const log = this.isLogCall(call);
    if (log) {
      this.facts.logCalls++;
      for (const arg of call.arguments) {
        const why = this.loggedCredential(arg, typed);
        if (why) {
          this.push(this.facts.secretLogs, this.hit(call, log, why), "secretLogs");
          break;
        }
      }
    }
  }

  // carriesSignal: an options argument with a signal or timeout, written in place or built in a
  // variable the call passes.
  private carriesSignal(a: TS.Expression, typed: boolean): boolean {
    const ts = this.ts;
    const literal = (e: TS.Node | undefined): boolean =>
      !!e && ts.isObjectLiteralExpression(e) && e.properties.some((p) => p.name !== undefined && /^(signal|timeout)$/.test(p.name.getText()));
    if (literal(a)) return true;
    if (typed && ts.isIdentifier(a)) {
      const d = this.symbolOf(a)?.valueDeclaration;
      if (d && ts.isVariableDeclaration(d) && literal(d.initializer)) return true;
    }
    return false;
  }

  // optionsParameter: an argument that is the calling function's own parameter and an object
  // (request options the caller built, perhaps with a signal), not a URL string.
  private optionsParameter(a: TS.Expression): boolean {
    const ts = this.ts;
    if (!ts.isIdentifier(a)) return false;
    const d = this.symbolOf(a)?.valueDeclaration;
    if (!d || !ts.isParameter(d)) return false;
    const t = this.checker.getTypeAtLocation(a);
    return !(t.flags & (ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike)) && t.symbol?.name !== "URL";
  }

  // createsSignal: the function making the request also makes an abort signal or sets a socket
  // timeout, so the request is bounded by it.
  private createsSignal(fn: TS.Node): boolean {
    const ts = this.ts;
    let found = false;
    const visit = (x: TS.Node): void => {
      if (found) return;
      if (ts.isCallExpression(x)) {
        const t = x.expression.getText();
        if (t === "AbortSignal.timeout" || t === "AbortSignal.any" || (ts.isPropertyAccessExpression(x.expression) && x.expression.name.text === "setTimeout" && t !== "globalThis.setTimeout")) found = true;
      }
      if (ts.isNewExpression(x) && x.expression.getText() === "AbortController") found = true;
      const callback = (ts.isArrowFunction(x) || ts.isFunctionExpression(x)) && ts.isCallExpression(x.parent);
      if (!ts.isFunctionLike(x) || callback) ts.forEachChild(x, visit);
    };
    ts.forEachChild(fn, visit);
    return found;
  }

  private retryOptionFact(p: TS.PropertyAssignment): void {
    const ts = this.ts;
    const name = p.name.getText();
    const v = p.initializer.getText();
    if (/^(retries|maxRetries|retry|attempts|maxAttempts|retryLimit|numOfAttempts|limit)$/.test(name) && /^(Infinity|Number\.POSITIVE_INFINITY|Number\.MAX_SAFE_INTEGER|Number\.MAX_VALUE)$/.test(v)) {
      this.push(this.facts.retryOptions, this.hit(p, `${name}: ${v}`), "retryOptions");
    }
    if (name === "forever" && p.initializer.kind === ts.SyntaxKind.TrueKeyword) this.push(this.facts.retryOptions, this.hit(p, "forever: true"), "retryOptions");
  }

  // External data: .json(), JSON.parse, an axios response's data, headers.get().
  private isExternalSource(e: TS.Expression, typed: boolean): boolean {
    const ts = this.ts;
    let x: TS.Expression = e;
    while (ts.isAwaitExpression(x) || ts.isParenthesizedExpression(x)) x = x.expression;
    if (ts.isCallExpression(x)) {
      const c = x.expression;
      if (ts.isPropertyAccessExpression(c) && c.name.text === "json" && x.arguments.length === 0) return true;
      if (c.getText() === "JSON.parse") return true;
      if (ts.isPropertyAccessExpression(c) && c.name.text === "get" && ts.isPropertyAccessExpression(c.expression) && c.expression.name.text === "headers") return true;
    }
    if (typed && ts.isPropertyAccessExpression(x) && x.name.text === "data") {
      const t = this.checker.getTypeAtLocation(x.expression);
      const names = this.checker.getPropertiesOfType(t).map((p) => p.name);
      if (names.includes("status") && names.includes("headers") && names.includes("config")) return true;
    }
    return false;
  }

  private fromExternal(e: TS.Expression, typed: boolean, external: Set<TS.Symbol>): boolean {
    if (this.isExternalSource(e, typed)) return true;
    let x: TS.Expression = e;
    while (this.ts.isAwaitExpression(x) || this.ts.isParenthesizedExpression(x)) x = x.expression;
    if (this.ts.isCallExpression(x) || this.ts.isNewExpression(x)) return false;
    const root = this.rootIdentifier(x);
    const s = root && typed ? this.symbolOf(root) : undefined;
    return !!s && external.has(s);
  }

  private unsafeFact(n: TS.Node, typed: boolean, external: Set<TS.Symbol>): void {
    const ts = this.ts;
    if (ts.isVariableDeclaration(n) && n.initializer && ts.isIdentifier(n.name) && this.fromExternal(n.initializer, typed, external)) {
      const s = this.symbolOf(n.name);
      if (s) external.add(s);
      const declared = n.type?.kind === ts.SyntaxKind.AnyKeyword;
      let implicit = false;
      if (!n.type && typed) implicit = !!(this.checker.getTypeAtLocation(n.name).flags & ts.TypeFlags.Any);
      if (declared || implicit) this.push(this.facts.unsafe, this.hit(n, "any-external", `${n.name.text} holds external data typed any`), "unsafe");
      return;
    }
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isIdentifier(n.left) && this.fromExternal(n.right, typed, external)) {
      const s = this.symbolOf(n.left);
      if (s) external.add(s);
      const d = s?.valueDeclaration;
      if (d && ts.isVariableDeclaration(d) && d.type?.kind === ts.SyntaxKind.AnyKeyword) {
        this.push(this.facts.unsafe, this.hit(n, "any-external", `${n.left.text} holds external data typed any`), "unsafe");
      }
      return;
    }
    if (ts.isAsExpression(n) && n.type.kind === ts.SyntaxKind.AnyKeyword) {
      const ext = this.fromExternal(n.expression, typed, external);
      this.push(this.facts.unsafe, this.hit(n, ext ? "as-any-external" : "as-any"), "unsafe");
      return;
    }
    if (ts.isNonNullExpression(n) && this.fromExternal(n.expression, typed, external)) {
      this.push(this.facts.unsafe, this.hit(n, "non-null-external", `${cap(n.expression.getText(), 80)}!`), "unsafe");
      return;
    }
    if (n.kind === ts.SyntaxKind.AnyKeyword && !ts.isAsExpression(n.parent)) this.push(this.facts.unsafe, this.hit(n, "any-annotation"), "unsafe");
  }

  // --- loops, retries, busy waits, recursion ----------------------------------------------------

  private transitiveRequests(): void {
    for (let changed = true; changed; ) {
      changed = false;
      for (const f of this.fns) {
        if (f.request) continue;
        for (const c of f.calls) {
          if (this.fnByNode.get(c)?.request) {
            f.request = true;
            changed = true;
            break;
          }
        }
      }
    }
  }

  // Walks a loop's body without entering nested functions.
  private inBody(n: TS.Node, f: (x: TS.Node) => void): void {
    const visit = (x: TS.Node): void => {
      f(x);
      if (!this.ts.isFunctionLike(x)) this.ts.forEachChild(x, visit);
    };
    this.ts.forEachChild(n, visit);
  }

  private isClock(x: TS.Node): boolean {
    const ts = this.ts;
    if (ts.isCallExpression(x)) {
      const t = x.expression.getText();
      if (t === "Date.now" || t === "performance.now" || t === "process.hrtime" || t === "process.hrtime.bigint") return true;
      if (ts.isIdentifier(x.expression) && this.fns.some((f) => f.name === x.expression.getText() && f.node !== f.sf && this.clockOnly(f.node))) return true;
    }
    if (ts.isNewExpression(x) && x.expression.getText() === "Date" && (!x.arguments || x.arguments.length === 0)) return true;
    return false;
  }

  // clockOnly: a tiny function that just reads the clock (const now = () => Date.now()).
  private clockOnly(fn: TS.Node): boolean {
    const ts = this.ts;
    if (!(ts.isArrowFunction(fn) || ts.isFunctionExpression(fn) || ts.isFunctionDeclaration(fn)) || !fn.body) return false;
    const t = fn.body.getText();
    return t.length < 80 && /(Date\.now|performance\.now|process\.hrtime)\(/.test(t);
  }

  private isSleep(x: TS.Node): boolean {
    const ts = this.ts;
    if (!ts.isAwaitExpression(x)) return false;
    let e: TS.Expression = x.expression;
    while (ts.isParenthesizedExpression(e)) e = e.expression;
    if (ts.isCallExpression(e)) {
      const c = e.expression;
      const name = ts.isIdentifier(c) ? c.text : ts.isPropertyAccessExpression(c) ? c.name.text : "";
      return SLEEP_NAMES.test(name);
    }
    if (ts.isNewExpression(e) && e.expression.getText() === "Promise") return /setTimeout/.test(e.getText());
    return false;
  }

  private boundRef(e: TS.Node, counters: Set<string>): string {
    const ts = this.ts;
    let why = "";
    const visit = (x: TS.Node): void => {
      if (why) return;
      if (this.isClock(x)) why = "the clock";
      else if (ts.isIdentifier(x) || ts.isPrivateIdentifier(x)) {
        const name = x.text;
        if (counters.has(name)) why = `the counter ${name}`;
        else if (name === "aborted" || name === "throwIfAborted") why = "an abort signal";
        else if (words(name).some((w) => BOUND_WORDS.has(w))) why = name;
      }
      if (!ts.isFunctionLike(x)) ts.forEachChild(x, visit);
    };
    visit(e);
    return why;
  }

  private loopsAndRecursion(sf: TS.SourceFile): void {
    const ts = this.ts;
    const visit = (n: TS.Node): void => {
      if (ts.isIterationStatement(n, false)) this.loopFact(n);
      if (ts.isCallExpression(n)) this.recursionFact(n);
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }

  private loopFact(loop: TS.IterationStatement): void {
    const ts = this.ts;
    const owner = this.owner(loop);
    const cond = ts.isWhileStatement(loop) || ts.isDoStatement(loop) ? loop.expression : ts.isForStatement(loop) ? loop.condition : undefined;
    let clock = false;
    let awaits = ts.isForOfStatement(loop) && !!loop.awaitModifier;
    let op = false;
    let checks = false;
    let sleeps = false;
    let continueInCatch = false;
    const counters = new Set<string>();
    if (ts.isForStatement(loop) && loop.incrementor) this.counterNames(loop.incrementor, counters);
    const scan = (x: TS.Node): void => {
      if (this.isClock(x)) clock = true;
      if (ts.isAwaitExpression(x) || ts.isYieldExpression(x)) awaits = true;
      if (this.isSleep(x)) sleeps = true;
      if (ts.isTryStatement(x) && x.catchClause) checks = true;
      if (ts.isPropertyAccessExpression(x) && /^(ok|status|statusCode|transient|retryable)$/.test(x.name.text)) checks = true;
      if (ts.isContinueStatement(x) && this.insideCatch(x, loop)) continueInCatch = true;
      if (ts.isPostfixUnaryExpression(x) || ts.isPrefixUnaryExpression(x) || ts.isBinaryExpression(x)) this.counterNames(x, counters);
    };
    if (cond) {
      scan(cond);
      this.inBody(cond, scan);
    }
    this.inBody(loop.statement, scan);
    op = this.operates(loop);
    const retry = op && checks && (sleeps || continueInCatch);
    let boundedBy = "";
    if (retry) boundedBy = this.loopBound(loop, cond, counters);
    if (!(clock && !awaits) && !retry) return;
    const kind = ts.SyntaxKind[loop.kind];
    this.push(this.facts.loops, { ...this.hit(loop, kind), clock, awaits, retry, boundedBy, function: owner?.name ?? "" }, "loops");
    if (retry && owner) owner.roles.add("retry");
  }

  // operates: the node makes a request, calls a project function that (transitively) does, or
  // calls an operation it was given (a parameter), directly or in a callback it passes on
  // (limiter.run(() => attempt())).
  private operates(node: TS.Node): boolean {
    const ts = this.ts;
    let op = false;
    const visit = (x: TS.Node): void => {
      if (op) return;
      if (ts.isCallExpression(x)) {
        if (this.requestApi(x, true)) op = true;
        const f = this.projectFn(x);
        if (f && f.request) op = true;
        const d = this.symbolOf(x.expression)?.valueDeclaration;
        if (d && ts.isParameter(d)) op = true;
      }
      const callback = (ts.isArrowFunction(x) || ts.isFunctionExpression(x)) && ts.isCallExpression(x.parent) && x.parent.arguments.includes(x);
      if (!ts.isFunctionLike(x) || callback) ts.forEachChild(x, visit);
    };
    ts.forEachChild(node, visit);
    return op;
  }

  private counterNames(x: TS.Node, out: Set<string>): void {
    const ts = this.ts;
    const add = (e: TS.Expression): void => {
      const r = this.rootIdentifier(e);
      if (r) out.add(ts.isPropertyAccessExpression(e) ? e.name.text : r.text);
    };
    if ((ts.isPostfixUnaryExpression(x) || ts.isPrefixUnaryExpression(x)) && (x.operator === ts.SyntaxKind.PlusPlusToken || x.operator === ts.SyntaxKind.MinusMinusToken)) add(x.operand);
    if (ts.isBinaryExpression(x) && (x.operatorToken.kind === ts.SyntaxKind.PlusEqualsToken || x.operatorToken.kind === ts.SyntaxKind.MinusEqualsToken)) add(x.left);
    if (ts.isBinaryExpression(x) && x.operatorToken.kind === ts.SyntaxKind.CommaToken) {
      this.counterNames(x.left, out);
      this.counterNames(x.right, out);
    }
  }

  private insideCatch(x: TS.Node, stop: TS.Node): boolean {
    for (let p = x.parent; p && p !== stop; p = p.parent) if (this.ts.isCatchClause(p)) return true;
    return false;
  }

  private insideTryBlock(x: TS.Node, stop: TS.Node): boolean {
    const ts = this.ts;
    for (let c: TS.Node = x, p = x.parent; p && p !== stop; c = p, p = p.parent) {
      if (ts.isTryStatement(p) && p.catchClause && p.tryBlock === c) return true;
    }
    return false;
  }

  // guards are the conditions an exit sits under, up to the loop.
  private guards(x: TS.Node, stop: TS.Node): TS.Expression[] {
    const ts = this.ts;
    const out: TS.Expression[] = [];
    for (let c: TS.Node = x, p = x.parent; p && p !== stop; c = p, p = p.parent) {
      if (ts.isIfStatement(p) && c !== p.expression) out.push(p.expression);
      if (ts.isConditionalExpression(p) && c !== p.condition) out.push(p.condition);
      if (ts.isBinaryExpression(p) && c === p.right && [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken].includes(p.operatorToken.kind)) out.push(p.left);
      if (ts.isCaseClause(p)) out.push(p.expression);
    }
    return out;
  }

  private loopBound(loop: TS.IterationStatement, cond: TS.Expression | undefined, counters: Set<string>): string {
    const ts = this.ts;
    const constant = !cond || cond.kind === ts.SyntaxKind.TrueKeyword || (ts.isNumericLiteral(cond) && cond.text !== "0") ||
      (ts.isPrefixUnaryExpression(cond) && cond.operator === ts.SyntaxKind.ExclamationToken && ts.isNumericLiteral(cond.operand) && cond.operand.text === "0");
    const condVars = new Set<string>();
    if (cond && !constant) {
      const why = this.boundRef(cond, counters);
      if (why) return `its condition tests ${why}`;
      const collect = (x: TS.Node): void => {
        if (ts.isIdentifier(x)) condVars.add(x.text);
        ts.forEachChild(x, collect);
      };
      collect(cond);
    }
    if (ts.isForOfStatement(loop) || ts.isForInStatement(loop)) return "it iterates a finite collection";
    let bound = "";
    const check = (x: TS.Node): void => {
      if (bound) return;
      let exit = false;
      if (ts.isReturnStatement(x) || ts.isThrowStatement(x)) exit = true;
      if (ts.isBreakStatement(x) && (x.label !== undefined || this.breaksLoop(x, loop))) exit = true;
      if (ts.isBinaryExpression(x) && x.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isIdentifier(x.left) && condVars.has(x.left.text)) exit = true;
      if (!exit) return;
      const gs = this.guards(x, loop);
      for (const g of gs) {
        const why = this.boundRef(g, counters);
        if (why) {
          bound = `an exit at line ${x.getSourceFile().getLineAndCharacterOfPosition(x.getStart()).line + 1} tests ${why}`;
          return;
        }
      }
      if (gs.length === 0 && !this.insideTryBlock(x, loop) && (ts.isThrowStatement(x) || ts.isReturnStatement(x) || ts.isBreakStatement(x)) && !this.succeeds(x)) {
        bound = `line ${x.getSourceFile().getLineAndCharacterOfPosition(x.getStart()).line + 1} leaves on any failure`;
      }
    };
    this.inBody(loop.statement, check);
    return bound;
  }

  // succeeds: an exit placed after the operation on the success path only (the loop's last
  // statement returning the result) does not bound the failures. An exit in a catch clause does.
  private succeeds(x: TS.Node): boolean {
    for (let p = x.parent; p; p = p.parent) {
      if (this.ts.isCatchClause(p)) return false;
      if (this.ts.isIterationStatement(p, false)) return true;
    }
    return true;
  }

  private breaksLoop(b: TS.BreakStatement, loop: TS.Node): boolean {
    const ts = this.ts;
    for (let p = b.parent; p; p = p.parent) {
      if (p === loop) return true;
      if (ts.isIterationStatement(p, false) || ts.isSwitchStatement(p) || ts.isFunctionLike(p)) return false;
    }
    return false;
  }

  private recursionFact(call: TS.CallExpression): void {
    const ts = this.ts;
    const owner = this.owner(call);
    if (!owner || owner.node === owner.sf) return;
    const f = this.projectFn(call);
    if (!f || f.node !== owner.node) return;
    // A retry by recursion: the function makes requests (or awaits what it was given) and calls
    // itself from a catch or after a status check, after a wait.
    const fnNode = owner.node;
    let sleeps = false;
    let op = owner.request;
    let checks = false;
    const counters = new Set<string>();
    this.inBody(fnNode, (x) => {
      if (this.isSleep(x)) sleeps = true;
      if (ts.isTryStatement(x) && x.catchClause) checks = true;
      if (ts.isPropertyAccessExpression(x) && /^(ok|status|statusCode|transient|retryable)$/.test(x.name.text)) checks = true;
      if (ts.isCallExpression(x)) {
        const d = this.symbolOf(x.expression)?.valueDeclaration;
        if (d && ts.isParameter(d) && ts.isAwaitExpression(x.parent)) op = true;
      }
    });
    if (!(op && checks && sleeps)) return;
    for (const a of call.arguments) {
      if (ts.isBinaryExpression(a) && [ts.SyntaxKind.PlusToken, ts.SyntaxKind.MinusToken].includes(a.operatorToken.kind)) {
        const r = this.rootIdentifier(a.left);
        if (r) counters.add(r.text);
      }
    }
    let boundedBy = "";
    for (const g of this.guards(call, fnNode)) {
      const why = this.boundRef(g, counters);
      if (why) boundedBy = `the recursive call is guarded by a test of ${why}`;
    }
    if (!boundedBy) {
      // An early exit that tests the counter anywhere in the function also bounds it.
      this.inBody(fnNode, (x) => {
        if (!boundedBy && (ts.isReturnStatement(x) || ts.isThrowStatement(x))) {
          for (const g of this.guards(x, fnNode)) {
            const why = this.boundRef(g, counters);
            if (why && why !== "the clock") boundedBy = `an exit tests ${why}`;
          }
        }
      });
    }
    owner.roles.add("retry");
    this.push(this.facts.loops, { ...this.hit(call, "Recursion"), clock: false, awaits: true, retry: true, boundedBy, function: owner.name }, "loops");
  }
}

main();
