/**
 * Pure estimators behind calibrate(): each takes plain time-ordered arrays (no store) and returns
 * parameters in the units of params.ts. Calibration reads the store and calls these.
 */
import { MS_PER_DAY } from '../core/time.js';
import { ERCOT_STANDARD_OFFSET_HOURS, monthHourOf, type LoadParams, type MonthHourTable, type PowerPriceParams, type TwoScaleNoise } from './params.js';

export interface TimedValue {
  ms: number;
  value: number;
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : NaN;
}

function std(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

/** Pearson correlation of paired samples; NaN with fewer than 3 pairs or zero variance. */
export function correlation(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 3) return NaN;
  const mx = mean(xs.slice(0, n));
  const my = mean(ys.slice(0, n));
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Lag-1 autocorrelation over the pairs (a, b) given; pairs are (value at t, value at t+1). */
function pairCorrelation(pairs: readonly (readonly [number, number])[]): number {
  return correlation(
    pairs.map((p) => p[0]),
    pairs.map((p) => p[1]),
  );
}

/** Day number of an instant in ERCOT standard time (UTC−6), the day the noise levels refer to. */
export function localDayKey(ms: number): number {
  return Math.floor((ms + ERCOT_STANDARD_OFFSET_HOURS * 3_600_000) / MS_PER_DAY);
}

function emptyTable(fill: number): MonthHourTable {
  return Array.from({ length: 12 }, () => new Array<number>(24).fill(fill));
}

function cell(t: MonthHourTable, m: number, h: number): number {
  return (t[m] as number[])[h] as number;
}

/**
 * Means by month × hour of the values that pass `include`; empty cells are filled from the same
 * hour in other months, then from the overall mean (so a short calibration window still works).
 */
export function monthHourMeans(series: readonly TimedValue[], include: (v: number) => boolean = () => true): { table: MonthHourTable; filledCells: number } {
  const sum = emptyTable(0);
  const count = emptyTable(0);
  for (const p of series) {
    if (!include(p.value)) continue;
    const { month, hour } = monthHourOf(p.ms);
    (sum[month] as number[])[hour] = cell(sum, month, hour) + p.value;
    (count[month] as number[])[hour] = cell(count, month, hour) + 1;
  }
  const table = emptyTable(NaN);
  let total = 0;
  let n = 0;
  const hourSum = new Array<number>(24).fill(0);
  const hourN = new Array<number>(24).fill(0);
  for (let m = 0; m < 12; m++) {
    for (let h = 0; h < 24; h++) {
      const c = cell(count, m, h);
      if (c > 0) {
        (table[m] as number[])[h] = cell(sum, m, h) / c;
        total += cell(sum, m, h);
        n += c;
        hourSum[h] = (hourSum[h] as number) + cell(sum, m, h);
        hourN[h] = (hourN[h] as number) + c;
      }
    }
  }
  let filledCells = 0;
  for (let m = 0; m < 12; m++) {
    for (let h = 0; h < 24; h++) {
      if (!Number.isNaN(cell(table, m, h))) continue;
      filledCells++;
      (table[m] as number[])[h] = (hourN[h] as number) > 0 ? (hourSum[h] as number) / (hourN[h] as number) : n > 0 ? total / n : NaN;
    }
  }
  return { table, filledCells };
}

/**
 * A robust standard deviation: the interquartile range / 1.349 (exact for a normal). Used for log
 * noise because near-zero prices give a long left tail in logs that a plain standard deviation
 * would turn into far too wide a distribution on the right.
 */
export function robustStd(xs: readonly number[]): number {
  if (xs.length < 4) return std(xs);
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => {
    const i = p * (s.length - 1);
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (i - lo);
  };
  return (q(0.75) - q(0.25)) / 1.349;
}

/** Month of a local day key. */
function monthOfDay(day: number): number {
  return new Date(day * MS_PER_DAY).getUTCMonth();
}

/** Fills months without samples with the mean of the others. */
function fillMonths(xs: number[]): number[] {
  const ok = xs.filter((x) => Number.isFinite(x));
  const m = ok.length ? mean(ok) : NaN;
  return xs.map((x) => (Number.isFinite(x) ? x : m));
}

/**
 * Fits the two-scale AR(1) noise to residuals r_t (log deviations from the month × hour mean),
 * sampled every `stepMs`. The daily level is the mean residual of each UTC−6 day with at least half
 * its steps; the fast part is the residual minus its day's level. Standard deviations are robust and
 * per month; AR(1) coefficients are pooled over the standardized series. Returns the per-day levels
 * too (for the price–load correlation and the spike load coupling).
 */
export function fitTwoScaleNoise(residuals: readonly TimedValue[], stepMs: number): { noise: TwoScaleNoise; dailyLevel: Map<number, number> } {
  const stepsPerDay = Math.round(MS_PER_DAY / stepMs);
  const sums = new Map<number, { s: number; n: number }>();
  for (const r of residuals) {
    const d = localDayKey(r.ms);
    const e = sums.get(d) ?? { s: 0, n: 0 };
    e.s += r.value;
    e.n++;
    sums.set(d, e);
  }
  const dailyLevel = new Map<number, number>();
  for (const [d, e] of sums) if (e.n >= stepsPerDay / 2) dailyLevel.set(d, e.s / e.n);
  const days = [...dailyLevel.keys()].sort((a, b) => a - b);
  const levelsByMonth: number[][] = Array.from({ length: 12 }, () => []);
  for (const d of days) (levelsByMonth[monthOfDay(d)] as number[]).push(dailyLevel.get(d) as number);
  const dailySigmaLog = fillMonths(levelsByMonth.map((xs) => robustStd(xs)));
  const dailyPairs: [number, number][] = [];
  for (let i = 1; i < days.length; i++) {
    const a = days[i - 1] as number;
    const b = days[i] as number;
    if (b !== a + 1) continue;
    const sa = dailySigmaLog[monthOfDay(a)] as number;
    const sb = dailySigmaLog[monthOfDay(b)] as number;
    dailyPairs.push([(dailyLevel.get(a) as number) / sa, (dailyLevel.get(b) as number) / sb]);
  }
  const fastByMonth: number[][] = Array.from({ length: 12 }, () => []);
  const fast: { ms: number; f: number; month: number }[] = [];
  for (const r of residuals) {
    const d = localDayKey(r.ms);
    const level = dailyLevel.get(d);
    if (level === undefined) continue;
    const month = monthOfDay(d);
    fast.push({ ms: r.ms, f: r.value - level, month });
    (fastByMonth[month] as number[]).push(r.value - level);
  }
  const fastSigmaLog = fillMonths(fastByMonth.map((xs) => robustStd(xs)));
  const fastPairs: [number, number][] = [];
  for (let i = 1; i < fast.length; i++) {
    const a = fast[i - 1] as { ms: number; f: number; month: number };
    const b = fast[i] as { ms: number; f: number; month: number };
    if (b.ms - a.ms === stepMs) fastPairs.push([a.f / (fastSigmaLog[a.month] as number), b.f / (fastSigmaLog[b.month] as number)]);
  }
  return {
    noise: { dailySigmaLog, dailyAr1: pairCorrelation(dailyPairs), fastSigmaLog, fastAr1: pairCorrelation(fastPairs) },
    dailyLevel,
  };
}

export interface SpikeFit {
  eventsPerDay: number;
  meanDurationIntervals: number;
  paretoAlpha: number;
  hourWeight: number[];
  monthWeight: number[];
  events: number;
  spikeIntervals: number;
  /** Event starts per UTC−6 day key (for the load coupling). */
  eventsByDay: Map<number, number>;
}

/**
 * Spike statistics of a sorted price series: events are runs of consecutive intervals above the
 * threshold; the Pareto tail index is the maximum-likelihood estimate with values at the cap
 * treated as censored (they say only "at least the cap"). Weights use add-½ smoothing so an hour or
 * month with no observed event keeps a small rate.
 */
export function fitSpikes(series: readonly TimedValue[], intervalMs: number, thresholdUsdPerMWh: number, capUsdPerMWh: number): SpikeFit {
  let events = 0;
  let spikeIntervals = 0;
  let uncensored = 0;
  let logSum = 0;
  const hourCount = new Array<number>(24).fill(0.5);
  const monthCount = new Array<number>(12).fill(0.5);
  const eventsByDay = new Map<number, number>();
  let prevMs = -Infinity;
  let prevSpike = false;
  for (const p of series) {
    const isSpike = p.value > thresholdUsdPerMWh;
    if (isSpike) {
      spikeIntervals++;
      const capped = p.value >= capUsdPerMWh * 0.98;
      if (!capped) uncensored++;
      logSum += Math.log(Math.min(p.value, capUsdPerMWh) / thresholdUsdPerMWh);
      if (!(prevSpike && p.ms - prevMs === intervalMs)) {
        events++;
        const { month, hour } = monthHourOf(p.ms);
        hourCount[hour] = (hourCount[hour] as number) + 1;
        monthCount[month] = (monthCount[month] as number) + 1;
        const day = localDayKey(p.ms);
        eventsByDay.set(day, (eventsByDay.get(day) ?? 0) + 1);
      }
    }
    prevSpike = isSpike;
    prevMs = p.ms;
  }
  const days = (series.length * intervalMs) / MS_PER_DAY;
  const norm = (xs: number[]) => {
    const m = mean(xs);
    return xs.map((x) => x / m);
  };
  return {
    eventsPerDay: days > 0 ? events / days : NaN,
    meanDurationIntervals: events > 0 ? spikeIntervals / events : NaN,
    paretoAlpha: logSum > 0 && uncensored > 0 ? uncensored / logSum : NaN,
    hourWeight: norm(hourCount),
    monthWeight: norm(monthCount),
    events,
    spikeIntervals,
    eventsByDay,
  };
}

/**
 * Load coupling c of the spike rate exp(c·z − c²/2), z the day's standardized load level: for a
 * Poisson rate of that form with z ~ N(0, 1), E[N·z] / E[N] = c (a moment estimator).
 */
export function fitLoadCoupling(eventsByDay: Map<number, number>, loadDailyLevel: Map<number, number>): number {
  // z is standardized within its month: a hot August day, not August itself.
  const byMonth: number[][] = Array.from({ length: 12 }, () => []);
  for (const [d, v] of loadDailyLevel) (byMonth[monthOfDay(d)] as number[]).push(v);
  const m = byMonth.map((xs) => mean(xs));
  const s = byMonth.map((xs) => std(xs));
  let num = 0;
  let den = 0;
  for (const [d, n] of eventsByDay) {
    const level = loadDailyLevel.get(d);
    const month = monthOfDay(d);
    const sd = s[month] as number;
    if (level === undefined || !(sd > 0)) continue;
    num += n * ((level - (m[month] as number)) / sd);
    den += n;
  }
  return den > 0 ? num / den : NaN;
}

export interface NegativeFit {
  probability: MonthHourTable;
  meanRunIntervals: number;
  meanDepthUsdPerMWh: number;
  negativeIntervals: number;
}

/** Negative-price statistics: share by month × hour, mean run length, mean depth below zero. */
export function fitNegatives(series: readonly TimedValue[], intervalMs: number): NegativeFit {
  const neg = emptyTable(0);
  const all = emptyTable(0);
  let runs = 0;
  let count = 0;
  let depth = 0;
  let prevMs = -Infinity;
  let prevNeg = false;
  for (const p of series) {
    const { month, hour } = monthHourOf(p.ms);
    (all[month] as number[])[hour] = cell(all, month, hour) + 1;
    const isNeg = p.value < 0;
    if (isNeg) {
      (neg[month] as number[])[hour] = cell(neg, month, hour) + 1;
      count++;
      depth += -p.value;
      if (!(prevNeg && p.ms - prevMs === intervalMs)) runs++;
    }
    prevNeg = isNeg;
    prevMs = p.ms;
  }
  const probability = emptyTable(0);
  for (let m = 0; m < 12; m++) for (let h = 0; h < 24; h++) {
    const a = cell(all, m, h);
    (probability[m] as number[])[h] = a > 0 ? cell(neg, m, h) / a : 0;
  }
  return {
    probability,
    meanRunIntervals: runs > 0 ? count / runs : 1,
    meanDepthUsdPerMWh: count > 0 ? depth / count : 0,
    negativeIntervals: count,
  };
}

/** Floor for log residuals: prices near zero would give huge negative logs. */
const LOG_FLOOR_USD_PER_MWH = 1;

/**
 * Fits the RT price model of one settlement point from a sorted series of `intervalMinutes`
 * prices. `spikeCoupling` and the day-ahead error are not identifiable from RT alone and are passed
 * through from the defaults.
 */
export function fitPowerPrices(
  series: readonly TimedValue[],
  intervalMinutes: number,
  fixed: { thresholdUsdPerMWh: number; capUsdPerMWh: number; floorUsdPerMWh: number; loadCoupling: number; dayAheadErrorSigmaLog: number; dayAheadPremium: number },
): {
  power: PowerPriceParams;
  dailyLevel: Map<number, number>;
  eventsByDay: Map<number, number>;
  stats: { spikeEvents: number; negativeIntervals: number; filledCells: number };
} {
  const intervalMs = intervalMinutes * 60_000;
  const isBody = (v: number) => v >= 0 && v <= fixed.thresholdUsdPerMWh;
  const { table: bodyMean, filledCells } = monthHourMeans(series, isBody);
  const logMean = monthHourMeans(
    series.filter((p) => isBody(p.value)).map((p) => ({ ms: p.ms, value: Math.log(Math.max(p.value, LOG_FLOOR_USD_PER_MWH)) })),
  ).table;
  const residuals: TimedValue[] = [];
  for (const p of series) {
    if (!isBody(p.value)) continue;
    const { month, hour } = monthHourOf(p.ms);
    residuals.push({ ms: p.ms, value: Math.log(Math.max(p.value, LOG_FLOOR_USD_PER_MWH)) - cell(logMean, month, hour) });
  }
  const { noise, dailyLevel } = fitTwoScaleNoise(residuals, intervalMs);
  const spikes = fitSpikes(series, intervalMs, fixed.thresholdUsdPerMWh, fixed.capUsdPerMWh);
  const negatives = fitNegatives(series, intervalMs);
  return {
    power: {
      bodyMeanUsdPerMWh: bodyMean,
      noise,
      spike: {
        thresholdUsdPerMWh: fixed.thresholdUsdPerMWh,
        eventsPerDay: spikes.eventsPerDay,
        meanDurationIntervals: spikes.meanDurationIntervals,
        paretoAlpha: spikes.paretoAlpha,
        capUsdPerMWh: fixed.capUsdPerMWh,
        hourWeight: spikes.hourWeight,
        monthWeight: spikes.monthWeight,
        loadCoupling: fixed.loadCoupling,
      },
      negative: {
        probability: negatives.probability,
        meanRunIntervals: negatives.meanRunIntervals,
        meanDepthUsdPerMWh: negatives.meanDepthUsdPerMWh,
        floorUsdPerMWh: fixed.floorUsdPerMWh,
      },
      dayAhead: { errorSigmaLog: fixed.dayAheadErrorSigmaLog, premium: fixed.dayAheadPremium },
    },
    dailyLevel,
    eventsByDay: spikes.eventsByDay,
    stats: { spikeEvents: spikes.events, negativeIntervals: negatives.negativeIntervals, filledCells },
  };
}

/** Fits the system load model from a sorted hourly TOTAL load series (MW). */
export function fitLoad(series: readonly TimedValue[]): { load: Omit<LoadParams, 'priceCorrelation'>; dailyLevel: Map<number, number> } {
  let maxMW = 0;
  for (const p of series) if (p.value > maxMW) maxMW = p.value;
  const positive = series.filter((p) => p.value > 0);
  const { table: meanMW } = monthHourMeans(positive);
  const logMean = monthHourMeans(positive.map((p) => ({ ms: p.ms, value: Math.log(p.value) }))).table;
  const residuals = positive.map((p) => {
    const { month, hour } = monthHourOf(p.ms);
    return { ms: p.ms, value: Math.log(p.value) - cell(logMean, month, hour) };
  });
  const { noise, dailyLevel } = fitTwoScaleNoise(residuals, 3_600_000);
  // 5 % above the observed peak: room for growth and a hotter year, not for a lognormal tail.
  return { load: { meanMW, noise, capMW: Math.round(maxMW * 1.05) }, dailyLevel };
}

/** Correlation of two daily level maps over their common days. */
export function dailyCorrelation(a: Map<number, number>, b: Map<number, number>): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [d, v] of a) {
    const w = b.get(d);
    if (w !== undefined) {
      xs.push(v);
      ys.push(w);
    }
  }
  return correlation(xs, ys);
}

/** Daily log returns of a dated price series; only consecutive calendar days count. */
export function dailyLogReturns(days: readonly { dateUtc: string; priceUsd: number }[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < days.length; i++) {
    const a = days[i - 1] as { dateUtc: string; priceUsd: number };
    const b = days[i] as { dateUtc: string; priceUsd: number };
    if (a.priceUsd > 0 && b.priceUsd > 0 && Date.parse(b.dateUtc) - Date.parse(a.dateUtc) === MS_PER_DAY) out.push(Math.log(b.priceUsd / a.priceUsd));
  }
  return out;
}

/** GBM drift and volatility per year from daily log returns (365-day year: BTC trades every day). */
export function fitGbm(logReturns: readonly number[]): { driftPerYear: number; volPerYear: number } {
  const m = mean(logReturns);
  const s = std(logReturns);
  return { driftPerYear: (m + (s * s) / 2) * 365, volPerYear: s * Math.sqrt(365) };
}

/**
 * Day-ahead premium: Σ DA / Σ hourly-mean RT − 1 over the hours that have a DA price and every RT
 * interval (`rt` at `intervalMinutes`, `da` hourly; both keyed by start ms). NaN with no such hour
 * or a non-positive RT sum (the ratio would be meaningless).
 */
export function fitDayAheadPremium(rt: readonly TimedValue[], da: readonly TimedValue[], intervalMinutes: number): { premium: number; hours: number } {
  const perHour = 60 / intervalMinutes;
  const hourly = new Map<number, { sum: number; n: number }>();
  for (const p of rt) {
    const h = Math.floor(p.ms / 3_600_000) * 3_600_000;
    const acc = hourly.get(h) ?? { sum: 0, n: 0 };
    acc.sum += p.value;
    acc.n++;
    hourly.set(h, acc);
  }
  let sumDa = 0;
  let sumRt = 0;
  let hours = 0;
  for (const d of da) {
    const r = hourly.get(d.ms);
    if (!r || r.n !== perHour) continue;
    sumDa += d.value;
    sumRt += r.sum / r.n;
    hours++;
  }
  return { premium: hours > 0 && sumRt > 0 ? sumDa / sumRt - 1 : NaN, hours };
}

/** Mean and standard deviation of ln(D_next/D) over consecutive epochs. */
export function fitEpochGrowth(difficulties: readonly number[]): { meanLog: number; sdLog: number } {
  const logs: number[] = [];
  for (let i = 1; i < difficulties.length; i++) {
    const a = difficulties[i - 1] as number;
    const b = difficulties[i] as number;
    if (a > 0 && b > 0) logs.push(Math.log(b / a));
  }
  return { meanLog: mean(logs), sdLog: std(logs) };
}

/** Fees per block: median, log standard deviation and day-to-day AR(1) of ln(fees per block). */
export function fitFees(days: readonly { dateUtc: string; feesBtcPerBlock: number }[]): { medianBtc: number; sigmaLog: number; dailyAr1: number } {
  const valid = days.filter((d) => d.feesBtcPerBlock > 0);
  const logs = valid.map((d) => Math.log(d.feesBtcPerBlock));
  const sorted = [...logs].sort((a, b) => a - b);
  const mid = sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) / 2 + (sorted[Math.ceil((sorted.length - 1) / 2)] as number) / 2 : NaN;
  const pairs: [number, number][] = [];
  for (let i = 1; i < valid.length; i++) {
    const a = valid[i - 1] as { dateUtc: string };
    const b = valid[i] as { dateUtc: string };
    if (Date.parse(b.dateUtc) - Date.parse(a.dateUtc) === MS_PER_DAY) pairs.push([logs[i - 1] as number, logs[i] as number]);
  }
  return { medianBtc: Math.exp(mid), sigmaLog: std(logs), dailyAr1: pairCorrelation(pairs) };
}
