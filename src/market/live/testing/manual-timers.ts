import type { FakeClock } from '../../../core/time.js';
import type { TimerHandle, Timers } from '../feeds.js';

/**
 * Test-only timers on a FakeClock: nothing fires until the test advances time; due callbacks run in
 * time order, the clock set to each one's due time first. No wall time passes.
 */
export class ManualTimers implements Timers {
  private seq = 0;
  private readonly pending: { atMs: number; seq: number; fn: () => void; cancelled: boolean }[] = [];

  constructor(private readonly clock: FakeClock) {}

  after(delayMs: number, fn: () => void): TimerHandle {
    const t = { atMs: this.clock.nowMs() + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.pending.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
      },
    };
  }

  /** Due times of the live timers, soonest first. */
  dueTimes(): number[] {
    return this.pending.filter((t) => !t.cancelled).map((t) => t.atMs).sort((a, b) => a - b);
  }

  /**
   * Moves the clock to `toMs`, firing every timer due by then in order; `settle` is awaited after
   * each callback so the async work it starts (a poll) finishes before time moves on.
   */
  async advanceTo(toMs: number, settle: () => Promise<void>): Promise<void> {
    for (;;) {
      this.pending.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      const i = this.pending.findIndex((t) => !t.cancelled);
      const next = i >= 0 ? this.pending[i] : undefined;
      if (!next || next.atMs > toMs) break;
      this.pending.splice(i, 1);
      if (next.atMs > this.clock.nowMs()) this.clock.set(next.atMs);
      next.fn();
      await settle();
    }
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i]?.cancelled) this.pending.splice(i, 1);
    if (toMs > this.clock.nowMs()) this.clock.set(toMs);
  }
}
