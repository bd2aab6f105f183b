// The similarity tokenizer: reads a submission's TypeScript with the compiler's scanner and
// prints its token stream with names and values normalised away, for grader/similarity's
// winnowing. It executes nothing of the submission. It runs on Node 24 inside the sandbox:
//
//   node tokens.mjs --typescript DIR --max-tokens N PROJECT...
//
// DIR is the node_modules folder holding typescript (the pinned toolchain); N caps the tokens
// of one project; each PROJECT is a submission's root. Every .ts, .tsx, .mts and .cts file
// (declaration files and node_modules left out) is scanned, comments and whitespace skipped.
// The output is {"tokenizer":1,"typescript":VERSION,"documents":[{"files":[...],"notes":[...]}]},
// a file being {"path":"src/a.ts","tokens":[{"k":KIND,"l":LINE,"c":COLUMN},...]} where KIND is
// ID for an identifier, LIT for a string, number, template or regular-expression literal, and a
// keyword's or punctuation's own text otherwise. Notes say what was skipped or cut, and why.

import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type * as TS from "typescript";

type Token = { k: string; l: number; c: number };
type FileTokens = { path: string; tokens: Token[] };
type Doc = { files: FileTokens[]; notes: string[] };

const MAX_FILES = 2000;
const MAX_FILE_BYTES = 2 << 20;
const MAX_NOTES = 50;
const MAX_DEPTH = 40;
const SOURCE_EXT = /\.(ts|tsx|mts|cts)$/;
const DECLARATION = /\.d\.[cm]?ts$|\.d\.[^/]*\.ts$/;
const SKIP_DIRS = new Set(["node_modules", ".git"]);

function parseArgs(argv: string[]): { typescript: string; maxTokens: number; projects: string[] } {
  const out = { typescript: "", maxTokens: 0, projects: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--typescript") out.typescript = argv[++i] ?? "";
    else if (a === "--max-tokens") out.maxTokens = Number(argv[++i] ?? "");
    else out.projects.push(a);
  }
  if (out.typescript === "" || !(out.maxTokens > 0) || out.projects.length === 0) {
    throw new Error("usage: tokens.mjs --typescript NODE_MODULES --max-tokens N PROJECT...");
  }
  return out;
}

function note(doc: Doc, text: string): void {
  if (doc.notes.length < MAX_NOTES) doc.notes.push(text);
  else if (doc.notes.length === MAX_NOTES) doc.notes.push("more notes left out");
}

// listFiles walks root in name order, following no symbolic link.
function listFiles(root: string, doc: Doc): string[] {
  const out: string[] = [];
  let full = false;
  const walk = (dir: string, depth: number): void => {
    if (full) return;
    if (depth > MAX_DEPTH) {
      note(doc, "folders nested over " + MAX_DEPTH + " deep left out: " + rel(root, dir));
      return;
    }
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      note(doc, "unreadable folder " + rel(root, dir) + ": " + String(e));
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p, depth + 1);
      } else if (e.isFile() && SOURCE_EXT.test(e.name) && !DECLARATION.test(e.name)) {
        if (out.length >= MAX_FILES) {
          note(doc, "over " + MAX_FILES + " source files: the rest left out");
          full = true;
          return;
        }
        out.push(p);
      }
    }
  };
  walk(root, 0);
  return out;
}

function rel(root: string, f: string): string {
  return path.relative(root, f).split(path.sep).join("/");
}

// readSource returns a file's text, or undefined with a note when it is too large, binary or
// unreadable.
function readSource(root: string, f: string, doc: Doc): string | undefined {
  let buf: Buffer;
  try {
    if (fs.statSync(f).size > MAX_FILE_BYTES) {
      note(doc, "file over " + MAX_FILE_BYTES + " bytes left out: " + rel(root, f));
      return undefined;
    }
    buf = fs.readFileSync(f);
  } catch (e) {
    note(doc, "unreadable file " + rel(root, f) + ": " + String(e));
    return undefined;
  }
  if (buf.includes(0)) {
    note(doc, "binary file (a NUL byte) left out: " + rel(root, f));
    return undefined;
  }
  return buf.toString("utf8");
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const require = createRequire(import.meta.url);
  const ts = require(path.join(args.typescript, "typescript")) as typeof TS;
  const documents = args.projects.map((p) => tokenizeProject(ts, path.resolve(p), args.maxTokens));
  process.stdout.write(JSON.stringify({ tokenizer: 1, typescript: ts.version, documents }) + "\n");
}

function tokenizeProject(ts: typeof TS, root: string, maxTokens: number): Doc {
  const doc: Doc = { files: [], notes: [] };
  let budget = maxTokens;
  for (const f of listFiles(root, doc)) {
    if (budget <= 0) {
      note(doc, "over " + maxTokens + " tokens: left out " + rel(root, f));
      continue;
    }
    const text = readSource(root, f, doc);
    if (text === undefined) continue;
    const variant = f.endsWith(".tsx") ? ts.LanguageVariant.JSX : ts.LanguageVariant.Standard;
    const tokens = scan(ts, text, variant, budget);
    if (tokens.cut) note(doc, "over " + maxTokens + " tokens: cut in " + rel(root, f));
    budget -= tokens.tokens.length;
    doc.files.push({ path: rel(root, f), tokens: tokens.tokens });
  }
  if (doc.files.length === 0) note(doc, "no TypeScript source");
  return doc;
}

// Kinds after which a slash divides (the previous token ends an expression); after anything
// else it starts a regular expression.
function endsExpression(ts: typeof TS, kind: TS.SyntaxKind): boolean {
  const K = ts.SyntaxKind;
  switch (kind) {
    case K.Identifier:
    case K.PrivateIdentifier:
    case K.NumericLiteral:
    case K.BigIntLiteral:
    case K.StringLiteral:
    case K.RegularExpressionLiteral:
    case K.NoSubstitutionTemplateLiteral:
    case K.TemplateTail:
    case K.CloseParenToken:
    case K.CloseBracketToken:
    case K.CloseBraceToken:
    case K.PlusPlusToken:
    case K.MinusMinusToken:
    case K.ThisKeyword:
    case K.SuperKeyword:
    case K.TrueKeyword:
    case K.FalseKeyword:
    case K.NullKeyword:
      return true;
    default:
      return false;
  }
}

function kindText(ts: typeof TS, kind: TS.SyntaxKind): string {
  const K = ts.SyntaxKind;
  switch (kind) {
    case K.Identifier:
    case K.PrivateIdentifier:
      return "ID";
    case K.StringLiteral:
    case K.NumericLiteral:
    case K.BigIntLiteral:
    case K.RegularExpressionLiteral:
    case K.NoSubstitutionTemplateLiteral:
    case K.TemplateHead:
    case K.TemplateMiddle:
    case K.TemplateTail:
    case K.JsxText:
    case K.JsxTextAllWhiteSpaces:
      return "LIT";
    default:
      return ts.tokenToString(kind) ?? "?";
  }
}

// lineStarts are the offsets where lines begin (after \n, \r\n, \r, U+2028, U+2029).
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 && text.charCodeAt(i + 1) === 10) continue;
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) starts.push(i + 1);
  }
  return starts;
}

// scan reads one file's tokens, at most max of them. The scanner alone cannot tell a template's
// closing brace from a block's, nor a regular expression from a division: braces are counted
// from each template substitution, and a slash after a token that ends an expression divides.
function scan(ts: typeof TS, text: string, variant: TS.LanguageVariant, max: number): { tokens: Token[]; cut: boolean } {
  const K = ts.SyntaxKind;
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, variant, text);
  const starts = lineStarts(text);
  const templates: number[] = []; // brace depth at each open substitution
  const tokens: Token[] = [];
  const jsx = variant === ts.LanguageVariant.JSX; // "</" closes a tag there
  let depth = 0;
  let line = 0;
  let prev = K.Unknown;
  for (let kind = scanner.scan(); kind !== K.EndOfFileToken; kind = scanner.scan()) {
    if (kind === K.OpenBraceToken) depth++;
    else if (kind === K.CloseBraceToken && templates.length > 0 && templates[templates.length - 1] === depth) {
      kind = scanner.reScanTemplateToken(false);
      if (kind !== K.TemplateMiddle) templates.pop();
    } else if (kind === K.CloseBraceToken) depth = Math.max(0, depth - 1);
    else if ((kind === K.SlashToken || kind === K.SlashEqualsToken) && !endsExpression(ts, prev) && !(jsx && prev === K.LessThanToken)) {
      kind = scanner.reScanSlashToken();
    }
    if (kind === K.TemplateHead) templates.push(depth);
    if (tokens.length >= max) return { tokens, cut: true };
    const pos = scanner.getTokenStart();
    while (line + 1 < starts.length && starts[line + 1]! <= pos) line++;
    tokens.push({ k: kindText(ts, kind), l: line + 1, c: pos - starts[line]! + 1 });
    prev = kind;
  }
  return { tokens, cut: false };
}

main();
