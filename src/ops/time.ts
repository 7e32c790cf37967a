/**
 * The clock a running site lives on. Live: the wall clock. A replay: the replayed window's time,
 * either `scaled` (K times faster than the wall: a demo one can watch) or `virtual` (as fast as the
 * machines answer: the clock jumps to the next thing anyone waits for once every actor is asleep).
 *
 * Virtual time is what makes a month replayable in minutes with the real agent and the simulator on
 * real sockets: nothing sleeps for real, yet every device exchange still happens, in order. An
 * *actor* (the agent loop) moves time only by sleeping; time never jumps while an actor is busy
 * (reading miners, solving), so its work takes no virtual time and actuator latency is the
 * simulator's own (its physics runs on this clock). Passive waits (`until`) never move time.
 */
import { systemClock, waitMs, type Clock } from '../core/time.js';

export interface TimeSource {
  readonly kind: 'wall' | 'scaled' | 'virtual';
  readonly clock: Clock;
  /** An actor's sleep (the agent's pauses and verify polls). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Resolves when the clock reaches atMs (or `signal` aborts); never moves time itself. */
  until(atMs: number, signal?: AbortSignal): Promise<void>;
}


/** Waits in slices of at most a minute so a changed clock is noticed. */
async function untilBy(clock: Clock, sleep: (ms: number, s?: AbortSignal) => Promise<void>, atMs: number, signal?: AbortSignal): Promise<void> {
  while (!signal?.aborted && clock.nowMs() < atMs) await sleep(Math.min(60_000, atMs - clock.nowMs()), signal);
}

export function wallTime(clock: Clock = systemClock): TimeSource {
  return { kind: 'wall', clock, sleep: waitMs, until: (at, s) => untilBy(clock, waitMs, at, s) };
}

/** Starts at startMs and runs `speed` times faster than the wall. */
export function scaledTime(startMs: number, speed: number, wall: Clock = systemClock): TimeSource {
  const w0 = wall.nowMs();
  const clock: Clock = { nowMs: () => startMs + (wall.nowMs() - w0) * speed };
  const sleep = (ms: number, signal?: AbortSignal) => waitMs(ms / speed, signal);
  return { kind: 'scaled', clock, sleep, until: (at, s) => untilBy(clock, sleep, at, s) };
}

interface Waiter {
  atMs: number;
  actor: boolean;
  resolve: () => void;
}

/** Event-driven virtual time: see the file comment. `actors` is how many loops must sleep before time moves. */
export class VirtualTime implements TimeSource {
  readonly kind = 'virtual' as const;
  readonly clock: Clock;
  private nowMs: number;
  private waiters: Waiter[] = [];
  private sleepingActors = 0;
  private scheduled = false;
  /** Jumps made so far (for the benchmark: how often the replay waited). */
  jumps = 0;

  constructor(
    startMs: number,
    private readonly actors = 1,
  ) {
    this.nowMs = startMs;
    this.clock = { nowMs: () => this.nowMs };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.wait(this.nowMs + Math.max(0, ms), true, signal);
  }

  until(atMs: number, signal?: AbortSignal): Promise<void> {
    return this.wait(atMs, false, signal);
  }

  private wait(atMs: number, actor: boolean, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || atMs <= this.nowMs) return Promise.resolve();
    return new Promise((resolve) => {
      const w: Waiter = {
        atMs,
        actor,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          if (actor) this.sleepingActors--;
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          w.resolve();
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
      if (actor) this.sleepingActors++;
      this.schedule();
    });
  }

  /**
   * Moves time once every actor sleeps. setImmediate runs after pending I/O callbacks, so replies
   * already on the wire are handled first; a reply still in flight keeps its actor awake anyway.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.sleepingActors < this.actors || this.waiters.length === 0) return;
      let next = Infinity;
      for (const w of this.waiters) if (w.actor && w.atMs < next) next = w.atMs;
      if (next === Infinity) return;
      if (next > this.nowMs) {
        this.nowMs = next;
        this.jumps++;
      }
      const due = this.waiters.filter((w) => w.atMs <= this.nowMs);
      this.waiters = this.waiters.filter((w) => w.atMs > this.nowMs);
      for (const w of due) w.resolve();
    });
  }
}
