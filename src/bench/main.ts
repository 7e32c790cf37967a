/**
 * `npm run bench [-- NAME... [--data DIR] [--miners N ...]]`: runs the named benchmarks (all by default) one after
 * another and prints ONE JSON document of measured figures on stdout. Progress goes to stderr.
 * Figures are measured here, never asserted on in tests.
 */
import os from 'node:os';
import path from 'node:path';
import { benchDispatch } from './dispatch.js';
import { benchFleet, benchFleetArgs } from './fleet.js';
import { benchImport } from './import.js';
import { benchPlanner } from './planner.js';

type Bench = (ctx: { dataDir: string; args: readonly string[] }) => Promise<unknown>;

const BENCHES: Record<string, Bench> = {
  import: ({ dataDir }) => benchImport(dataDir),
  dispatch: ({ dataDir }) => benchDispatch(dataDir),
  planner: () => benchPlanner(),
  fleet: ({ args }) => benchFleet(benchFleetArgs(args)),
};

async function main(argv: readonly string[]): Promise<number> {
  let dataDir = process.env.MULLET_DATA ?? path.resolve('..', 'shared', 'data');
  const names: string[] = [];
  // Benchmark names come first; flags after them belong to the benchmarks (e.g. fleet --miners 50000).
  let flags = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--data') dataDir = path.resolve(argv[++i] ?? '');
    else if (a.startsWith('--')) flags = true;
    else if (!flags) names.push(a);
  }
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`);
    return 2;
  }
  const selected = names.length ? names : Object.keys(BENCHES);
  const results: Record<string, unknown> = {};
  for (const name of selected) {
    process.stderr.write(`bench: ${name} ...\n`);
    const t0 = performance.now();
    try {
      results[name] = await (BENCHES[name] as Bench)({ dataDir, args: argv });
    } catch (err) {
      results[name] = { error: err instanceof Error ? err.message : String(err) };
    }
    process.stderr.write(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  process.stdout.write(JSON.stringify({ machine, results }, null, 2) + '\n');
  return Object.values(results).some((r) => typeof r === 'object' && r !== null && 'error' in r) ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
