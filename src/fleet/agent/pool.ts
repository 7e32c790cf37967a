/**
 * Bounded concurrency over a list: at most `limit` calls in flight (file descriptors and the
 * miners' own connection limits are finite). Results keep input order; a rejection is captured
 * per item, never thrown, so one failing device cannot stop the others.
 */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Runs `fn` over `items` with at most `limit` in flight; stops starting new calls once `signal` aborts. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>, signal?: AbortSignal): Promise<Settled<R>[]> {
  const out = new Array<Settled<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      if (signal?.aborted) {
        out[i] = { ok: false, error: signal.reason };
        continue;
      }
      try {
        out[i] = { ok: true, value: await fn(items[i] as T, i) };
      } catch (error) {
        out[i] = { ok: false, error };
      }
    }
  };
  const n = Math.max(1, Math.min(Math.floor(limit), items.length));
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}
