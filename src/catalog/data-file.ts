/**
 * Reads a user's YAML or JSON data file and validates it with a zod schema. Every problem is
 * reported with its file, line and data path (`extra.yaml:12: deals[2].itMW: must be > 0`), so the
 * user can go straight to it. JSON is parsed by the YAML parser too (JSON is YAML 1.2), which gives
 * line numbers for both. NaN/Infinity (`.nan`, `.inf`) fail the schemas' finite-number checks.
 */
import path from 'node:path';
import type { z } from 'zod';
import { badInput, isMulletError, MulletError } from '../core/errors.js';
import { readRegularTextFile } from '../core/files.js';
import { MAX_YAML_CHARS, parseYaml, throwProblems } from '../core/yaml-doc.js';

export { formatDataPath } from '../core/yaml-doc.js';

type SchemaOrPicker<S extends z.ZodType> = S | ((raw: unknown) => S);

/** Parses `text` (YAML or JSON) named `file` and validates it; throws BAD_INPUT with file:line and path. */
export function parseDataText<S extends z.ZodType>(text: string, file: string, schema: SchemaOrPicker<S>): z.output<S> {
  const parsed = parseYaml(text, file);
  if (typeof parsed.raw === 'string' && /,.*,/.test(parsed.raw)) {
    throw badInput('looks like a CSV table, not YAML or JSON (ASIC spec tables go to catalog --file as a .csv file)', `${file}:1`);
  }
  const s = typeof schema === 'function' ? schema(parsed.raw) : schema;
  const result = s.safeParse(parsed.raw);
  if (result.success) return result.data;
  throwProblems(
    file,
    parsed,
    result.error.issues.map((issue) => {
      const dataPath: PropertyKey[] = [...issue.path];
      // Point at the unknown key itself, but name the object it sits in.
      if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) return { path: dataPath, message: issue.message, at: [...dataPath, issue.keys[0]] };
      return { path: dataPath, message: issue.message };
    }),
  );
}

/**
 * Reads a text file the user named: regular files only (a FIFO would block), at most the size
 * parseYaml accepts; NOT_FOUND / IO errors name it as given.
 */
export async function readText(file: string, cwd: string = process.cwd()): Promise<string> {
  try {
    return await readRegularTextFile(path.resolve(cwd, file), file, MAX_YAML_CHARS, 'config file');
  } catch (err) {
    if (isMulletError(err) && err.code === 'NOT_FOUND') throw new MulletError('NOT_FOUND', 'file not found', { where: file, cause: err });
    throw err;
  }
}

/** Reads and validates a data file; `file` is shown as given, resolved against `cwd`. */
export async function readDataFile<S extends z.ZodType>(file: string, schema: SchemaOrPicker<S>, cwd: string = process.cwd()): Promise<z.output<S>> {
  const text = await readText(file, cwd);
  // A CSV where YAML/JSON is expected would otherwise fail with a raw schema message.
  if (/\.csv$/i.test(file)) throw badInput('is a CSV table; this option takes a YAML or JSON file', file);
  return parseDataText(text, file, schema);
}
