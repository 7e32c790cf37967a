/**
 * Architecture rules, checked on the import graph of src/ (a dependency-free stand-in for madge):
 * the pure core imports no I/O and reads no wall clock, and there are no import cycles.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './testing/data.js';

const SRC = path.join(REPO_ROOT, 'src');
const PURE_CORE = ['bitcoin', 'compute', 'dispatch', 'planner', 'site'];
// worker_threads is parallel compute (the planner's path pool), not I/O, so it is allowed.
const IO_MODULES = /^node:(fs|fs\/promises|net|http|https|dgram|child_process|tls|dns)$|^(better-sqlite3|mqtt|highs)$/;
const IO_FOLDERS = ['store', 'cli', 'fleet', 'backtest', 'bench', 'server', 'solver'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.contract.ts') && !full.includes(`${path.sep}testing${path.sep}`) ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  // Static imports and re-exports, including `import type` (harmless but still a dependency edge).
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) specs.push(m[1] as string);
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) specs.push(m[1] as string);
  return specs;
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return path.resolve(path.dirname(from), spec).replace(/\.js$/, '.ts');
}

const files = sourceFiles(SRC);
const rel = (f: string) => path.relative(SRC, f);

describe('architecture', () => {
  it('keeps the pure core free of I/O modules, I/O folders and wall-clock reads', () => {
    const problems: string[] = [];
    for (const f of files) {
      const top = rel(f).split(path.sep)[0] as string;
      if (!PURE_CORE.includes(top)) continue;
      for (const spec of importsOf(f)) {
        if (IO_MODULES.test(spec)) problems.push(`${rel(f)} imports ${spec}`);
        const local = resolveLocal(f, spec);
        if (local) {
          const target = rel(local).split(path.sep)[0] as string;
          if (IO_FOLDERS.includes(target)) problems.push(`${rel(f)} imports ${rel(local)}`);
        }
      }
      const text = readFileSync(f, 'utf8');
      if (/Date\.now\(\)|new Date\(\)|performance\.now\(\)/.test(text)) problems.push(`${rel(f)} reads the wall clock`);
    }
    expect(problems).toEqual([]);
  });

  it('has no import cycles', () => {
    const graph = new Map<string, string[]>();
    for (const f of files) graph.set(f, importsOf(f).map((s) => resolveLocal(f, s)).filter((x): x is string => x !== undefined));
    const state = new Map<string, 1 | 2>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 1);
      stack.push(f);
      for (const g of graph.get(f) ?? []) {
        if (!graph.has(g)) continue;
        if (state.get(g) === 1) cycles.push([...stack.slice(stack.indexOf(g)), g].map(rel).join(' → '));
        else if (!state.has(g)) visit(g);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
