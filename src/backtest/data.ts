/**
 * Reads everything a back-test needs from the market store and turns it into plain dispatch
 * series. Gaps are explicit: an interval without a real-time price (or without a hashprice for
 * its day) is left out of the run and reported; no price is ever invented.
 */
import { MulletError } from '../core/errors.js';
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, parseUtcDate, utcDate } from '../core/time.js';
import type { DispatchSeries } from '../dispatch/input.js';
import type { HourlyLoad, OfficialFourCp } from '../dispatch/fourcp.js';
import type { Site } from '../site/types.js';
import type { MarketStore } from '../market/store-port.js';
import { HEIGHT_REBUILD_MAX_DAYS } from '../market/hashprice-inputs.js';
import { dailyHashprice, type HashpriceProvenance, type HashpriceSource } from './hashprice.js';
import { DEFAULT_AS_PRICE_PARAMS, generateAsPrices, hoursCovering } from '../scenario/ancillary.js';
import type { AsProduct } from '../site/types.js';

/** Where the back-test takes AS clearing prices from: the store (ERCOT's archives), or the seeded SYNTHETIC generator. */
export type AsPriceSource = { kind: 'store' } | { kind: 'synthetic'; seed: number | string };

export const INTERVAL_MINUTES = 15;

export interface GapRange {
  fromMs: number;
  /** Exclusive end. */
  toMs: number;
  intervals: number;
  reason: 'no real-time price' | 'no hashprice';
}

export interface BacktestData {
  series: DispatchSeries;
  /** Intervals the window has at 15 minutes. */
  expectedIntervals: number;
  gaps: GapRange[];
  /** Mean hashprice over the priced intervals, USD/PH/day. */
  meanHashpriceUsdPerPhDay: number;
  /** Days whose hashprice used an assumed fee (no fee data), and the share of subsidy assumed. */
  assumedFeeDays: string[];
  /** Intervals that had a day-ahead price (rolling's forecast). */
  daIntervals: number;
  notes: string[];
}

function addGap(gaps: GapRange[], startMs: number, reason: GapRange['reason']): void {
  const last = gaps[gaps.length - 1];
  const step = INTERVAL_MINUTES * MS_PER_MINUTE;
  if (last && last.reason === reason && last.toMs === startMs) {
    last.toMs += step;
    last.intervals++;
  } else gaps.push({ fromMs: startMs, toMs: startMs + step, intervals: 1, reason });
}

/** Loads prices, system load and hashprice for [fromMs, toMs) of the site's settlement point. */
export async function loadBacktestData(store: MarketStore, site: Site, fromMs: number, toMs: number, hashprice: HashpriceSource, asSource: AsPriceSource = { kind: 'store' }): Promise<BacktestData> {
  const market = site.market.iso;
  const point = site.market.settlementPoint;
  const step = INTERVAL_MINUTES * MS_PER_MINUTE;
  const rt = new Map<number, number>();
  for (const p of await store.prices({ market, settlementPoint: point, kind: 'RT', fromMs, toMs, intervalMinutes: INTERVAL_MINUTES })) rt.set(p.intervalStartMs, p.priceUsdPerMWh);
  if (rt.size === 0) {
    throw new MulletError('NO_DATA', `the market store has no ${market} ${point} real-time 15-minute prices between ${new Date(fromMs).toISOString()} and ${new Date(toMs).toISOString()}; import them ('mullet data import') or check market.settlementPoint`, { where: 'market.settlementPoint' });
  }
  const daPoints = await store.prices({ market, settlementPoint: point, kind: 'DA', fromMs: fromMs - MS_PER_DAY, toMs: toMs + MS_PER_DAY });
  const da = new Map<number, number>();
  for (const p of daPoints) for (let t = p.intervalStartMs; t < p.intervalStartMs + p.intervalMinutes * MS_PER_MINUTE; t += step) da.set(t, p.priceUsdPerMWh);

  const days: string[] = [];
  for (let d = Math.floor(fromMs / MS_PER_DAY) * MS_PER_DAY; d < toMs; d += MS_PER_DAY) days.push(utcDate(d));
  // One read of the Bitcoin days (plus the look-back / look-ahead heights are rebuilt from) serves every day.
  const lastDay = days[days.length - 1] ?? utcDate(fromMs);
  const btc = await store.btcDays(utcDate(fromMs - HEIGHT_REBUILD_MAX_DAYS * MS_PER_DAY), utcDate(parseUtcDate(lastDay) + HEIGHT_REBUILD_MAX_DAYS * MS_PER_DAY));
  const btcView = { btcDays: (a: string, b: string) => btc.filter((d) => d.dateUtc >= a && d.dateUtc <= b) };
  const provenance: HashpriceProvenance = { derived: new Map(), warnings: new Map() };
  const hp = dailyHashprice(hashprice, days, btcView, provenance);
  const hpByDay = new Map<number, number>();
  for (const [day, v] of hp) hpByDay.set(Date.parse(`${day}T00:00:00Z`) / MS_PER_DAY, v);
  if (hp.size === 0) {
    const how = hashprice.kind === 'csv' ? `the series ${hashprice.file} has no day in the window` : 'the market store lacks Bitcoin price/difficulty/fees/height for every day of the window';
    throw new MulletError('NO_DATA', `no hashprice for ${days[0] ?? ''}..${days[days.length - 1] ?? ''}: ${how}; import Bitcoin data or give --hashprice-usd-per-ph-day`, { where: 'market store' });
  }

  const starts: number[] = [];
  const prices: number[] = [];
  const hps: number[] = [];
  const das: number[] = [];
  const gaps: GapRange[] = [];
  let expected = 0;
  let daCount = 0;
  for (let t = fromMs; t < toMs; t += step) {
    expected++;
    const price = rt.get(t);
    if (price === undefined) {
      addGap(gaps, t, 'no real-time price');
      continue;
    }
    const h = hpByDay.get(Math.floor(t / MS_PER_DAY));
    if (h === undefined) {
      addGap(gaps, t, 'no hashprice');
      continue;
    }
    starts.push(t);
    prices.push(price);
    hps.push(h);
    const d = da.get(t);
    das.push(d ?? NaN);
    if (d !== undefined) daCount++;
  }
  const notes: string[] = [];
  const assumedFeeDays: string[] = [];
  const byInput = new Map<string, string[]>();
  for (const [day, list] of provenance.derived) {
    for (const d of list) byInput.set(d.input, [...(byInput.get(d.input) ?? []), day]);
    if (list.some((d) => d.input === 'fees')) assumedFeeDays.push(day);
  }
  const span = (ds: readonly string[]) => (ds.length === 1 ? (ds[0] as string) : `${ds.length} days, ${ds[0] ?? ''}..${ds[ds.length - 1] ?? ''}`);
  if (hashprice.kind === 'store' && assumedFeeDays.length > 0) {
    notes.push(
      `FEE ASSUMPTION: the store has no fee data for ${span(assumedFeeDays)}; their hashprice assumes fees = ${hashprice.feeShareOfSubsidyPct} % of the block subsidy` +
        (hashprice.feeShareIsDefault ? ' (default: the planner\'s fee share; Coin Metrics 2023–2025 shares 5.9 / 5.6 / 1.0 %; set --fee-share-of-subsidy-pct)' : ' (--fee-share-of-subsidy-pct)'),
    );
  }
  const heights = byInput.get('height') ?? [];
  if (heights.length > 0) notes.push(`hashprice: block height rebuilt from daily block counts on ${span(heights)} (the store has no height for those days)`);
  const subsidies = byInput.get('subsidy') ?? [];
  if (subsidies.length > 0) notes.push(`hashprice: subsidy taken from issuance / blocks on ${span(subsidies)}`);
  const stale = [...provenance.warnings.keys()];
  if (stale.length > 0) notes.push(`hashprice: ${[...provenance.warnings.values()][0]?.[0] ?? ''}${stale.length > 1 ? ` (and ${stale.length - 1} more day(s) to ${stale[stale.length - 1] ?? ''})` : ''}`);
  const missing = gaps.reduce((s, g) => s + g.intervals, 0);
  if (missing > 0) notes.push(`${missing} of ${expected} intervals skipped (gaps): they are neither dispatched nor settled`);
  if (daCount < starts.length) notes.push(`${starts.length - daCount} intervals without a day-ahead price: rolling forecasts them from older prices`);

  const series: DispatchSeries = {
    site,
    intervalMinutes: INTERVAL_MINUTES,
    fromMs,
    toMs,
    startMs: Float64Array.from(starts),
    rtPriceUsdPerMWh: Float64Array.from(prices),
    hashpriceUsdPerPhDay: Float64Array.from(hps),
    daPriceUsdPerMWh: Float64Array.from(das),
  };
  if (site.ancillary && site.ancillary.products.length > 0) series.asPriceUsdPerMWh = await asPrices(store, site.ancillary.products, series.startMs, fromMs, toMs, asSource, notes);
  if (site.ancillary?.sb6LargeLoad) {
    notes.push('SB 6: the site can draw ≥ 75 MW, so it is a large load under Texas SB 6 (2025): ERCOT may direct it to curtail in an emergency (unpaid), and its backup generation can be called; not priced here');
  }
  if (site.transmission?.coincidentPeak) {
    const cp = await loadFourCpInputs(store, market, fromMs, toMs);
    series.officialFourCp = cp.officialFourCp;
    series.systemLoad = cp.systemLoad;
    if (cp.systemLoad.startMs.length === 0) notes.push('4CP: the store has no ERCOT TOTAL load around the window');
  }
  return {
    series,
    expectedIntervals: expected,
    gaps,
    meanHashpriceUsdPerPhDay: hps.length ? hps.reduce((s, v) => s + v, 0) / hps.length : 0,
    assumedFeeDays,
    daIntervals: daCount,
    notes,
  };
}

/**
 * What 4CP needs around [fromMs, toMs): ERCOT's official settlement intervals where posted, and
 * hourly system (TOTAL) load — whole months around the window plus 31 days for the alert forecast;
 * elsewhere the 4CP window is estimated from the hour of peak load, so finer load data is averaged
 * to clock hours. The back-test and the live market source both read it here.
 */
export async function loadFourCpInputs(store: Pick<MarketStore, 'loads' | 'fourCpIntervals'>, market: string, fromMs: number, toMs: number): Promise<{ officialFourCp: OfficialFourCp[]; systemLoad: HourlyLoad }> {
  const loads = await store.loads({ market, zone: 'TOTAL', fromMs: fromMs - 32 * MS_PER_DAY, toMs: toMs + 32 * MS_PER_DAY });
  const officialFourCp = (
    await store.fourCpIntervals({ market, fromMonth: utcDate(fromMs - 32 * MS_PER_DAY).slice(0, 7), toMonth: utcDate(toMs + 32 * MS_PER_DAY).slice(0, 7) })
  ).map((c) => ({ month: c.month, intervalStartMs: c.intervalStartMs, intervalMinutes: c.intervalMinutes, ...(c.systemLoadMW === undefined ? {} : { systemLoadMW: c.systemLoadMW }) }));
  const byHour = new Map<number, { sum: number; count: number }>();
  for (const l of loads) {
    const h = Math.floor(l.intervalStartMs / MS_PER_HOUR) * MS_PER_HOUR;
    const acc = byHour.get(h) ?? { sum: 0, count: 0 };
    acc.sum += l.loadMW;
    acc.count++;
    byHour.set(h, acc);
  }
  const hours = [...byHour.keys()].sort((a, b) => a - b);
  return { officialFourCp, systemLoad: { startMs: Float64Array.from(hours), loadMW: Float64Array.from(hours, (h) => (byHour.get(h) as { sum: number; count: number }).sum / (byHour.get(h) as { sum: number; count: number }).count) } };
}

/**
 * Day-ahead MCPC per product for each priced interval (the hour's price on its four intervals), NaN
 * where unknown. From the store (ERCOT's archives imported by the user) or the SYNTHETIC generator.
 */
async function asPrices(store: MarketStore, products: readonly AsProduct[], startMs: Float64Array, fromMs: number, toMs: number, source: AsPriceSource, notes: string[]): Promise<Partial<Record<AsProduct, Float64Array>>> {
  const out: Partial<Record<AsProduct, Float64Array>> = {};
  const n = startMs.length;
  const hourOf = (ms: number) => Math.floor(ms / MS_PER_HOUR) * MS_PER_HOUR;
  if (source.kind === 'synthetic') {
    const { startMs: h0, hours } = hoursCovering(fromMs, toMs);
    const g = generateAsPrices(DEFAULT_AS_PRICE_PARAMS, { seed: source.seed, startMs: h0, hours });
    notes.push(...g.notes);
    for (const p of products) {
      const v = g.values[p];
      out[p] = Float64Array.from(startMs, (ms) => v[(hourOf(ms) - h0) / MS_PER_HOUR] ?? NaN);
    }
    return out;
  }
  for (const p of products) {
    const byHour = new Map<number, number>();
    for (const r of await store.asPrices({ market: 'ERCOT', product: p, kind: 'DA', fromMs: hourOf(fromMs), toMs, intervalMinutes: 60 })) byHour.set(r.intervalStartMs, r.usdPerMWh);
    const arr = Float64Array.from(startMs, (ms) => byHour.get(hourOf(ms)) ?? NaN);
    const missing = arr.reduce((c, v) => c + (Number.isNaN(v) ? 1 : 0), 0);
    if (missing === n) notes.push(`grid services: the store has no ERCOT day-ahead ${p} clearing prices in the window: no ${p} awards (import NP4-181-ER / NP4-188-CD, or use --as-prices synthetic)`);
    else if (missing > 0) notes.push(`grid services: ${missing} of ${n} intervals have no day-ahead ${p} price: no ${p} award there`);
    out[p] = arr;
  }
  return out;
}
