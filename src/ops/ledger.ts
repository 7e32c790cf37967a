/**
 * The live ledger: what the site has earned and paid so far, from the power it actually drew.
 * Power samples (per fleet from the miners' own readings, per AI load from its actuator or meter)
 * are integrated per settlement interval into a *realized* plan, which the back-test's `settle()`
 * prices at the realized RT prices — the same function, the same streams, so a replayed window
 * can be compared with `mullet backtest` line by line.
 */
import { cptDayIndex, cptMonth } from '../dispatch/calendar.js';
import { settle, type Ledger, type LedgerTotals } from '../dispatch/ledger.js';
import type { DispatchInput, Plan } from '../dispatch/types.js';

export interface PowerSample {
  atMs: number;
  /** Per site.fleets: MW at the meter (miners' power × the fleet's PUE). */
  fleetMW: readonly number[];
  /** Per site.ai: IT MW drawn. */
  aiItMW: readonly number[];
  /** The site meter, MW, when one is read. */
  meterMW?: number;
}

/** The window [a, b) of an input, for settling part of it (4CP peaks outside it simply find no candidate). */
export function sliceInput(input: DispatchInput, a: number, b: number): DispatchInput {
  return {
    ...input,
    startMs: input.startMs.subarray(a, b),
    rtPriceUsdPerMWh: input.rtPriceUsdPerMWh.subarray(a, b),
    hashpriceUsdPerPhDay: input.hashpriceUsdPerPhDay.subarray(a, b),
    daPriceUsdPerMWh: input.daPriceUsdPerMWh.subarray(a, b),
    fourCpPeakWeight: input.fourCpPeakWeight.subarray(a, b),
    fourCpAlert: input.fourCpAlert.subarray(a, b),
    localDay: input.localDay.subarray(a, b),
  };
}

function slicePlan(plan: Plan, a: number, b: number): Plan {
  return { ...plan, fleetMW: plan.fleetMW.map((x) => x.subarray(a, b)), aiItMW: plan.aiItMW.map((x) => x.subarray(a, b)), reason: plan.reason.map((x) => x.subarray(a, b)) };
}

export type Stream = 'ai' | 'mining' | 'powerResale' | 'aiFlex' | 'aiPassThrough' | 'energy' | 'ppa' | 'transmission';
export const STREAMS: readonly Stream[] = ['ai', 'mining', 'powerResale', 'aiFlex', 'aiPassThrough', 'energy', 'ppa', 'transmission'];

export interface PeriodTotals {
  period: 'today' | 'month' | 'run';
  /** First and last interval start included, ISO (null when empty). */
  from: string | null;
  to: string | null;
  intervals: number;
  totals: LedgerTotals | null;
}

export interface LedgerSummary {
  /** Intervals settled (complete and priced). */
  settledIntervals: number;
  periods: PeriodTotals[];
  /** The latest settled interval's rate by stream, USD/h (costs negative). */
  usdPerHourByStream: Record<Stream, number>;
  /** Metered site energy over the settled intervals, MWh (null without a meter). */
  meteredMWh: number | null;
}

export class LiveLedger {
  private readonly energyFleet: Float64Array[];
  private readonly energyAi: Float64Array[];
  private readonly covered: Float64Array;
  private readonly meterMWh: Float64Array;
  private readonly meterCovered: Float64Array;
  private last: PowerSample | null = null;
  private readonly intervalMs: number;

  constructor(readonly truth: DispatchInput) {
    const n = truth.startMs.length;
    this.energyFleet = truth.site.fleets.map(() => new Float64Array(n));
    this.energyAi = truth.site.ai.map(() => new Float64Array(n));
    this.covered = new Float64Array(n);
    this.meterMWh = new Float64Array(n);
    this.meterCovered = new Float64Array(n);
    this.intervalMs = truth.intervalMinutes * 60_000;
  }

  /** A new sample: the previous one's levels held from its time to this one's. */
  record(s: PowerSample): void {
    if (this.last && s.atMs > this.last.atMs) this.integrate(this.last, this.last.atMs, s.atMs);
    if (!this.last || s.atMs >= this.last.atMs) this.last = s;
  }

  /** Carries the latest levels up to nowMs (at the end of a run). */
  flush(nowMs: number): void {
    if (!this.last || nowMs <= this.last.atMs) return;
    this.integrate(this.last, this.last.atMs, nowMs);
    this.last = { ...this.last, atMs: nowMs };
  }

  private integrate(s: PowerSample, fromMs: number, toMs: number): void {
    const start = this.truth.startMs;
    const n = start.length;
    // Intervals are contiguous in a window without gaps; a gap simply receives nothing.
    let t = this.indexAt(fromMs);
    for (; t < n; t++) {
      const a = Math.max(fromMs, start[t] as number);
      const b = Math.min(toMs, (start[t] as number) + this.intervalMs);
      if (a >= toMs) break;
      if (b <= a) continue;
      const h = (b - a) / 3_600_000;
      this.covered[t] = (this.covered[t] as number) + h;
      s.fleetMW.forEach((mw, f) => ((this.energyFleet[f] as Float64Array)[t] = ((this.energyFleet[f] as Float64Array)[t] as number) + mw * h));
      s.aiItMW.forEach((mw, k) => ((this.energyAi[k] as Float64Array)[t] = ((this.energyAi[k] as Float64Array)[t] as number) + mw * h));
      if (s.meterMW !== undefined) {
        this.meterMWh[t] = (this.meterMWh[t] as number) + s.meterMW * h;
        this.meterCovered[t] = (this.meterCovered[t] as number) + h;
      }
    }
  }

  private indexAt(ms: number): number {
    const s = this.truth.startMs;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((s[mid] as number) + this.intervalMs <= ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Intervals [0, k) that have ended by nowMs. */
  completeBefore(nowMs: number): number {
    const k = Math.min(this.truth.startMs.length, this.indexAt(nowMs));
    // Live, an interval settles once its price is published.
    for (let t = 0; t < k; t++) if (Number.isNaN(this.truth.rtPriceUsdPerMWh[t])) return t;
    return k;
  }

  /** The realized plan of intervals [0, k): average MW drawn in each (its covered part). */
  realizedPlan(k: number, policy = 'live'): Plan {
    const avg = (e: Float64Array) => {
      const out = new Float64Array(k);
      for (let t = 0; t < k; t++) {
        const h = this.covered[t] as number;
        out[t] = h > 0 ? (e[t] as number) / h : 0;
      }
      return out;
    };
    return { policy, fleetMW: this.energyFleet.map(avg), aiItMW: this.energyAi.map(avg), reason: this.energyFleet.map(() => new Uint8Array(k)) };
  }

  /** Settles intervals [a, b) with the back-test's settle(). */
  settle(a: number, b: number): Ledger {
    const plan = this.realizedPlan(b);
    return settle(sliceInput(this.truth, a, b), slicePlan(plan, a, b));
  }

  /** Metered energy over [0, k), MWh, scaled up where the meter covered part of an interval; null without readings. */
  meteredMWh(k: number): number | null {
    let e = 0;
    let any = false;
    const dt = this.truth.intervalMinutes / 60;
    for (let t = 0; t < k; t++) {
      const h = this.meterCovered[t] as number;
      if (h <= 0) continue;
      any = true;
      e += ((this.meterMWh[t] as number) / h) * dt;
    }
    return any ? e : null;
  }

  /** Highest interval-average metered site power over [0, k), MW (null without readings). */
  maxMeteredMW(k: number): number | null {
    let max: number | null = null;
    for (let t = 0; t < k; t++) {
      const h = this.meterCovered[t] as number;
      if (h > 0) max = Math.max(max ?? -Infinity, (this.meterMWh[t] as number) / h);
    }
    return max;
  }

  summary(nowMs: number): LedgerSummary {
    const k = this.completeBefore(nowMs);
    const start = this.truth.startMs;
    const periods: PeriodTotals[] = [];
    const lastIdx = k - 1;
    const period = (name: PeriodTotals['period'], same: (t: number) => boolean) => {
      let a = k;
      while (a > 0 && same(a - 1)) a--;
      const ledger = k > a ? this.settle(a, k) : null;
      periods.push({ period: name, from: k > a ? new Date(start[a] as number).toISOString() : null, to: k > a ? new Date(start[k - 1] as number).toISOString() : null, intervals: k - a, totals: ledger ? ledger.totals : null });
      return ledger;
    };
    const day = cptDayIndex(nowMs);
    const month = cptMonth(nowMs);
    period('today', (t) => cptDayIndex(start[t] as number) === day);
    period('month', (t) => cptMonth(start[t] as number) === month);
    const run = period('run', () => true);
    const rate = {} as Record<Stream, number>;
    const dt = this.truth.intervalMinutes / 60;
    for (const s of STREAMS) {
      if (!run || lastIdx < 0) {
        rate[s] = 0;
        continue;
      }
      const isCost = s === 'energy' || s === 'ppa' || s === 'transmission';
      const arr = isCost ? run.cost[s] : run.revenue[s];
      const v = (arr[lastIdx] as number) / dt;
      rate[s] = isCost ? -v : v;
    }
    return { settledIntervals: k, periods, usdPerHourByStream: rate, meteredMWh: this.meteredMWh(k) };
  }
}
