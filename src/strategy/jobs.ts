/**
 * Strategy jobs: back-tests and plans started from the console, run one at a time by an injected
 * runner (in production a child process of the CLI itself: `child-runner.ts`), with their progress,
 * result JSON and HTML report kept in memory for the last few jobs. The server never waits on a
 * job: `submit` returns at once and the page polls the job.
 */
import { randomUUID } from 'node:crypto';
import { describeError, MulletError } from '../core/errors.js';
import type { Clock } from '../core/time.js';
import type { JobSpec, JobView } from './spec.js';

/** What a runner reports while it works and returns at the end. */
export interface RunHooks {
  progress(pct: number, message: string): void;
  signal: AbortSignal;
}
export interface RunOutput {
  /** The CLI's --json document (parsed, still unknown to us: the page shows it). */
  result: unknown;
  /** The self-contained HTML report, when one was written. */
  reportHtml: string | null;
}
export type JobRunner = (spec: JobSpec, hooks: RunHooks) => Promise<RunOutput>;

interface Job {
  id: string;
  spec: JobSpec;
  state: JobView['state'];
  submittedBy: string;
  submittedAtMs: number;
  finishedAtMs: number | null;
  progressPct: number;
  message: string;
  error: string | null;
  output: RunOutput | null;
  abort: AbortController;
  done: Promise<void>;
}

export interface StrategyJobsOptions {
  runner: JobRunner;
  clock: Clock;
  /** Jobs kept (finished ones beyond this are forgotten, oldest first). */
  keep?: number;
  /** Jobs running at once; more are refused (CONFLICT) — a back-test's LP takes a core and GBs. */
  maxRunning?: number;
  log?: (line: string) => void;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export class StrategyJobs {
  private readonly jobs = new Map<string, Job>();
  private readonly keep: number;
  private readonly maxRunning: number;

  constructor(private readonly o: StrategyJobsOptions) {
    this.keep = o.keep ?? 20;
    this.maxRunning = o.maxRunning ?? 1;
  }

  /** Starts a job now (CONFLICT when `maxRunning` are running); returns its view at once. */
  submit(spec: JobSpec, submittedBy: string): JobView {
    const running = [...this.jobs.values()].filter((j) => j.state === 'running');
    if (running.length >= this.maxRunning) throw new MulletError('CONFLICT', `a job is already running (${running.map((j) => j.id).join(', ')}): wait for it or cancel it`, { where: 'strategy' });
    const job: Job = { id: randomUUID(), spec, state: 'running', submittedBy, submittedAtMs: this.o.clock.nowMs(), finishedAtMs: null, progressPct: 0, message: 'starting', error: null, output: null, abort: new AbortController(), done: Promise.resolve() };
    this.jobs.set(job.id, job);
    this.prune();
    job.done = this.o
      .runner(spec, {
        signal: job.abort.signal,
        progress: (pct, message) => {
          job.progressPct = Math.max(job.progressPct, Math.min(100, pct));
          job.message = message;
        },
      })
      .then(
        (out) => {
          if (job.state !== 'running') return;
          job.output = out;
          job.state = 'done';
          job.progressPct = 100;
        },
        (err: unknown) => {
          if (job.state !== 'running') return;
          job.state = job.abort.signal.aborted ? 'cancelled' : 'failed';
          job.error = describeError(err);
          this.o.log?.(`strategy job ${job.id} ${job.state}: ${job.error}`);
        },
      )
      .finally(() => {
        job.finishedAtMs = this.o.clock.nowMs();
      });
    return this.view(job);
  }

  get(id: string): JobView {
    return this.view(this.job(id));
  }

  list(): JobView[] {
    return [...this.jobs.values()].reverse().map((j) => this.view(j));
  }

  /** The job's --json document (NOT_FOUND until it is done). */
  result(id: string): unknown {
    const j = this.job(id);
    if (!j.output) throw new MulletError('NOT_FOUND', `job ${id} has no result (${j.state})`);
    return j.output.result;
  }

  reportHtml(id: string): string {
    const html = this.job(id).output?.reportHtml;
    if (html === null || html === undefined) throw new MulletError('NOT_FOUND', `job ${id} has no report`);
    return html;
  }

  /** Cancels a running job (its child is killed); a finished one is left as it is. */
  cancel(id: string): JobView {
    const j = this.job(id);
    if (j.state === 'running') {
      j.abort.abort();
      j.state = 'cancelled';
      j.error = 'cancelled';
    }
    return this.view(j);
  }

  /** Resolves when the job has finished (tests; shutdown). */
  async settled(id: string): Promise<JobView> {
    await this.job(id).done;
    return this.get(id);
  }

  /** Cancels every running job and waits for them (server shutdown). */
  async close(): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => j.state === 'running');
    for (const j of running) this.cancel(j.id);
    await Promise.all(running.map((j) => j.done));
  }

  private job(id: string): Job {
    const j = this.jobs.get(id);
    if (!j) throw new MulletError('NOT_FOUND', `no job ${id}`, { where: 'id' });
    return j;
  }

  private prune(): void {
    for (const j of this.jobs.values()) {
      if (this.jobs.size <= this.keep) break;
      if (j.state !== 'running') this.jobs.delete(j.id);
    }
  }

  private view(j: Job): JobView {
    return {
      id: j.id,
      kind: j.spec.kind,
      spec: { ...j.spec },
      state: j.state,
      submittedBy: j.submittedBy,
      submittedAt: iso(j.submittedAtMs) ?? '',
      finishedAt: iso(j.finishedAtMs),
      progressPct: Math.round(j.progressPct * 10) / 10,
      message: j.message,
      error: j.error,
      hasResult: j.output !== null,
      hasReport: j.output?.reportHtml != null,
    };
  }
}
