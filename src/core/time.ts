/** Injected time: nothing in the pure core reads the wall clock; tests move a FakeClock. */
export interface Clock {
  /** Milliseconds since the Unix epoch, UTC. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

export class FakeClock implements Clock {
  constructor(private ms: number) {}
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}

export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;

/** 'YYYY-MM-DD' of a UTC instant. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Start of a UTC day 'YYYY-MM-DD' in ms; throws RangeError on a malformed or impossible date. */
export function parseUtcDate(date: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new RangeError(`expected YYYY-MM-DD, got '${date}'`);
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!Number.isFinite(ms) || utcDate(ms) !== date) throw new RangeError(`not a calendar date: '${date}'`);
  return ms;
}

/**
 * Resolves after `ms` of real time, or at once when `signal` aborts (never rejects: a loop that
 * sleeps checks its signal after). The timer is cleared on abort, so a stopped loop does not keep
 * the process alive.
 */
export function waitMs(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
