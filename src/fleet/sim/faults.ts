import { z } from 'zod';
import { Rng } from './rng.js';

/**
 * Faults a simulated miner can show, on demand (control API) or at a seeded random rate.
 *  - timeout:      accept, read the request, never answer (the socket is dropped after `holdMs`)
 *  - refused:      listeners closed for `durationMs` (connect → ECONNREFUSED), then reopened
 *  - truncated:    the first half of the reply, no NUL terminator, then close
 *  - garbage:      seeded random bytes instead of the reply, then close
 *  - reboot:       the next request is dropped unanswered (and not executed); the miner reboots for
 *                  `rebootMs` of sim time (listeners closed), then ramps back to mining
 *  - ignore-sleep: sleep/pause/power-off commands are acknowledged but the miner keeps mining
 *                  (also drawn at the random rate for each sleep command)
 *  - auth-expiry:  one-shot: the LuxOS session, every Whatsminer token and every digest nonce
 *                  issued so far become invalid (stale nonce → 401 stale=true)
 * Lying devices (what the agent believes against what the miner does; until cleared or `durationMs`):
 *  - lie-summary:  stock Antminer summary.cgi reports 0 GH/s while the miner hashes (bmminer
 *                  restarting under a config write); cgminer `stats` tells the truth
 *  - implausible:  every reply reports 10¹² W of power and a negative hashrate
 *  - fake-sleep:   every read says asleep (zero hashrate, sleep mode, standby power) while the
 *                  miner hashes at full power: only the site meter can tell
 * Per-request kinds (timeout, truncated, garbage, reboot) apply to the next `count` requests (default
 * 1) or, with `durationMs`, to every request until it passes. Durations are wall-clock ms.
 */
export const FAULT_KINDS = ['timeout', 'refused', 'truncated', 'garbage', 'reboot', 'ignore-sleep', 'auth-expiry', 'lie-summary', 'implausible', 'fake-sleep'] as const;
/** Faults that change what the miner reports, not how it answers. */
export type LyingFault = 'lie-summary' | 'implausible' | 'fake-sleep';
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which listener a per-request fault applies to (stock Antminers have two). */
export const FAULT_PORTS = ['any', 'api', 'http'] as const;
export type FaultPort = (typeof FAULT_PORTS)[number];

export const FaultSpecSchema = z.strictObject({
  kind: z.enum(FAULT_KINDS),
  count: z.number().int().positive().max(1_000_000_000).optional(),
  // At most a day: beyond, a "transient" fault is a dead miner (power-off is the action for that).
  durationMs: z.number().positive().max(86_400_000).optional(),
  /** Sim ms the reboot fault keeps the miner rebooting (default: the firmware's boot time). */
  rebootMs: z.number().positive().max(86_400_000).optional(),
  port: z.enum(FAULT_PORTS).optional(),
});
export type FaultSpec = z.output<typeof FaultSpecSchema>;

export interface ActiveFault {
  readonly kind: FaultKind;
  remaining: number;
  readonly untilWallMs: number;
  readonly rebootMs: number | undefined;
  readonly port: FaultPort;
}

export type RequestFault = { readonly kind: 'timeout' | 'truncated' | 'garbage' } | { readonly kind: 'reboot'; readonly rebootMs: number | undefined } | { readonly kind: 'refused'; readonly durationMs: number };

/** Default time listeners stay closed for a refused fault without a duration, wall ms. */
export const DEFAULT_REFUSED_MS = 5_000;
/** Random refused faults are short: the listeners come back after this, wall ms. */
const RANDOM_REFUSED_MS = 2_000;

const PER_REQUEST: ReadonlySet<FaultKind> = new Set(['timeout', 'truncated', 'garbage', 'reboot']);

/** Weights of the kinds drawn at the random fault rate (transient faults only). */
const RANDOM_WEIGHTS: readonly (readonly [FaultKind, number])[] = [
  ['timeout', 0.3],
  ['truncated', 0.2],
  ['garbage', 0.2],
  ['refused', 0.15],
  ['auth-expiry', 0.1],
  ['reboot', 0.05],
];

/** Per-miner fault state: a short list of active faults plus the seeded random stream. */
export class FaultState {
  private active: ActiveFault[] = [];
  private readonly rng: Rng;

  constructor(
    seed: number,
    /** Probability that any one request draws a random fault. */
    private readonly rate: number,
  ) {
    this.rng = new Rng(seed ^ 0x5eed);
  }

  /** Adds a fault; returns what the host must do at once (refused closes listeners, auth-expiry invalidates). */
  add(spec: FaultSpec, wallMs: number): void {
    const untilWallMs = spec.durationMs === undefined ? Infinity : wallMs + spec.durationMs;
    const remaining = spec.count ?? (spec.durationMs === undefined && PER_REQUEST.has(spec.kind) ? 1 : Infinity);
    this.active.push({ kind: spec.kind, remaining, untilWallMs, rebootMs: spec.rebootMs, port: spec.port ?? 'any' });
  }

  clear(): void {
    this.active = [];
  }

  /** Active faults (expired ones pruned), for ground truth. */
  list(wallMs: number): readonly ActiveFault[] {
    this.prune(wallMs);
    return this.active;
  }

  private prune(wallMs: number): void {
    if (this.active.length === 0) return;
    this.active = this.active.filter((f) => f.remaining > 0 && f.untilWallMs > wallMs);
  }

  /** The fault the next request on `port` gets (consuming one use), or undefined. */
  takeRequestFault(port: 'api' | 'http', wallMs: number): RequestFault | undefined {
    this.prune(wallMs);
    for (const f of this.active) {
      if (!PER_REQUEST.has(f.kind) || (f.port !== 'any' && f.port !== port)) continue;
      f.remaining--;
      if (f.kind === 'reboot') return { kind: 'reboot', rebootMs: f.rebootMs };
      return { kind: f.kind as 'timeout' | 'truncated' | 'garbage' };
    }
    return undefined;
  }

  /**
   * A random fault for this request at the configured rate, or undefined. Drawn from the miner's
   * own seeded stream, so a given request sequence always meets the same faults.
   */
  drawRandom(): RequestFault | { readonly kind: 'auth-expiry' } | undefined {
    if (this.rate <= 0 || this.rng.next() >= this.rate) return undefined;
    let x = this.rng.next();
    for (const [kind, w] of RANDOM_WEIGHTS) {
      x -= w;
      if (x < 0) return this.randomOf(kind);
    }
    return { kind: 'timeout' };
  }

  private randomOf(kind: FaultKind): RequestFault | { readonly kind: 'auth-expiry' } {
    switch (kind) {
      case 'refused':
        return { kind: 'refused', durationMs: RANDOM_REFUSED_MS };
      case 'reboot':
        return { kind: 'reboot', rebootMs: undefined };
      case 'auth-expiry':
        return { kind: 'auth-expiry' };
      case 'timeout':
      case 'truncated':
      case 'garbage':
        return { kind };
      case 'ignore-sleep':
      case 'lie-summary':
      case 'implausible':
      case 'fake-sleep':
        // Not drawn at random (RANDOM_WEIGHTS has no such entry).
        return { kind: 'timeout' };
    }
  }

  /**
   * True when a sleep command must be acknowledged but not executed: an active ignore-sleep
   * fault (consumes one use), or a random draw at the fault rate (a flaky firmware).
   */
  takeIgnoreSleep(wallMs: number): boolean {
    this.prune(wallMs);
    const f = this.active.find((a) => a.kind === 'ignore-sleep');
    if (f) {
      f.remaining--;
      return true;
    }
    return this.rate > 0 && this.rng.next() < this.rate;
  }

  /** True while a lying fault of this kind is active. */
  lies(kind: LyingFault, wallMs: number): boolean {
    this.prune(wallMs);
    return this.active.some((f) => f.kind === kind);
  }

  /** Until when listeners must stay closed for a refused fault (0 when none). */
  refusedUntil(wallMs: number): number {
    this.prune(wallMs);
    let until = 0;
    for (const f of this.active) if (f.kind === 'refused') until = Math.max(until, f.untilWallMs);
    return until;
  }

  /** Seeded garbage: 16–200 bytes, often not UTF-8. */
  garbage(): Buffer {
    const n = 16 + this.rng.int(185);
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.rng.int(256);
    return b;
  }
}
