/**
 * The production job runner: the CLI itself (`dist/cli/main.js backtest|plan … --json --report`)
 * in a child process — the very code `mullet backtest` and `mullet plan` run, in its own memory
 * (an optimal LP over a year takes hundreds of MB) and off the server's event loop, killed on
 * cancel or deadline. Its plain progress lines become the job's progress; its JSON the result.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MulletError } from '../core/errors.js';
import type { JobRunner } from './jobs.js';
import { ProgressReader } from './progress.js';
import type { JobSpec } from './spec.js';
import type { StrategyInputs } from './inputs.js';

/** dist/cli/main.js of this checkout (the same from src/ under vitest and from dist/). */
export const CLI_ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

const MAX_STDOUT_BYTES = 64 * 1024 * 1024;
const MAX_REPORT_BYTES = 32 * 1024 * 1024;

export interface ChildRunnerOptions {
  inputs: StrategyInputs;
  /** The market store the runs read (`--db`). */
  dataDb: string;
  /** Longest a job may run, ms (then it is killed). */
  deadlineMs?: number;
  cliEntry?: string;
}

/** The CLI arguments of a job (pure but for resolving the input's file through `inputs`). */
export function jobArgs(spec: JobSpec, inputs: StrategyInputs, dataDb: string, reportFile: string): { args: string[]; steps: number } {
  if (spec.kind === 'backtest') {
    const [primary, ...rest] = spec.policies;
    const compare = rest.length > 0;
    const args = ['backtest', '--site', inputs.file('site', spec.site), '--from', spec.from, '--to', spec.to, '--policy', primary as string];
    if (compare) args.push('--compare', spec.policies.join(','));
    if (spec.asPrices === 'synthetic') args.push('--as-prices', 'synthetic');
    args.push('--json', '--report', reportFile, '--db', dataDb);
    return { args, steps: spec.policies.length + (compare && !spec.policies.includes('optimal') ? 1 : 0) };
  }
  return { args: ['plan', '--portfolio', inputs.file('portfolio', spec.portfolio), '--paths', String(spec.paths), '--seed', String(spec.seed), '--threads', '1', '--json', '--report', reportFile, '--db', dataDb], steps: 1 };
}

export function childRunner(o: ChildRunnerOptions): JobRunner {
  const entry = o.cliEntry ?? CLI_ENTRY;
  const deadlineMs = o.deadlineMs ?? 60 * 60_000;
  return async (spec, hooks) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mullet-job-'));
    const reportFile = path.join(dir, 'report.html');
    try {
      const { args, steps } = jobArgs(spec, o.inputs, o.dataDb, reportFile);
      const progress = new ProgressReader(steps);
      const out = await new Promise<{ code: number | null; stdout: string; tail: string[] }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--max-semi-space-size=64', entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
        const chunks: Buffer[] = [];
        let bytes = 0;
        const tail: string[] = [];
        let partial = '';
        const kill = (): void => {
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
        };
        const timer = setTimeout(kill, deadlineMs);
        hooks.signal.addEventListener('abort', kill, { once: true });
        child.stdout.on('data', (b: Buffer) => {
          bytes += b.length;
          if (bytes > MAX_STDOUT_BYTES) kill();
          else chunks.push(b);
        });
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (s: string) => {
          const lines = (partial + s).split('\n');
          partial = lines.pop() ?? '';
          for (const l of lines) {
            tail.push(l);
            if (tail.length > 20) tail.shift();
            if (progress.line(l)) hooks.progress(progress.pct, progress.message);
          }
        });
        child.on('error', (err) => {
          clearTimeout(timer);
          reject(new MulletError('IO', `cannot start the job (${entry}): is the CLI built? (npm run build)`, { cause: err }));
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          hooks.signal.removeEventListener('abort', kill);
          if (partial !== '') tail.push(partial);
          resolve({ code, stdout: Buffer.concat(chunks).toString('utf8'), tail });
        });
      });
      if (hooks.signal.aborted) throw new MulletError('ABORTED', 'cancelled');
      if (out.code !== 0) {
        const why = out.tail.filter((l) => l.trim() !== '').slice(-6).join('\n');
        throw new MulletError(out.code === null ? 'TIMEOUT' : 'BAD_INPUT', `${spec.kind} exited with ${out.code ?? 'a signal (deadline or size limit)'}: ${why || 'no message'}`);
      }
      let result: unknown;
      try {
        result = JSON.parse(out.stdout) as unknown;
      } catch (cause) {
        throw new MulletError('PARSE', `${spec.kind} printed no JSON document`, { cause });
      }
      let reportHtml: string | null = null;
      const st = await stat(reportFile).catch(() => null);
      if (st && st.size <= MAX_REPORT_BYTES) reportHtml = await readFile(reportFile, 'utf8');
      return { result, reportHtml };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
