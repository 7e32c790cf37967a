/**
 * Reads a user's YAML or JSON data file and validates it with a zod schema. Every problem is
 * reported with its file, line and data path (`extra.yaml:12: deals[2].itMW: must be > 0`), so the
 * user can go straight to it. JSON is parsed by the YAML parser too (JSON is YAML 1.2), which gives
 * line numbers for both. NaN/Infinity (`.nan`, `.inf`) fail the schemas' finite-number checks.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { MulletError, badInput } from '../core/errors.js';

/** `['deals', 2, 'itMW']` → `deals[2].itMW`; `[0, 'model']` → `[0].model`. */
export function formatDataPath(dataPath: readonly PropertyKey[]): string {
  let out = '';
  for (const p of dataPath) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

function lineOf(doc: Document, lines: LineCounter, dataPath: readonly PropertyKey[]): number | undefined {
  const keys = dataPath.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
  // A missing key has no node: fall back to the nearest ancestor that exists.
  for (let n = keys.length; n >= 0; n--) {
    const node: unknown = doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

type SchemaOrPicker<S extends z.ZodType> = S | ((raw: unknown) => S);

/** Parses `text` (YAML or JSON) named `file` and validates it; throws BAD_INPUT with file:line and path. */
export function parseDataText<S extends z.ZodType>(text: string, file: string, schema: SchemaOrPicker<S>): z.output<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0].line;
    throw badInput(`not valid YAML/JSON: ${syntax.message.split('\n')[0] ?? syntax.code}`, line === undefined ? file : `${file}:${line}`);
  }
  const raw: unknown = doc.toJS();
  const s = typeof schema === 'function' ? schema(raw) : schema;
  const result = s.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const dataPath: PropertyKey[] = [...issue.path];
    if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) dataPath.push(issue.keys[0]);
    const line = lineOf(doc, lines, dataPath);
    return { at: line === undefined ? file : `${file}:${line}`, text: `${formatDataPath(issue.path)}: ${issue.message}` };
  });
  const first = problems[0];
  if (problems.length === 1 && first) throw badInput(first.text, first.at);
  throw badInput(`${problems.length} problems:\n  ${problems.map((p) => `${p.at}: ${p.text}`).join('\n  ')}`, file);
}

/** Reads and validates a data file; `file` is shown as given, resolved against `cwd`. */
export async function readDataFile<S extends z.ZodType>(file: string, schema: SchemaOrPicker<S>, cwd: string = process.cwd()): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(path.resolve(cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MulletError('NOT_FOUND', 'file not found', { where: file, cause: err });
    throw new MulletError('IO', `cannot read file: ${(err as Error).message}`, { where: file, cause: err, transient: false });
  }
  return parseDataText(text, file, schema);
}
