/**
 * The live dispatcher: the agent's target source under `mullet ops`. As each settlement interval
 * starts it runs the site's policy — `rolling` (the back-test's own stepper: one re-optimization per
 * step on what the market source has published) or `strike` — for that interval, and hands the
 * agent the interval's mining MW and the level of each curtailable AI load. Intervals are decided
 * in order, exactly once; an agent that wakes late (a long tick) catches up interval by interval,
 * as the back-test would have decided them.
 *
 * Timing: an interval is decided once the previous interval's RT price is published (ERCOT posts it
 * minutes after the interval ends) or `maxPriceWaitMs` after the interval starts, whichever comes
 * first; until then the previous interval's target holds. A market whose newest RT price is older
 * than `staleAfterMs` is stale: the agent's safe mode applies (hold or curtail-all), visibly.
 * A failed solve runs the strike rule for that step (the rolling policy's documented safe fallback),
 * counted and noted.
 */
import type { LpSolver } from '../dispatch/lp/solver.js';
import { rollingStepper, type RollingStepper } from '../dispatch/rolling.js';
import { strikeStepper, type StrikeStepper } from '../dispatch/strike.js';
import { REASON_NAMES, type Plan, type PolicyResult } from '../dispatch/types.js';
import type { TargetProvider } from '../fleet/agent/targets.js';
import type { TargetInput } from '../fleet/agent/types.js';
import type { MarketSource } from './market.js';

export const LIVE_POLICIES = ['rolling', 'strike'] as const;
export type LivePolicy = (typeof LIVE_POLICIES)[number];

export interface IntervalDecision {
  index: number;
  startMs: number;
  /** When it was decided (the clock of the run), UTC ms. */
  decidedAtMs: number;
  /** The previous interval's RT price was known when deciding (false: decided on an older one). */
  priceKnown: boolean;
  fleetMW: number[];
  /** Per site.ai: IT MW served. */
  aiItMW: number[];
  reasons: string[];
  /** This interval ran the safe fallback (solver failed or timed out). */
  fallback: boolean;
  /** Solve time of the step this interval began, s (0 when it continued a step). */
  solveSeconds: number;
}

export interface LiveDispatcherOptions {
  market: MarketSource;
  policy: LivePolicy;
  solver?: LpSolver;
  /** Longest wait for the previous interval's price after an interval starts, ms. */
  maxPriceWaitMs: number;
  /** The market is stale when its newest RT price's interval ended longer ago than this, ms. */
  staleAfterMs: number;
  /** Wall-clock reader for solve times (performance.now in production). */
  perfNowMs?: () => number;
  onDecision?: (d: IntervalDecision) => void;
  /** Why the market cannot be trusted now although prices look current (a live feed stale or stopped), else null. */
  marketProblem?: () => string | null;
}

export class LiveDispatcher implements TargetProvider {
  readonly source = 'dispatch' as const;
  private readonly rolling: RollingStepper | null;
  private readonly strike: StrikeStepper | null;
  private readonly intervalMs: number;
  /** Index of the last decided interval. */
  private decided = -1;
  private stepEnd = 0;
  private lastSolveSeconds = 0;
  private fallbacks = 0;
  private lateDecisions = 0;
  private readonly decisions: IntervalDecision[] = [];
  private readonly perf: () => number;

  constructor(private readonly o: LiveDispatcherOptions) {
    const input = o.market.known;
    this.intervalMs = input.intervalMinutes * 60_000;
    const perf = (this.perf = o.perfNowMs ?? (() => performance.now()));
    if (o.policy === 'rolling') {
      if (!o.solver) throw new Error('the rolling policy needs an LP solver');
      this.rolling = rollingStepper(input, { solver: o.solver, nowMs: perf });
      this.strike = null;
    } else {
      this.rolling = null;
      this.strike = strikeStepper(input, { nowMs: perf });
    }
  }

  get plan(): Plan {
    return (this.rolling ?? this.strike)!.plan;
  }

  /** Intervals decided so far (0..decidedCount−1 are final). */
  get decidedCount(): number {
    return this.decided + 1;
  }

  get safeFallbacks(): number {
    return this.fallbacks;
  }

  /** The policy result over the decided intervals (for the ledger and the replay's report). */
  result(): PolicyResult {
    return (this.rolling ?? this.strike)!.finish();
  }

  lastDecision(): IntervalDecision | undefined {
    return this.decisions[this.decisions.length - 1];
  }

  /** Index of the interval containing nowMs, −1 before the window, n after it. */
  intervalAt(nowMs: number): number {
    const s = this.o.market.known.startMs;
    const n = s.length;
    if (n === 0 || nowMs < (s[0] as number)) return -1;
    if (nowMs >= (s[n - 1] as number) + this.intervalMs) return n;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((s[mid] as number) <= nowMs) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Reveals what the market has published by nowMs, then decides what is due and returns the target in force. */
  async current(nowMs: number): Promise<TargetInput> {
    await this.o.market.advance(nowMs);
    return this.at(nowMs);
  }

  /** Decides what is due by nowMs on what the market has revealed so far (synchronous: the core is). */
  at(nowMs: number): TargetInput {
    const m = this.o.market;
    const input = m.known;
    const n = input.startMs.length;
    const t = this.intervalAt(nowMs);
    if (t < 0) return { source: 'dispatch', stale: true, reason: `before the market window (starts ${new Date(input.startMs[0] ?? NaN).toISOString()})`, nextChangeAtMs: input.startMs[0] as number };
    if (t >= n) return { source: 'dispatch', stale: true, reason: 'past the end of the market window' };
    if (Number.isNaN(input.hashpriceUsdPerPhDay[t])) {
      return { source: 'dispatch', stale: true, reason: 'no hashprice yet (the market store holds no Bitcoin day up to now)', nextChangeAtMs: m.nextPublicationMs(nowMs) };
    }
    let waitUntil: number | undefined;
    while (this.decided < t) {
      const k = this.decided + 1;
      const start = input.startMs[k] as number;
      const priceKnown = k === 0 || !Number.isNaN(input.rtPriceUsdPerMWh[k - 1]);
      if (!priceKnown && k === t && nowMs < start + this.o.maxPriceWaitMs) {
        // Hold the previous target until the price is published or the wait runs out.
        waitUntil = Math.min(start + this.o.maxPriceWaitMs, m.nextPublicationMs(nowMs));
        break;
      }
      this.decide(k, nowMs, priceKnown);
    }
    const problem = this.o.marketProblem?.() ?? null;
    if (problem !== null) return { source: 'dispatch', stale: true, reason: problem, nextChangeAtMs: Math.min(this.nextBoundary(t), m.nextPublicationMs(nowMs)) };
    const newest = this.newestRtEndMs();
    if (nowMs - newest > this.o.staleAfterMs) {
      return { source: 'dispatch', stale: true, reason: `no RT price since the interval ending ${new Date(newest).toISOString()} (older than ${Math.round(this.o.staleAfterMs / 1000)} s)`, nextChangeAtMs: Math.min(this.nextBoundary(t), m.nextPublicationMs(nowMs)) };
    }
    if (this.decided < 0) return { source: 'dispatch', stale: true, reason: 'waiting for the first price', ...(waitUntil !== undefined ? { nextChangeAtMs: waitUntil } : {}) };
    const d = this.decisions[this.decisions.length - 1] as IntervalDecision;
    const site = input.site;
    const aiMW: Record<string, number> = {};
    site.ai.forEach((a, i) => {
      if (a.kind === 'capped') aiMW[a.name] = (d.aiItMW[i] as number) * a.pue;
    });
    const targetMW = d.fleetMW.reduce((a, b) => a + b, 0);
    return {
      source: 'dispatch',
      stale: false,
      targetMW,
      aiMW,
      note: `${this.o.policy} interval ${new Date(d.startMs).toISOString()}${d.fallback ? ' (SAFE FALLBACK: strike rule)' : ''}${waitUntil !== undefined ? ' (holding: price not yet published)' : ''}`,
      nextChangeAtMs: waitUntil ?? this.nextBoundary(t),
    };
  }

  private nextBoundary(t: number): number {
    const s = this.o.market.known.startMs;
    return t + 1 < s.length ? (s[t + 1] as number) : (s[t] as number) + this.intervalMs;
  }

  /** End of the newest interval with a published RT price (the window start before any), UTC ms. */
  private newestRtEndMs(): number {
    const input = this.o.market.known;
    for (let k = Math.min(this.decided + 1, input.startMs.length - 1); k >= 0; k--) {
      if (!Number.isNaN(input.rtPriceUsdPerMWh[k])) return (input.startMs[k] as number) + this.intervalMs;
    }
    return input.startMs[0] as number;
  }

  private decide(k: number, nowMs: number, priceKnown: boolean): void {
    let solveSeconds = 0;
    if (this.rolling) {
      if (k >= this.stepEnd) {
        const t0 = this.perf();
        this.stepEnd = this.rolling.beginStep(k);
        solveSeconds = (this.perf() - t0) / 1000;
        this.lastSolveSeconds = solveSeconds;
        if (this.rolling.fellBack) this.fallbacks++;
      }
      this.rolling.decideInterval(k);
    } else this.strike!.decideInterval(k);
    this.decided = k;
    if (!priceKnown) this.lateDecisions++;
    const plan = this.plan;
    const d: IntervalDecision = {
      index: k,
      startMs: this.o.market.known.startMs[k] as number,
      decidedAtMs: nowMs,
      priceKnown,
      fleetMW: plan.fleetMW.map((a) => a[k] as number),
      aiItMW: plan.aiItMW.map((a) => a[k] as number),
      reasons: plan.reason.map((a) => REASON_NAMES[a[k] as number] ?? ''),
      fallback: this.rolling ? this.rolling.fellBack : false,
      solveSeconds,
    };
    this.decisions.push(d);
    if (this.decisions.length > 200) this.decisions.splice(0, this.decisions.length - 100);
    this.o.onDecision?.(d);
  }

  describe(): Record<string, unknown> {
    const d = this.lastDecision();
    return {
      source: 'dispatch',
      policy: this.o.policy,
      market: this.o.market.describe(),
      intervalsDecided: this.decidedCount,
      safeFallbacks: this.fallbacks,
      decidedWithoutLatestPrice: this.lateDecisions,
      lastSolveSeconds: this.lastSolveSeconds,
      lastDecision: d ? { ...d, startMs: undefined, interval: new Date(d.startMs).toISOString(), decidedAt: new Date(d.decidedAtMs).toISOString() } : null,
    };
  }
}
