/** Assembles a DispatchInput from plain series (the back-test reads them from the store). */
import type { Site } from '../site/types.js';
import { localDays } from './calendar.js';
import { coincidentPeaks, fourCpAlerts, peakWeights, type HourlyLoad } from './fourcp.js';
import type { DispatchInput } from './types.js';

export interface DispatchSeries {
  site: Site;
  intervalMinutes: number;
  /** Window [fromMs, toMs): used to pick the 4CP months. */
  fromMs: number;
  toMs: number;
  /** Priced intervals only (gaps removed), ascending. */
  startMs: Float64Array;
  rtPriceUsdPerMWh: Float64Array;
  hashpriceUsdPerPhDay: Float64Array;
  /** Day-ahead price per interval, NaN where unknown; omitted = all unknown. */
  daPriceUsdPerMWh?: Float64Array;
  /** ERCOT TOTAL hourly load covering the 4CP months and 30 days before the window. */
  systemLoad?: HourlyLoad;
}

/** Builds the policy input: 4CP peaks and alerts, local days. Notes explain what is missing. */
export function prepareDispatchInput(s: DispatchSeries): { input: DispatchInput; notes: string[] } {
  const n = s.startMs.length;
  for (const [name, arr] of [
    ['rtPriceUsdPerMWh', s.rtPriceUsdPerMWh],
    ['hashpriceUsdPerPhDay', s.hashpriceUsdPerPhDay],
  ] as const) {
    if (arr.length !== n) throw new RangeError(`${name} has ${arr.length} entries, startMs has ${n}`);
    if (!arr.every(Number.isFinite)) throw new RangeError(`${name} must be finite (remove gaps before dispatch)`);
  }
  const notes: string[] = [];
  const cp = s.site.transmission?.coincidentPeak;
  const load = s.systemLoad ?? { startMs: new Float64Array(0), loadMW: new Float64Array(0) };
  let peaks: DispatchInput['fourCpPeaks'] = [];
  let alerts: Uint8Array = new Uint8Array(n);
  if (cp) {
    peaks = coincidentPeaks(load, cp.months, s.fromMs, s.toMs);
    alerts = fourCpAlerts(s.startMs, cp.months, cp.alerts, load);
    for (const p of peaks) if (!p.monthComplete) notes.push(`4CP: system load for ${p.month} is incomplete; its peak hour may be wrong`);
    if (load.startMs.length === 0) notes.push('4CP: no ERCOT system load available; no peak hours, alerts on every listed-month day');
  }
  const { localDay, dayIntervals } = localDays(s.startMs, s.intervalMinutes);
  const da = s.daPriceUsdPerMWh ?? new Float64Array(n).fill(NaN);
  if (da.length !== n) throw new RangeError(`daPriceUsdPerMWh has ${da.length} entries, startMs has ${n}`);
  return {
    input: {
      site: s.site,
      intervalMinutes: s.intervalMinutes,
      startMs: s.startMs,
      rtPriceUsdPerMWh: s.rtPriceUsdPerMWh,
      hashpriceUsdPerPhDay: s.hashpriceUsdPerPhDay,
      daPriceUsdPerMWh: da,
      fourCpPeakWeight: peakWeights(s.startMs, peaks),
      fourCpAlert: alerts,
      fourCpPeaks: peaks,
      localDay,
      localDayIntervals: dayIntervals,
    },
    notes,
  };
}
