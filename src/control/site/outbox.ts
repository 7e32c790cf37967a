/**
 * What the site sends the center, kept until JetStream has stored it: outcomes and event batches
 * are never dropped (loss-free across a partition: the backlog grows, and is published in order
 * when the link is back); telemetry keeps only the newest `maxTelemetry` digests (downsampled at the
 * source, the oldest dropped first). Every message has a `Nats-Msg-Id`, so a publish retried after
 * a timeout whose first attempt did land is dropped by the stream, not stored twice.
 */
export type OutboxKind = 'outcome' | 'events' | 'telemetry';

export interface OutboxItem {
  kind: OutboxKind;
  subject: string;
  msgId: string;
  data: Uint8Array;
  /** Called with the stream's sequence once stored (telemetry reads it back for the server clock). */
  onStored?: (seq: number, sentAtMs: number) => void;
}

/** What the outbox needs of JetStream: publish with a message id and a deadline (rejects on failure). */
export interface Publisher {
  publish(subject: string, data: Uint8Array, msgId: string, timeoutMs: number): Promise<{ seq: number; duplicate: boolean }>;
}

export interface OutboxOptions {
  /** Publishes in flight at most. */
  window?: number;
  timeoutMs?: number;
  maxTelemetry?: number;
  /** Wall-independent time for `onStored` (performance.now-like), ms. */
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  log?: (line: string) => void;
}

export class Outbox {
  private readonly queue: OutboxItem[] = [];
  private wake: (() => void) | null = null;
  private telemetryDropped = 0;
  /** Stored, and stored as duplicates (a retry of a publish that had landed), since start. */
  readonly counts = { stored: 0, duplicates: 0, failures: 0 };

  constructor(
    private readonly pub: Publisher,
    private readonly o: OutboxOptions,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  get droppedTelemetry(): number {
    return this.telemetryDropped;
  }

  push(item: OutboxItem): void {
    if (item.kind === 'telemetry') {
      const max = this.o.maxTelemetry ?? 720;
      const tele = this.queue.filter((q) => q.kind === 'telemetry');
      if (tele.length >= max) {
        const oldest = tele[0] as OutboxItem;
        this.queue.splice(this.queue.indexOf(oldest), 1);
        this.telemetryDropped++;
      }
    }
    this.queue.push(item);
    this.wake?.();
  }

  /** Publishes until `signal` aborts: in order, `window` at a time, failures retried with backoff. */
  async run(signal: AbortSignal): Promise<void> {
    let backoffMs = 0;
    while (!signal.aborted) {
      if (this.queue.length === 0) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            signal.removeEventListener('abort', done);
            resolve();
          };
          this.wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
        this.wake = null;
        continue;
      }
      const batch = this.queue.slice(0, this.o.window ?? 64);
      const results = await Promise.allSettled(
        batch.map(async (it) => {
          const t0 = this.o.now();
          const r = await this.pub.publish(it.subject, it.data, it.msgId, this.o.timeoutMs ?? 5_000);
          it.onStored?.(r.seq, t0);
          return r;
        }),
      );
      let failed = 0;
      results.forEach((r, i) => {
        const it = batch[i] as OutboxItem;
        if (r.status === 'fulfilled') {
          const at = this.queue.indexOf(it);
          if (at >= 0) this.queue.splice(at, 1);
          this.counts.stored++;
          if (r.value.duplicate) this.counts.duplicates++;
        } else failed++;
      });
      if (failed > 0) {
        this.counts.failures += failed;
        // Not connected, or the server is busy: back off (jittered by the retry count), keep everything.
        backoffMs = Math.min(5_000, Math.max(250, backoffMs * 2));
        await this.o.sleep(backoffMs, signal);
      } else backoffMs = 0;
    }
  }
}
