/**
 * Runs Monte Carlo chunks on worker threads (node:worker_threads; no file or network I/O). Each
 * worker gets the job once; chunks are handed out as workers free up; results come back in any
 * order and are returned in chunk order.
 */
import { Worker } from 'node:worker_threads';
import type { Accumulator } from './accumulate.js';
import { inlineRunner, type ChunkRunner, type ChunkSpec, type McJob } from './montecarlo.js';

/** A runner on `threads` workers; falls back to inline when the compiled worker is unavailable (tests run TypeScript). */
export function workerRunner(threads: number): ChunkRunner {
  const url = new URL('./worker.js', import.meta.url);
  if (threads <= 1 || import.meta.url.endsWith('.ts')) return inlineRunner;
  return {
    run(job: McJob, chunks: readonly ChunkSpec[], onChunk: (done: number) => void): Promise<Accumulator[]> {
      return new Promise((resolve, reject) => {
        const results = new Array<Accumulator | undefined>(chunks.length);
        let next = 0;
        let done = 0;
        let failed = false;
        const workers: Worker[] = [];
        const finish = (err?: Error) => {
          for (const w of workers) void w.terminate();
          if (err !== undefined) reject(err);
          else resolve(results as Accumulator[]);
        };
        const feed = (w: Worker) => {
          const c = chunks[next++];
          if (c) w.postMessage(c);
        };
        const n = Math.max(1, Math.min(threads, chunks.length));
        for (let i = 0; i < n; i++) {
          const w = new Worker(url, { workerData: job });
          workers.push(w);
          w.on('message', (m: { index: number; acc: Accumulator }) => {
            results[m.index] = m.acc;
            done++;
            onChunk(done);
            if (done === chunks.length) finish();
            else feed(w);
          });
          w.on('error', (err) => {
            if (!failed) {
              failed = true;
              finish(err);
            }
          });
          feed(w);
        }
        if (chunks.length === 0) finish();
      });
    },
  };
}
