/**
 * The Monte Carlo driver: a pilot run sets histogram ranges, then paths run in fixed chunks
 * (inline, or on worker threads through a ChunkRunner) and chunk accumulators merge in chunk order.
 * Path k always draws from the same random streams, so the numbers depend on the seed and the path
 * count, never on threads or scheduling.
 */
import { accumulate, mergeAccumulator, newAccumulator, pilotRanges, type Accumulator, type Ranges } from './accumulate.js';
import { PathEvaluator, makeLayout, type Layout } from './evaluate.js';
import type { PlanModel } from './resolve.js';
import type { Schedule } from './schedule.js';

/** Paths per chunk: fixed, so merging order (and every float) is independent of the thread count. */
export const CHUNK_PATHS = 250;
export const PILOT_PATHS = 200;

export interface McJob {
  model: PlanModel;
  seed: number;
  schedules: Schedule[];
  /** Schedules of which only the NPV (and its difference to schedule 0) is kept. */
  npvOnly: Schedule[];
  ranges: Ranges;
}

export interface ChunkSpec {
  index: number;
  from: number;
  to: number;
}

/** Runs chunks and returns their accumulators in chunk order. */
export interface ChunkRunner {
  run(job: McJob, chunks: readonly ChunkSpec[], onChunk: (done: number) => void): Promise<Accumulator[]>;
}

/** Evaluates paths [from, to) into a fresh accumulator. */
export function runChunk(job: McJob, from: number, to: number, evaluator?: PathEvaluator): Accumulator {
  const ev = evaluator ?? new PathEvaluator(job.model, job.seed, job.schedules, job.npvOnly);
  const acc = newAccumulator(ev.layout, job.ranges);
  const out = new Float64Array(ev.layout.slots);
  for (let p = from; p < to; p++) {
    ev.evaluate(p, out);
    accumulate(acc, out);
  }
  return acc;
}

export const inlineRunner: ChunkRunner = {
  run(job, chunks, onChunk) {
    const ev = new PathEvaluator(job.model, job.seed, job.schedules, job.npvOnly);
    const out: Accumulator[] = [];
    for (const c of chunks) {
      out.push(runChunk(job, c.from, c.to, ev));
      onChunk(out.length);
    }
    return Promise.resolve(out);
  },
};

export interface McResult {
  layout: Layout;
  acc: Accumulator;
  ranges: Ranges;
}

/**
 * Runs `paths` paths of `schedules` (the last one is the IRR/payback comparison base) and of the
 * `npvOnly` schedules, all on the same paths (common random numbers).
 */
export async function runMonteCarlo(
  model: PlanModel,
  seed: number,
  schedules: Schedule[],
  paths: number,
  opts: { runner?: ChunkRunner; onProgress?: (done: number, total: number) => void; npvOnly?: Schedule[] } = {},
): Promise<McResult> {
  const npvOnly = opts.npvOnly ?? [];
  const layout = makeLayout(model, schedules.length, npvOnly.length);
  const ev = new PathEvaluator(model, seed, schedules, npvOnly);
  const pilot: Float64Array[] = [];
  for (let p = 0; p < Math.min(PILOT_PATHS, paths); p++) {
    const out = new Float64Array(layout.slots);
    ev.evaluate(p, out);
    pilot.push(out);
  }
  const ranges = pilotRanges(layout, pilot);
  const chunks: ChunkSpec[] = [];
  for (let from = 0, i = 0; from < paths; from += CHUNK_PATHS, i++) chunks.push({ index: i, from, to: Math.min(paths, from + CHUNK_PATHS) });
  const job: McJob = { model, seed, schedules, npvOnly, ranges };
  const parts = await (opts.runner ?? inlineRunner).run(job, chunks, (done) => opts.onProgress?.(Math.min(paths, done * CHUNK_PATHS), paths));
  const acc = newAccumulator(layout, ranges);
  for (const part of parts) mergeAccumulator(acc, part);
  return { layout, acc, ranges };
}
