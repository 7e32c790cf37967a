/**
 * The importer (I/O at the edge): reads industry CSV files (a directory means its *.csv files),
 * validates every file before storing any, and stores each file's facts in one transaction.
 * Any problem in any file: nothing is stored and every problem is listed (BAD_INPUT).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MulletError } from '../core/errors.js';
import { parseIndustryCsv, type ParsedFile } from './parse.js';
import type { ImportResult, IndustryStore } from './store.js';

/** Files named by `paths`; a directory stands for its *.csv files (sorted). */
export function industryFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (cause) {
      throw new MulletError('NOT_FOUND', `no such file or directory`, { cause, where: p });
    }
    if (!isDir) out.push(p);
    else
      out.push(
        ...readdirSync(p)
          .filter((f) => f.toLowerCase().endsWith('.csv'))
          .sort()
          .map((f) => join(p, f)),
      );
  }
  if (out.length === 0) throw new MulletError('BAD_INPUT', 'no CSV file to import', { where: paths.join(' ') });
  return out;
}

/** Parses every file (base names must be unique: a file is stored under its base name). */
export function parseFiles(files: readonly string[]): ParsedFile[] {
  const seen = new Map<string, string>();
  return files.map((path) => {
    const name = basename(path);
    const other = seen.get(name);
    if (other !== undefined) throw new MulletError('BAD_INPUT', `two files named ${name} (${other} and ${path}): facts are kept per file name, rename one`, { where: path });
    seen.set(name, path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new MulletError('IO', 'cannot read', { cause, where: path });
    }
    return parseIndustryCsv(text, name);
  });
}

/** Validates all, then stores all: every problem of every file, or one result per file. */
export async function importIndustry(paths: readonly string[], store: IndustryStore, nowMs: number): Promise<ImportResult[]> {
  const parsed = parseFiles(industryFiles(paths));
  const errors = parsed.flatMap((p) => p.errors);
  if (errors.length > 0) throw new MulletError('BAD_INPUT', `${errors.length} problem(s); nothing was imported:\n${errors.join('\n')}`);
  const out: ImportResult[] = [];
  for (const p of parsed) out.push(await store.importFile(p, nowMs));
  return out;
}
