/**
 * What the live dispatcher knows of the market, and when. A `MarketSource` holds the window's
 * interval grid as a `DispatchInput` whose prices are NaN until published; `advance(nowMs)` fills in
 * what has been published by then. The replay source reveals history exactly as ERCOT publishes it:
 * an RT settlement point price after its interval ends (plus a publication lag), a day's DA prices
 * at 14:00 CPT the day before — the rule `rolling`'s forecast already assumes — so the causality of
 * the back-test holds on the live path too.
 */
import { MS_PER_DAY } from '../core/time.js';
import { DAM_PUBLISHED_HOUR_CPT } from '../dispatch/rolling.js';
import { cptDayIndex } from '../dispatch/calendar.js';
import type { DispatchInput } from '../dispatch/types.js';
import { cptWallToUtcMs } from '../core/ercot-time.js';

export interface MarketSource {
  /** What the dispatcher sees: the window's grid, hashprice and 4CP alerts; prices NaN until published. */
  readonly known: DispatchInput;
  /** Reveals what has been published by nowMs; returns the number of newly known prices. */
  advance(nowMs: number): Promise<number>;
  /** When the next price is due to be published (the clock may sleep until then), UTC ms; Infinity when none. */
  nextPublicationMs(nowMs: number): number;
  /** For /v1/ops: what the source is and how current. */
  describe(): Record<string, unknown>;
}

/** UTC ms at which the DA prices of the CPT day `dayIndex` are published (14:00 CPT the day before). */
export function daPublishedMs(dayIndex: number): number {
  const d = new Date((dayIndex - 1) * MS_PER_DAY);
  return cptWallToUtcMs({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }, DAM_PUBLISHED_HOUR_CPT * 60);
}

export interface ReplayMarketOptions {
  /** ERCOT posts an interval's RT settlement point price a few minutes after it ends, ms. */
  rtPublicationLagMs: number;
}

/** A copy of the input with every price unknown (NaN): the starting point of a live view. */
export function unpublished(truth: DispatchInput): DispatchInput {
  return {
    ...truth,
    rtPriceUsdPerMWh: new Float64Array(truth.startMs.length).fill(NaN),
    daPriceUsdPerMWh: new Float64Array(truth.startMs.length).fill(NaN),
  };
}

/** History replayed as it was published. `truth` is what settles (the back-test's input). */
export class ReplayMarket implements MarketSource {
  readonly known: DispatchInput;
  private readonly rtAt: Float64Array;
  private readonly daAt: Float64Array;
  private rtNext = 0;
  private daNext = 0;
  private revealed = 0;

  constructor(
    readonly truth: DispatchInput,
    private readonly o: ReplayMarketOptions,
  ) {
    this.known = unpublished(truth);
    const n = truth.startMs.length;
    const intervalMs = truth.intervalMinutes * 60_000;
    this.rtAt = new Float64Array(n);
    this.daAt = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      const start = truth.startMs[t] as number;
      this.rtAt[t] = start + intervalMs + o.rtPublicationLagMs;
      this.daAt[t] = daPublishedMs(cptDayIndex(start));
    }
  }

  advance(nowMs: number): Promise<number> {
    return Promise.resolve(this.reveal(nowMs));
  }

  private reveal(nowMs: number): number {
    let count = 0;
    const n = this.truth.startMs.length;
    while (this.rtNext < n && (this.rtAt[this.rtNext] as number) <= nowMs) {
      this.known.rtPriceUsdPerMWh[this.rtNext] = this.truth.rtPriceUsdPerMWh[this.rtNext] as number;
      this.rtNext++;
      count++;
    }
    // Both publication times ascend with t (intervals are in order), so a cursor each reveals them.
    while (this.daNext < n && (this.daAt[this.daNext] as number) <= nowMs) {
      const t = this.daNext;
      this.known.daPriceUsdPerMWh[t] = this.truth.daPriceUsdPerMWh[t] as number;
      this.daNext++;
      count++;
    }
    this.revealed += count;
    return count;
  }

  nextPublicationMs(nowMs: number): number {
    const n = this.truth.startMs.length;
    const rt = this.rtNext < n ? (this.rtAt[this.rtNext] as number) : Infinity;
    const da = this.daNext < n ? (this.daAt[this.daNext] as number) : Infinity;
    return Math.max(nowMs, Math.min(rt, da));
  }

  /** Index of the last interval whose RT price is known, −1 before the first. */
  get lastKnownRtIndex(): number {
    return this.rtNext - 1;
  }

  describe(): Record<string, unknown> {
    const last = this.rtNext - 1;
    return {
      kind: 'replay',
      rtPublicationLagS: this.o.rtPublicationLagMs / 1000,
      rtPricesPublished: this.rtNext,
      daPricesPublished: this.daNext,
      intervals: this.truth.startMs.length,
      latestRtInterval: last >= 0 ? new Date(this.truth.startMs[last] as number).toISOString() : null,
      latestRtPriceUsdPerMWh: last >= 0 ? this.truth.rtPriceUsdPerMWh[last] : null,
    };
  }
}
