/**
 * The market as the console draws it: RT and DA prices around now and each fleet's break-even at
 * each interval's hashprice (USD/MWh at the meter). Pure: the known input and the time come in.
 */
import { breakEvenUsdPerMWh, fleetModel } from '../dispatch/fleet-model.js';
import type { DispatchInput } from '../dispatch/types.js';
import type { OpsMarket } from './api.js';

const num = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);
const round = (v: number | null): number | null => (v === null ? null : Math.round(v * 100) / 100);

/** First index with startMs >= t (binary search; startMs ascending). */
function lowerBound(a: Float64Array, t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Prices from `backMs` before `nowMs` to `aheadMs` after it (the DA prices known for later today and tomorrow). */
export function marketView(known: DispatchInput, nowMs: number, o: { backMs: number; aheadMs: number }): OpsMarket {
  const models = known.site.fleets.map(fleetModel);
  const start = known.startMs;
  const a = lowerBound(start, nowMs - o.backMs);
  const b = lowerBound(start, nowMs + o.aheadMs);
  const points: OpsMarket['points'] = [];
  let latestRt: OpsMarket['latestRt'] = null;
  for (let t = a; t < b; t++) {
    const hp = num(known.hashpriceUsdPerPhDay[t]);
    const rt = num(known.rtPriceUsdPerMWh[t]);
    const iso = new Date(start[t] as number).toISOString();
    if (rt !== null && (start[t] as number) <= nowMs) latestRt = { start: iso, usdPerMWh: rt };
    points.push({
      start: iso,
      rtUsdPerMWh: rt,
      daUsdPerMWh: num(known.daPriceUsdPerMWh[t]),
      breakEvenUsdPerMWh: models.map((m) => (hp === null ? null : round(breakEvenUsdPerMWh(m, hp)))),
      fourCpAlert: (known.fourCpAlert[t] ?? 0) > 0,
    });
  }
  return {
    now: new Date(nowMs).toISOString(),
    intervalMinutes: known.intervalMinutes,
    settlementPoint: known.site.market.settlementPoint,
    points,
    fleets: known.site.fleets.map((f) => ({ name: f.name, strikeUsdPerMWh: f.strikeUsdPerMWh ?? null })),
    latestRt,
    fourCpAlertNow: fourCpAlertAt(known, nowMs),
  };
}

/** Whether the interval in force at `nowMs` is on a 4CP alert day (false outside the window). */
export function fourCpAlertAt(known: DispatchInput, nowMs: number): boolean {
  const start = known.startMs;
  if (start.length === 0 || (start[0] as number) > nowMs) return false;
  const t = lowerBound(start, nowMs + 1) - 1;
  return (known.fourCpAlert[t] ?? 0) > 0 && nowMs < (start[t] as number) + known.intervalMinutes * 60_000;
}
