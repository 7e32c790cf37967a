/** Worker thread entry: receives the job once, then evaluates chunks of paths on request. */
import { parentPort, workerData } from 'node:worker_threads';
import { PathEvaluator } from './evaluate.js';
import { runChunk, type ChunkSpec, type McJob } from './montecarlo.js';

const job = workerData as McJob;
const evaluator = new PathEvaluator(job.model, job.seed, job.schedules, job.npvOnly);
parentPort?.on('message', (c: ChunkSpec) => {
  parentPort?.postMessage({ index: c.index, acc: runChunk(job, c.from, c.to, evaluator) });
});
