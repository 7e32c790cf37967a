/**
 * A shard's mining target: the cap its coordinator allocated. The shard's own agent stays in
 * charge of safety: a cap is held for `holdMs` after it arrived; past that (the coordinator is
 * silent) the target goes stale and the agent's safe mode — `curtail-all` for shards — sheds every
 * machine it can (what it cannot shed is its minimum). Time comes from the injected clock.
 */
import type { Clock } from '../../core/time.js';
import type { TargetProvider } from '../agent/targets.js';
import type { TargetInput } from '../agent/types.js';

export class CoordinatorCapTarget implements TargetProvider {
  readonly source = 'coordinator' as const;
  private capMW: number;
  private seq = -1;
  private atMs: number;
  /** The seq of the cap the last tick took. */
  lastSeqUsed = -1;

  constructor(
    initialCapMW: number,
    private readonly holdMs: number,
    private readonly clock: Clock,
  ) {
    this.capMW = initialCapMW;
    this.atMs = clock.nowMs();
  }

  /** A cap from the coordinator; says whether it changed (the shard then ticks early). */
  set(seq: number, capMW: number): boolean {
    if (seq <= this.seq) return false;
    const changed = Math.abs(capMW - this.capMW) > 1e-6;
    this.seq = seq;
    this.capMW = capMW;
    this.atMs = this.clock.nowMs();
    return changed;
  }

  get cap(): { seq: number; capMW: number; atMs: number } {
    return { seq: this.seq, capMW: this.capMW, atMs: this.atMs };
  }

  /** True once the coordinator has been silent past the hold. */
  expired(nowMs: number): boolean {
    return nowMs - this.atMs > this.holdMs;
  }

  current(nowMs: number): Promise<TargetInput> {
    this.lastSeqUsed = this.seq;
    if (this.expired(nowMs)) {
      return Promise.resolve({ source: 'coordinator', stale: true, reason: `no cap from the coordinator for ${Math.round((nowMs - this.atMs) / 1000)} s (hold ${Math.round(this.holdMs / 1000)} s)` });
    }
    // Tick again when the hold runs out, so the fallback starts on time.
    return Promise.resolve({ source: 'coordinator', stale: false, targetMW: this.capMW, nextChangeAtMs: this.atMs + this.holdMs + 1 });
  }

  describe(): Record<string, unknown> {
    return { source: 'coordinator', capMW: this.capMW, capSeq: this.seq, capAtMs: this.atMs, holdMs: this.holdMs };
  }
}
