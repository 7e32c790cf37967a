/** Assembles a DispatchInput from plain series (the back-test reads them from the store). */
import type { Site } from '../site/types.js';
import { localDays } from './calendar.js';
import { formatCpt } from '../core/ercot-time.js';
import { cptHour } from './calendar.js';
import { coincidentPeaks, fourCpAlerts, peakWeights, type HourlyLoad, type OfficialFourCp } from './fourcp.js';
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
  /** ERCOT's official 4CP settlement intervals of the months around the window (from the store). */
  officialFourCp?: readonly OfficialFourCp[];
  /** Day-ahead AS clearing prices per product and interval (NaN unknown); see DispatchInput. */
  asPriceUsdPerMWh?: DispatchInput['asPriceUsdPerMWh'];
}

/** 'YYYY-MM-DD HH:MM' in CPT. */
const cpt = (ms: number) => formatCpt(ms).slice(0, 16).replace('T', ' ');

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
    peaks = coincidentPeaks(load, cp, s.fromMs, s.toMs, s.officialFourCp ?? []);
    alerts = fourCpAlerts(s.startMs, cp.months, cp.alerts, load);
    const priced = new Set(s.startMs);
    for (const p of peaks) {
      if (p.basis === 'estimated') {
        const first = p.candidateStartMs[0] as number;
        const last = p.candidateStartMs[p.candidateStartMs.length - 1] as number;
        notes.push(
          `4CP ${p.month}: no official settlement interval in the store; the tag is the site's worst 15-minute interval of ${cpt(first)}–${cpt(last + 15 * 60_000).slice(11)} CPT (the hour of peak hourly load and the hour before; import ERCOT's NP9-83-M intervals to settle exactly)`,
        );
        if (!p.monthComplete) notes.push(`4CP ${p.month}: system load for the month is incomplete; the estimated peak hour may be wrong`);
      }
      const inWindow = p.candidateStartMs.filter((ms) => ms >= s.fromMs && ms < s.toMs);
      if (inWindow.length === 0) notes.push(`4CP ${p.month}: the settlement interval${p.basis === 'estimated' ? 's are' : ` (${cpt(p.intervalStartMs)} CPT) is`} outside the window; no charge is booked for the month`);
      else if (inWindow.some((ms) => !priced.has(ms))) notes.push(`4CP ${p.month}: ${inWindow.filter((ms) => !priced.has(ms)).length} settlement candidate interval(s) have no price (gap): the site's demand there is not settled`);
      if (!cp.alerts.windows) {
        const [h0, h1] = cp.alerts.localHours;
        const outside = inWindow.filter((ms) => cptHour(ms) < h0 || cptHour(ms) >= h1);
        if (outside.length > 0) notes.push(`4CP ${p.month}: ${outside.length} settlement candidate interval(s) fall outside the alert hours ${h0}–${h1} CPT, so strike and rolling run through them`);
      }
    }
    const rates = new Map<string, string[]>();
    for (const p of peaks) {
      const key = `${p.usdPerKwYear.toFixed(2)} USD/kW-yr (${p.rateSource})`;
      rates.set(key, [...(rates.get(key) ?? []), p.month]);
    }
    if (cp.usdPerKwYear === undefined) {
      for (const [rate, months] of rates) notes.push(`4CP rate ${rate} for ${months.join(', ')}: summer Y's tag is billed over calendar Y + 1; set transmission.coincidentPeak.usdPerKwYear to override`);
    }
    if (load.startMs.length === 0 && peaks.every((p) => p.basis === 'estimated')) notes.push('4CP: no ERCOT system load available; no peak hours, alerts on every listed-month day');
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
      ...(s.asPriceUsdPerMWh ? { asPriceUsdPerMWh: s.asPriceUsdPerMWh } : {}),
    },
    notes,
  };
}
