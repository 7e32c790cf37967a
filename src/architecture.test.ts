/**
 * Architecture rules, checked on the import graph of src/ (a dependency-free stand-in for madge):
 *  - every folder of src/ is a layer with an allowlist of the folders it may import directly;
 *  - the pure layers reach, through ANY chain of imports, no file that uses an I/O module or reads the
 *    wall clock (a pure file may import a pure file of an I/O folder, e.g. market/types.ts, but nothing
 *    that file imports may do I/O either);
 *  - there are no import cycles between files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './testing/data.js';

const SRC = path.join(REPO_ROOT, 'src');

/**
 * Which folders each layer may import directly (besides itself). Pure layers are marked; every other
 * layer may do I/O. A new folder must be added here, with its place in the story.
 */
const LAYERS: Record<string, { pure: boolean; may: readonly string[] }> = {
  // Foundations.
  core: { pure: true, may: [] },
  db: { pure: false, may: ['core'] },
  net: { pure: false, may: ['core'] },
  // The pure domain: economics, the site model, dispatch, the synthetic market, the planner.
  bitcoin: { pure: true, may: ['core'] },
  compute: { pure: true, may: ['core', 'catalog'] },
  catalog: { pure: false, may: ['core', 'compute'] }, // load.ts reads the hardware CSVs; its model files are pure
  site: { pure: true, may: ['core', 'catalog', 'compute'] },
  dispatch: { pure: true, may: ['core', 'site', 'catalog', 'bitcoin'] },
  scenario: { pure: true, may: ['core', 'bitcoin', 'market'] }, // market: record types and the store port only
  planner: { pure: true, may: ['core', 'bitcoin', 'catalog', 'compute', 'scenario', 'site'] },
  // Data in and out.
  market: { pure: false, may: ['core', 'bitcoin', 'net', 'scenario'] },
  store: { pure: false, may: ['core', 'db', 'market'] },
  solver: { pure: false, may: ['core', 'dispatch'] },
  report: { pure: false, may: ['core'] },
  backtest: { pure: false, may: ['core', 'bitcoin', 'dispatch', 'market', 'scenario', 'site', 'solver'] },
  // Devices, the site agent and the simulator (the simulator's control API is served by the HTTP edge).
  fleet: { pure: false, may: ['core', 'catalog', 'db', 'dispatch', 'net', 'server', 'site'] },
  // Live operations, identities, the HTTP edge.
  ops: { pure: false, may: ['core', 'backtest', 'dispatch', 'fleet', 'market', 'scenario', 'site'] },
  console: { pure: false, may: ['core', 'db'] },
  // Many sites: the NATS JetStream control plane (site link inside the agent, the center).
  control: { pure: false, may: ['core', 'fleet'] },
  alerts: { pure: false, may: ['core', 'fleet', 'net'] }, // rules on agent events (pure engine), webhook and SMTP delivery
  // The analyst's sourced industry facts (importer, store, analytics) and the console's strategy jobs
  // (the CLI run in a child process: it names site files and policies, nothing more).
  industry: { pure: false, may: ['core', 'db'] },
  strategy: { pure: false, may: ['core', 'dispatch', 'site'] },
  server: { pure: false, may: ['core', 'alerts', 'catalog', 'compute', 'console', 'fleet', 'industry', 'ops', 'planner', 'strategy'] },
  // Composition roots: they wire everything.
  app: { pure: false, may: ['core', 'alerts', 'backtest', 'console', 'control', 'db', 'dispatch', 'fleet', 'industry', 'market', 'net', 'ops', 'scenario', 'server', 'site', 'solver', 'store', 'strategy'] },
  cli: { pure: false, may: ['*'] },
  bench: { pure: false, may: ['*'] },
  testing: { pure: false, may: ['*'] },
};

const IO_MODULES = /^node:(fs|fs\/promises|net|http|https|http2|dgram|child_process|tls|dns|worker_threads)$|^(better-sqlite3|mqtt|highs|pg|kysely|nodemailer|nats|@nats-io\/.+|@hono\/node-server)$/;
/** worker_threads is parallel compute in the planner's path pool, not I/O. */
const PURE_EXCEPTIONS = new Map<string, RegExp>([['planner', /^node:worker_threads$/]]);
/** The one place that reads the wall clock (systemClock) is core/time.ts; pure code gets a Clock injected. */
const CLOCK_READ = /Date\.now\(\)|new Date\(\)|performance\.now\(\)|systemClock/;
const CLOCK_HOME = path.join('core', 'time.ts');

interface SourceFile {
  rel: string;
  layer: string;
  local: string[];
  io: string[];
  readsClock: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.contract.ts') && !full.includes(`${path.sep}testing${path.sep}`) ? [full] : [];
  });
}

function importsOf(text: string): string[] {
  const specs: string[] = [];
  // Static imports and re-exports, including `import type` (harmless but still a dependency edge).
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) specs.push(m[1] as string);
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) specs.push(m[1] as string);
  return specs;
}

const files = new Map<string, SourceFile>();
for (const full of sourceFiles(SRC)) {
  const rel = path.relative(SRC, full);
  const text = readFileSync(full, 'utf8');
  const specs = importsOf(text);
  const layer = rel.includes(path.sep) ? (rel.split(path.sep)[0] as string) : '(root)';
  files.set(rel, {
    rel,
    layer,
    local: specs.filter((s) => s.startsWith('.')).map((s) => path.relative(SRC, path.resolve(path.dirname(full), s)).replace(/\.js$/, '.ts')),
    io: specs.filter((s) => IO_MODULES.test(s) && !(PURE_EXCEPTIONS.get(layer)?.test(s) ?? false)),
    readsClock: rel !== CLOCK_HOME && CLOCK_READ.test(text),
  });
}

/** Every file `start` reaches through local imports, with the chain that reached it. */
function reachable(start: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[start, [start]]]);
  const queue = [start];
  while (queue.length > 0) {
    const f = queue.shift() as string;
    for (const g of files.get(f)?.local ?? []) {
      if (chains.has(g) || !files.has(g)) continue;
      chains.set(g, [...(chains.get(f) as string[]), g]);
      queue.push(g);
    }
  }
  return chains;
}

describe('architecture', () => {
  it('every folder of src/ is a layer with an allowlist', () => {
    const unknown = [...new Set([...files.values()].map((f) => f.layer))].filter((l) => l !== '(root)' && !(l in LAYERS));
    expect(unknown, 'add these folders to LAYERS in src/architecture.test.ts').toEqual([]);
  });

  it('each layer imports only the layers on its allowlist', () => {
    const problems: string[] = [];
    for (const f of files.values()) {
      const rule = LAYERS[f.layer];
      if (!rule || rule.may.includes('*')) continue;
      for (const g of f.local) {
        const target = g.includes(path.sep) ? (g.split(path.sep)[0] as string) : '(root)';
        if (target !== f.layer && !rule.may.includes(target)) problems.push(`${f.rel} imports ${g} (${f.layer} may import ${rule.may.join(', ') || 'nothing'})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('keeps the pure layers free of I/O and wall-clock reads, through every chain of imports', () => {
    const problems: string[] = [];
    for (const f of files.values()) {
      if (!LAYERS[f.layer]?.pure) continue;
      // core's own I/O helpers (atomic files, descriptor budget, address parsing) are core's exceptions;
      // what matters is that no pure file reaches them.
      if (f.layer === 'core' && f.io.length > 0) continue;
      for (const [g, chain] of reachable(f.rel)) {
        const target = files.get(g) as SourceFile;
        if (target.io.length > 0) problems.push(`${chain.join(' → ')} uses ${target.io.join(', ')}`);
        if (target.readsClock) problems.push(`${chain.join(' → ')} reads the wall clock`);
      }
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  it('has no import cycles', () => {
    const state = new Map<string, 1 | 2>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 1);
      stack.push(f);
      for (const g of files.get(f)?.local ?? []) {
        if (!files.has(g)) continue;
        if (state.get(g) === 1) cycles.push([...stack.slice(stack.indexOf(g)), g].join(' → '));
        else if (!state.has(g)) visit(g);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of files.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
