/**
 * The live `MarketSource`: the market store the live feeds (src/market/live) fill, read as the
 * dispatcher's view of the present. The grid is fixed when the run starts — 15-minute intervals
 * from the start of today (CPT) for `windowDays` — because the rolling stepper keeps its state
 * (strike counters, the capped-AI hours budget pro-rated to the window) across the whole window.
 * `refresh` re-reads what the feeds stored: RT prices up to now, DA prices for today and tomorrow,
 * the hashprice of each day (the newest known day stands in for days not over yet) and the 4CP
 * alerts from the system load. Prices the store does not hold stay NaN: unknown, not zero.
 */
import { loadFourCpInputs } from '../backtest/data.js';
import { dailyHashprice, type HashpriceSource } from '../backtest/hashprice.js';
import { readBtcDayView } from '../market/hashprice-inputs.js';
import { MS_PER_DAY, MS_PER_MINUTE, utcDate } from '../core/time.js';
import { cptDayIndex } from '../dispatch/calendar.js';
import { prepareDispatchInput } from '../dispatch/input.js';
import type { DispatchInput } from '../dispatch/types.js';
import { cptWallToUtcMs } from '../core/ercot-time.js';
import type { Site } from '../site/types.js';
import type { MarketStore } from '../market/store-port.js';
import type { MarketSource } from './market.js';

export const LIVE_INTERVAL_MINUTES = 15;

export interface LiveStoreMarketOptions {
  site: Site;
  store: Pick<MarketStore, 'prices' | 'loads' | 'btcDays' | 'fourCpIntervals'>;
  /** The run's start, UTC ms (the grid starts at the start of its CPT day). */
  startMs: number;
  windowDays: number;
  hashprice: HashpriceSource;
  /** Re-read the store at most this often, ms (the feeds' events can force it sooner). */
  refreshMs: number;
  /** ERCOT posts an interval's price about this long after it ends: when to look again, ms. */
  expectedRtLagMs: number;
  /** Market name in the store (default the site's ISO). */
  market?: string;
}

/** The window's grid: 15-minute intervals from the start of the run's CPT day for `windowDays`, UTC ms. */
function liveWindow(o: Pick<LiveStoreMarketOptions, 'startMs' | 'windowDays'>): { fromMs: number; toMs: number } {
  const d = new Date(cptDayIndex(o.startMs) * MS_PER_DAY);
  const fromMs = cptWallToUtcMs({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }, 0);
  const intervalMs = LIVE_INTERVAL_MINUTES * MS_PER_MINUTE;
  return { fromMs, toMs: fromMs + Math.round((o.windowDays * MS_PER_DAY) / intervalMs) * intervalMs };
}

export class LiveStoreMarket implements MarketSource {
  readonly known: DispatchInput;
  private lastRefreshMs = -Infinity;
  private dirty = true;
  private readonly market: string;
  private readonly fromMs: number;
  private readonly toMs: number;
  private hashpriceNote: string | null = null;
  private readonly intervalMs = LIVE_INTERVAL_MINUTES * MS_PER_MINUTE;

  /** Opens the market over the store: the grid of the window and, when the site has 4CP, the store's system load. */
  static async open(o: LiveStoreMarketOptions): Promise<LiveStoreMarket> {
    const market = o.market ?? o.site.market.iso;
    const { fromMs, toMs } = liveWindow(o);
    const cp = o.site.transmission?.coincidentPeak ? await loadFourCpInputs(o.store, market, fromMs, toMs) : undefined;
    return new LiveStoreMarket(o, cp);
  }

  private constructor(
    private readonly o: LiveStoreMarketOptions,
    cp: Awaited<ReturnType<typeof loadFourCpInputs>> | undefined,
  ) {
    this.market = o.market ?? o.site.market.iso;
    ({ fromMs: this.fromMs, toMs: this.toMs } = liveWindow(o));
    const n = Math.round((this.toMs - this.fromMs) / this.intervalMs);
    const starts = Float64Array.from({ length: n }, (_, i) => this.fromMs + i * this.intervalMs);
    // Prices are filled by refresh(); prepareDispatchInput wants finite RT values, so zeros first.
    const { input } = prepareDispatchInput({
      site: o.site,
      intervalMinutes: LIVE_INTERVAL_MINUTES,
      fromMs: this.fromMs,
      toMs: this.toMs,
      startMs: starts,
      rtPriceUsdPerMWh: new Float64Array(n),
      hashpriceUsdPerPhDay: new Float64Array(n),
      ...(cp ? { systemLoad: cp.systemLoad, officialFourCp: cp.officialFourCp } : {}),
    });
    input.rtPriceUsdPerMWh.fill(NaN);
    input.daPriceUsdPerMWh.fill(NaN);
    this.known = input;
  }

  /** The feeds stored something: read the store at the next advance. */
  invalidate(): void {
    this.dirty = true;
  }

  async advance(nowMs: number): Promise<number> {
    if (!this.dirty && nowMs - this.lastRefreshMs < this.o.refreshMs) return 0;
    return this.refresh(nowMs);
  }

  /** Re-reads the store; returns how many prices became known. */
  async refresh(nowMs: number): Promise<number> {
    this.lastRefreshMs = nowMs;
    this.dirty = false;
    const k = this.known;
    const site = this.o.site;
    const point = site.market.settlementPoint;
    let count = 0;
    const indexOf = (ms: number): number => Math.round((ms - this.fromMs) / this.intervalMs);
    for (const p of await this.o.store.prices({ market: this.market, settlementPoint: point, kind: 'RT', fromMs: this.fromMs, toMs: Math.min(this.toMs, nowMs), intervalMinutes: LIVE_INTERVAL_MINUTES })) {
      const i = indexOf(p.intervalStartMs);
      // Only a finished interval's price is a settlement price.
      if (i < 0 || i >= k.startMs.length || p.intervalStartMs + this.intervalMs > nowMs) continue;
      if (Number.isNaN(k.rtPriceUsdPerMWh[i])) count++;
      k.rtPriceUsdPerMWh[i] = p.priceUsdPerMWh;
    }
    for (const p of await this.o.store.prices({ market: this.market, settlementPoint: point, kind: 'DA', fromMs: this.fromMs, toMs: Math.min(this.toMs, nowMs + 2 * MS_PER_DAY) })) {
      for (let t = p.intervalStartMs; t < p.intervalStartMs + p.intervalMinutes * MS_PER_MINUTE; t += this.intervalMs) {
        const i = indexOf(t);
        if (i < 0 || i >= k.startMs.length) continue;
        if (Number.isNaN(k.daPriceUsdPerMWh[i])) count++;
        k.daPriceUsdPerMWh[i] = p.priceUsdPerMWh;
      }
    }
    // Hashprice: each day up to today from the store; later days (and today, until known) carry the newest.
    const days: string[] = [];
    for (let d = Math.floor(this.fromMs / MS_PER_DAY) * MS_PER_DAY; d <= nowMs + MS_PER_DAY && d < this.toMs; d += MS_PER_DAY) days.push(utcDate(d));
    let hp = new Map<string, number>();
    try {
      hp = dailyHashprice(this.o.hashprice, days, await readBtcDayView(this.o.store, days[0] ?? utcDate(nowMs), days[days.length - 1] ?? utcDate(nowMs)));
      this.hashpriceNote = hp.size === 0 ? 'no hashprice yet: the store has no Bitcoin day in the window' : null;
    } catch (err) {
      this.hashpriceNote = `hashprice unavailable: ${err instanceof Error ? err.message : String(err)}`;
    }
    let latest = NaN;
    for (let i = 0; i < k.startMs.length; i++) {
      const v = hp.get(utcDate(k.startMs[i] as number));
      if (v !== undefined) latest = v;
      k.hashpriceUsdPerPhDay[i] = latest;
    }
    if (site.transmission?.coincidentPeak && count > 0) {
      const cp = await loadFourCpInputs(this.o.store, this.market, this.fromMs, this.toMs);
      const rt = k.rtPriceUsdPerMWh.map((v) => (Number.isNaN(v) ? 0 : v));
      const { input } = prepareDispatchInput({ site, intervalMinutes: LIVE_INTERVAL_MINUTES, fromMs: this.fromMs, toMs: this.toMs, startMs: k.startMs, rtPriceUsdPerMWh: rt, hashpriceUsdPerPhDay: k.hashpriceUsdPerPhDay.map((v) => (Number.isNaN(v) ? 0 : v)), systemLoad: cp.systemLoad, officialFourCp: cp.officialFourCp });
      k.fourCpAlert.set(input.fourCpAlert);
      k.fourCpPeakWeight.set(input.fourCpPeakWeight);
      k.fourCpPeaks = input.fourCpPeaks;
    }
    return count;
  }

  nextPublicationMs(nowMs: number): number {
    const intervalEnd = Math.ceil((nowMs + 1 - this.fromMs) / this.intervalMs) * this.intervalMs + this.fromMs;
    return Math.min(intervalEnd + this.o.expectedRtLagMs, this.lastRefreshMs + this.o.refreshMs);
  }

  describe(): Record<string, unknown> {
    const k = this.known;
    let last = -1;
    for (let i = k.startMs.length - 1; i >= 0; i--) {
      if (!Number.isNaN(k.rtPriceUsdPerMWh[i])) {
        last = i;
        break;
      }
    }
    return {
      kind: 'live-store',
      window: { from: new Date(this.fromMs).toISOString(), to: new Date(this.toMs).toISOString() },
      latestRtInterval: last >= 0 ? new Date(k.startMs[last] as number).toISOString() : null,
      latestRtPriceUsdPerMWh: last >= 0 ? k.rtPriceUsdPerMWh[last] : null,
      lastRefresh: Number.isFinite(this.lastRefreshMs) ? new Date(this.lastRefreshMs).toISOString() : null,
      hashprice: this.hashpriceNote,
    };
  }
}
