/**
 * YAML (and JSON, which is YAML 1.2) documents for config and data files, with every problem
 * located: a syntax error at file:line:col, a validation problem at file:line plus its data path
 * (`site.yaml:12: fleets[1].powerW: must be > 0`). Pure: callers read the file.
 */
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { badInput } from './errors.js';

export type DataPath = readonly PropertyKey[];

export interface DataProblem {
  path: DataPath;
  message: string;
  /** Node whose line is reported, when not `path` itself (e.g. an unknown key inside `path`). */
  at?: DataPath;
}

export interface ParsedYaml {
  doc: Document;
  lines: LineCounter;
  /** The document as plain JavaScript values, `unknown` until a schema parses it. */
  raw: unknown;
}

/** `['fleets', 1, 'powerW']` → `fleets[1].powerW`; `[]` → `(root)`. */
export function formatDataPath(dataPath: DataPath): string {
  let out = '';
  for (const p of dataPath) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Largest config or data file read as YAML, characters: a site with 200 fleets is ~20 KB; a
 * 600,000-fleet site file (35 MB) took minutes to parse and dispatch before it was rejected.
 */
export const MAX_YAML_CHARS = 4 * 1024 * 1024;

/** Parses YAML/JSON text; a syntax error is BAD_INPUT at `file:line:col`. Duplicate keys are errors. */
export function parseYaml(text: string, file: string): ParsedYaml {
  if (text.length > MAX_YAML_CHARS) {
    throw badInput(`is ${(text.length / 2 ** 20).toFixed(1)} MiB; a config file may be at most ${MAX_YAML_CHARS / 2 ** 20} MiB (a fleet is a group of identical machines: use count)`, file);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = lines.linePos(syntax.pos[0]);
    throw badInput(`not valid YAML/JSON: ${syntax.message.split('\n')[0] ?? syntax.code}`, `${file}:${pos.line}:${pos.col}`);
  }
  return { doc, lines, raw: doc.toJS() as unknown };
}

/** Line of the node at `dataPath`, or of its nearest existing ancestor (a missing key has no node). */
export function lineOf(parsed: ParsedYaml, dataPath: DataPath): number | undefined {
  const keys = dataPath.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
  for (let n = keys.length; n >= 0; n--) {
    const node: unknown = parsed.doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) return parsed.lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Throws one BAD_INPUT listing every problem with its file:line and data path. */
export function throwProblems(file: string, parsed: ParsedYaml, problems: readonly DataProblem[]): never {
  const rendered = problems.map((p) => {
    const line = lineOf(parsed, p.at ?? p.path);
    return { at: line === undefined ? file : `${file}:${line}`, text: `${formatDataPath(p.path)}: ${p.message}` };
  });
  const first = rendered[0];
  if (rendered.length === 1 && first) throw badInput(first.text, first.at);
  throw badInput(`${rendered.length} problems:\n  ${rendered.map((p) => `${p.at}: ${p.text}`).join('\n  ')}`, file);
}

/** zod issues as located problems (unknown keys named, missing values "is required"). */
export function zodProblems(issues: readonly { code: string; path: readonly PropertyKey[]; message: string; keys?: readonly string[] }[]): DataProblem[] {
  return issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys ?? [];
      return { path: [...path, keys[0] ?? ''], message: `unknown key${keys.length > 1 ? `s ${keys.join(', ')}` : ''} (check the spelling)` };
    }
    if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return { path, message: 'is required' };
    return { path, message: issue.message };
  });
}

/**
 * Parses a YAML/JSON config file's text with a zod schema; every problem is reported at once with
 * file:line and its data path (BAD_INPUT).
 */
export function parseConfig<T>(schema: { safeParse(x: unknown): { success: true; data: T } | { success: false; error: { issues: readonly { code: string; path: readonly PropertyKey[]; message: string; keys?: readonly string[] }[] } } }, text: string, file: string): T {
  const yaml = parseYaml(text, file);
  const parsed = schema.safeParse(yaml.raw ?? {});
  if (!parsed.success) throwProblems(file, yaml, zodProblems(parsed.error.issues));
  return parsed.data;
}
