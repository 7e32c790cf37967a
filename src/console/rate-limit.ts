/**
 * Failed-login limiter (pure; the caller passes the time): at most `maxFailures` failures per key
 * (a user name, a client address) within `windowMs`; beyond that the key is refused until the
 * oldest failure leaves the window. A success clears the key. Memory is bounded: at most
 * `maxKeys` keys are tracked; the oldest is forgotten first.
 */
export interface RateLimitOptions {
  maxFailures: number;
  windowMs: number;
  maxKeys?: number;
}

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly maxKeys: number;

  constructor(private readonly o: RateLimitOptions) {
    this.maxKeys = o.maxKeys ?? 10_000;
  }

  /** 0 when `key` may try now, else the ms until it may. */
  retryAfterMs(key: string, nowMs: number): number {
    const list = this.recent(key, nowMs);
    if (list.length < this.o.maxFailures) return 0;
    return Math.max(1, (list[list.length - this.o.maxFailures] as number) + this.o.windowMs - nowMs);
  }

  fail(key: string, nowMs: number): void {
    const list = this.recent(key, nowMs);
    list.push(nowMs);
    this.failures.delete(key); // re-insert: Map order is then least recently failed first
    this.failures.set(key, list.slice(-this.o.maxFailures));
    while (this.failures.size > this.maxKeys) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, nowMs: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => t > nowMs - this.o.windowMs);
    if (list.length === 0) this.failures.delete(key);
    return list;
  }
}
