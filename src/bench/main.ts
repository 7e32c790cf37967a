/**
 * `npm run bench [-- NAME... [--data DIR] [--miners N ...]]`: runs the named benchmarks (all by default) one after
 * another and prints ONE JSON document of measured figures on stdout. Progress goes to stderr.
 * Figures are measured here, never asserted on in tests.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../core/node-flags.js';

type Bench = (ctx: { dataDir: string; args: readonly string[] }) => Promise<unknown>;

// Loaded on demand: a benchmark's process holds only its own code and heap.
const BENCHES: Record<string, Bench> = {
  import: async ({ dataDir }) => (await import('./import.js')).benchImport(dataDir),
  dispatch: async ({ dataDir }) => (await import('./dispatch.js')).benchDispatch(dataDir),
  pgstore: async ({ dataDir }) => (await import('./pgstore.js')).benchPgStore(dataDir),
  planner: async () => (await import('./planner.js')).benchPlanner(),
  protocols: async () => (await import('./protocols.js')).benchProtocols(),
  fleet: async ({ args }) => {
    const { benchFleet, benchFleetArgs } = await import('./fleet.js');
    return benchFleet(benchFleetArgs(args));
  },
  // --sim: the real agent on a 10,000-miner simulated site behind the console (the same as console-sim).
  console: async ({ args }) => {
    if (!args.includes('--sim')) return (await import('./console.js')).benchConsole();
    const { benchConsoleSim, benchConsoleSimArgs } = await import('./console-sim.js');
    return benchConsoleSim(benchConsoleSimArgs(args));
  },
  'console-sim': async ({ args }) => {
    const { benchConsoleSim, benchConsoleSimArgs } = await import('./console-sim.js');
    return benchConsoleSim(benchConsoleSimArgs(args));
  },
  ecrs: async ({ args }) => {
    const { benchEcrs, benchEcrsArgs } = await import('./ecrs.js');
    return benchEcrs(benchEcrsArgs(args));
  },
  ops: async ({ dataDir, args }) => {
    const { benchOps, benchOpsArgs } = await import('./ops.js');
    return benchOps(benchOpsArgs(args, dataDir));
  },
  control: async ({ args }) => {
    const { benchControl, benchControlArgs } = await import('./control.js');
    return benchControl(benchControlArgs(args));
  },
  shards: async ({ args }) => {
    const { benchShards, benchShardsArgs } = await import('./shards.js');
    return benchShards(benchShardsArgs(args));
  },
  soak: async ({ args }) => {
    const { benchSoak, soakArgs } = await import('./soak.js');
    return benchSoak(soakArgs(args));
  },
};

const CHILD_FLAG = '--child';

/**
 * Runs one benchmark in a fresh Node process (this file with --child NAME, with the V8 flags every
 * Mullet process runs with) and returns its JSON:
 * a benchmark run after another would inherit its heap, its JIT state and its garbage (the fleet
 * agent measured ~20 % slower after the others in one process).
 */
function runIsolated(name: string, argv: readonly string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, fileURLToPath(import.meta.url), CHILD_FLAG, name, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.once('error', reject);
    child.once('close', (code) => {
      const text = Buffer.concat(out).toString('utf8');
      try {
        resolve(JSON.parse(text) as unknown);
      } catch {
        reject(new Error(`benchmark process exited with ${code ?? 'a signal'} and no JSON result`));
      }
    });
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const names: string[] = [];
  // Benchmark names come first; flags after them belong to the benchmarks (e.g. fleet --miners 50000).
  let flags = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--data') i++;
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
      results[name] = await runIsolated(name, argv);
    } catch (err) {
      results[name] = { error: err instanceof Error ? err.message : String(err) };
    }
    process.stderr.write(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  process.stdout.write(JSON.stringify({ machine, results }, null, 2) + '\n');
  return Object.values(results).some((r) => typeof r === 'object' && r !== null && 'error' in r) ? 1 : 0;
}

/** Child mode: run the one named benchmark here and print its result (or {error}) as JSON. */
async function child(name: string, argv: readonly string[]): Promise<number> {
  const bench = BENCHES[name];
  if (!bench) throw new Error(`unknown benchmark ${name}`);
  const i = argv.indexOf('--data');
  const dataDir = i >= 0 ? path.resolve(argv[i + 1] ?? '') : (process.env.MULLET_DATA ?? path.resolve('..', 'shared', 'data'));
  try {
    process.stdout.write(JSON.stringify(await bench({ dataDir, args: argv })) + '\n');
    return 0;
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }) + '\n');
    return 1;
  }
}

const args = process.argv.slice(2);
process.exitCode = args[0] === CHILD_FLAG ? await child(args[1] ?? '', args.slice(2)) : await main(args);
