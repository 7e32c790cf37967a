import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A temporary directory for hand-made fixture files; `cleanup()` removes it. */
export function tmpDir(prefix = 'mullet-import-'): { dir: string; write(name: string, content: string | Buffer): string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    write(name, content) {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      return file;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Joins CSV lines with LF and a trailing newline. */
export function csv(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

/** Expects `fn` to throw BAD_INPUT whose `where` matches `where` (e.g. 'x.csv:3:4'). */
export async function badInputAt(fn: () => unknown, where: RegExp | string): Promise<{ where: string; message: string }> {
  try {
    await fn();
  } catch (err) {
    const e = err as { code?: string; where?: string; message?: string };
    if (e.code !== 'BAD_INPUT') throw err;
    const w = e.where ?? '';
    if (typeof where === 'string' ? !w.endsWith(where) : !where.test(w)) throw new Error(`expected error at ${String(where)}, got ${w}: ${e.message ?? ''}`, { cause: err });
    return { where: w, message: e.message ?? '' };
  }
  throw new Error('expected BAD_INPUT, nothing was thrown');
}
