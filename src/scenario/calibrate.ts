/**
 * Calibration: derives ScenarioParams from the real data in a MarketStore (the I/O side; the
 * estimators are pure, in estimate.ts). Each section falls back to the built-in default, with a note
 * saying so, when the store has too little data for it in the window.
 */
import { MS_PER_DAY, parseUtcDate, utcDate } from '../core/time.js';
import { badInput } from '../core/errors.js';
import type { BtcDay, DifficultyEpoch } from '../market/types.js';
import type { MarketStore } from '../market/store-port.js';
import { DEFAULT_SCENARIO_PARAMS, POWER_FIXED } from './defaults.js';
import { dailyCorrelation, dailyLogReturns, fitDayAheadPremium, fitEpochGrowth, fitFees, fitGbm, fitLoad, fitLoadCoupling, fitPowerPrices, type TimedValue } from './estimate.js';
import type { BtcParams, ScenarioParams } from './params.js';

export interface CalibrateOptions {
  /** ERCOT settlement point, e.g. 'HB_WEST'. */
  settlementPoint: string;
  /** First UTC day of the window, YYYY-MM-DD. */
  from: string;
  /** Last UTC day of the window (inclusive), YYYY-MM-DD. */
  to: string;
  /** Market of the real series; default 'ERCOT'. */
  market?: string;
}

export interface CalibrationResult {
  params: ScenarioParams;
  /** Which sections came from data (true) or the built-in defaults (false). */
  calibrated: { power: boolean; load: boolean; btcPrice: boolean; difficulty: boolean; fees: boolean };
  /** Sample sizes behind each estimate. */
  samples: { priceIntervals: number; priceSource: 'RT' | 'DA' | 'none'; loadHours: number; btcReturns: number; epochs: number; feeDays: number };
}

/** BTC drift and volatility are estimated over one halving cycle (4 × 365.25 days) ending at the window's end. */
export const BTC_PRICE_WINDOW_DAYS = 1461;

/** Days of data a section needs before it is calibrated rather than defaulted. */
const MIN_DAYS = 28;

type StoreReader = Pick<MarketStore, 'prices' | 'loads' | 'btcDays' | 'epochs'>;

function finite(...xs: number[]): boolean {
  return xs.every((x) => Number.isFinite(x));
}

/** Calibrates every section it can from `store` over [from, to]; see CalibrationResult. */
export async function calibrate(store: StoreReader, opts: CalibrateOptions): Promise<CalibrationResult> {
  const market = opts.market ?? 'ERCOT';
  const sp = opts.settlementPoint.toUpperCase();
  let fromMs: number;
  let toMs: number;
  try {
    fromMs = parseUtcDate(opts.from);
  } catch (err) {
    throw badInput((err as Error).message, '--from');
  }
  try {
    toMs = parseUtcDate(opts.to) + MS_PER_DAY; // exclusive end
  } catch (err) {
    throw badInput((err as Error).message, '--to');
  }
  if (toMs <= fromMs) throw badInput(`window is empty: ${opts.from} .. ${opts.to}`, '--to');
  const d = structuredClone(DEFAULT_SCENARIO_PARAMS);
  const notes: string[] = [];
  const calibrated = { power: false, load: false, btcPrice: false, difficulty: false, fees: false };
  const inWindow = (ms: number) => ms >= fromMs && ms < toMs;

  // Power: RT preferred; DA hourly as a fallback (spikes are then understated, said in a note).
  let priceSource: 'RT' | 'DA' | 'none' = 'none';
  let priceSeries: TimedValue[] = [];
  let intervalMinutes = 15;
  for (const kind of ['RT', 'DA'] as const) {
    const rows = (await store.prices({ market, settlementPoint: sp, kind, fromMs, toMs })).filter((p) => inWindow(p.intervalStartMs));
    if (rows.length === 0) continue;
    intervalMinutes = (rows[0] as { intervalMinutes: number }).intervalMinutes;
    const perDay = 1440 / intervalMinutes;
    if (rows.length / perDay < MIN_DAYS) continue;
    priceSeries = rows.filter((r) => r.intervalMinutes === intervalMinutes).map((r) => ({ ms: r.intervalStartMs, value: r.priceUsdPerMWh }));
    priceSource = kind;
    break;
  }
  const loadRows = (await store.loads({ market, zone: 'TOTAL', fromMs, toMs })).filter((p) => inWindow(p.intervalStartMs) && p.intervalMinutes === 60);
  let loadDaily: Map<number, number> | undefined;
  if (loadRows.length / 24 >= MIN_DAYS) {
    const fit = fitLoad(loadRows.map((r) => ({ ms: r.intervalStartMs, value: r.loadMW })));
    if (finite(...fit.load.noise.dailySigmaLog, ...fit.load.noise.fastSigmaLog, fit.load.noise.dailyAr1, fit.load.noise.fastAr1)) {
      d.load = { ...fit.load, priceCorrelation: d.load.priceCorrelation };
      loadDaily = fit.dailyLevel;
      calibrated.load = true;
      notes.push(`load: ERCOT TOTAL hourly ${opts.from}..${opts.to} (${loadRows.length} h)`);
    }
  }
  if (!calibrated.load) notes.push('load: built-in default (no ERCOT TOTAL load in the window)');

  if (priceSource !== 'none') {
    const fit = fitPowerPrices(priceSeries, intervalMinutes, {
      ...POWER_FIXED,
      loadCoupling: d.power.spike.loadCoupling,
      dayAheadErrorSigmaLog: d.power.dayAhead.errorSigmaLog,
      dayAheadPremium: d.power.dayAhead.premium,
    });
    const p = fit.power;
    if (finite(...p.noise.dailySigmaLog, ...p.noise.fastSigmaLog, p.noise.dailyAr1, p.noise.fastAr1)) {
      // A window with no spikes keeps the default tail shape and duration but a zero-ish rate.
      if (!finite(p.spike.paretoAlpha, p.spike.meanDurationIntervals)) {
        p.spike.paretoAlpha = d.power.spike.paretoAlpha;
        p.spike.meanDurationIntervals = d.power.spike.meanDurationIntervals;
        notes.push('power: no spikes in the window; tail shape and duration are the defaults');
      }
      if (intervalMinutes !== 15) {
        // Per-step coefficients are defined per 15 minutes.
        const k = 15 / intervalMinutes;
        p.noise.fastAr1 = Math.pow(Math.max(0, p.noise.fastAr1), k);
        p.spike.meanDurationIntervals *= intervalMinutes / 15;
        p.negative.meanRunIntervals *= intervalMinutes / 15;
      }
      if (loadDaily) {
        const c = fitLoadCoupling(fit.eventsByDay, loadDaily);
        if (Number.isFinite(c)) p.spike.loadCoupling = Math.max(0, Math.min(3, c));
        const rho = dailyCorrelation(fit.dailyLevel, loadDaily);
        if (Number.isFinite(rho)) d.load.priceCorrelation = rho;
      }
      d.power = p;
      calibrated.power = true;
      notes.push(
        `power: ${market} ${sp} ${priceSource} ${opts.from}..${opts.to} (${priceSeries.length} intervals, ${fit.stats.spikeEvents} spike events, ${fit.stats.negativeIntervals} negative intervals)` +
          (priceSource === 'DA' ? '; from day-ahead hourly prices, so RT spikes are understated' : ''),
      );
      if (fit.stats.filledCells > 0) notes.push(`power: ${fit.stats.filledCells} month×hour cells had no data and were filled from other months`);
      // The DA premium needs both markets over the same hours; RT alone cannot identify it.
      if (priceSource === 'RT') {
        const da = (await store.prices({ market, settlementPoint: sp, kind: 'DA', fromMs, toMs })).filter((x) => inWindow(x.intervalStartMs) && x.intervalMinutes === 60);
        const prem = fitDayAheadPremium(priceSeries, da.map((x) => ({ ms: x.intervalStartMs, value: x.priceUsdPerMWh })), intervalMinutes);
        if (Number.isFinite(prem.premium) && prem.hours >= MIN_DAYS * 24) {
          p.dayAhead.premium = prem.premium;
          notes.push(`day-ahead premium: ${(100 * prem.premium).toFixed(1)} % (mean DA / mean RT − 1 over ${prem.hours} hours with both)`);
        } else notes.push(`day-ahead premium: built-in default ${(100 * d.power.dayAhead.premium).toFixed(1)} % (too few hours with both DA and RT prices)`);
      }
    }
  }
  if (!calibrated.power) notes.push(`power: built-in default (no ${market} ${sp} prices in the window)`);

  const b = await calibrateBtc(store, { from: opts.from, to: opts.to });
  d.btc = b.btc;
  notes.push(...b.notes);
  Object.assign(calibrated, b.calibrated);

  const sections = Object.values(calibrated);
  d.source = sections.every(Boolean) ? 'calibrated' : sections.some(Boolean) ? 'mixed' : 'defaults';
  d.settlementPoint = sp;
  d.notes = notes;
  if (d.source === 'defaults') notes.unshift('no usable real data in the store for this window: using the built-in defaults');
  return {
    params: d,
    calibrated,
    samples: { priceIntervals: priceSeries.length, priceSource, loadHours: loadRows.length, ...b.samples },
  };
}

export interface BtcCalibration {
  btc: BtcParams;
  notes: string[];
  calibrated: { btcPrice: boolean; difficulty: boolean; fees: boolean };
  samples: { btcReturns: number; epochs: number; feeDays: number };
}

/**
 * The Bitcoin section alone over [from, to] (UTC days, inclusive): GBM drift and volatility, epoch
 * growth, fees, and the start state as of `to`. Used by calibrate() and by callers whose BTC
 * window differs from their power window (the planner starts BTC at its own start date).
 */
export async function calibrateBtc(store: Pick<MarketStore, 'btcDays' | 'epochs'>, opts: { from: string; to: string }): Promise<BtcCalibration> {
  const fromMs = parseUtcDate(opts.from);
  const toMs = parseUtcDate(opts.to) + MS_PER_DAY;
  const inWindow = (ms: number) => ms >= fromMs && ms < toMs;
  const notes: string[] = [];
  const calibrated = { btcPrice: false, difficulty: false, fees: false };
  const allDays = await store.btcDays('2009-01-03', opts.to);
  const windowDays = allDays.filter((x) => inWindow(parseUtcDate(x.dateUtc)));
  // Drift and volatility: one halving cycle (BTC_PRICE_WINDOW_DAYS) ending at `to`, whatever the
  // other sections' window: a whole cycle averages its boom and bust, so neither end point is a peak.
  const priceFrom = utcDate(toMs - BTC_PRICE_WINDOW_DAYS * MS_PER_DAY);
  const priced = allDays.filter((x) => x.dateUtc >= priceFrom && x.priceUsd !== undefined && x.priceUsd > 0) as { dateUtc: string; priceUsd: number }[];
  const returns = dailyLogReturns(priced);
  const btc: BtcParams = structuredClone(DEFAULT_SCENARIO_PARAMS.btc);
  if (returns.length >= 365) {
    const g = fitGbm(returns);
    btc.priceDriftPerYear = g.driftPerYear;
    btc.priceVolPerYear = g.volPerYear;
    btc.priceDriftStdErrPerYear = g.volPerYear / Math.sqrt(returns.length / 365);
    btc.priceWindow = { from: priced[0]?.dateUtc ?? priceFrom, to: priced[priced.length - 1]?.dateUtc ?? opts.to };
    calibrated.btcPrice = true;
    notes.push(
      `btc price: GBM from ${returns.length} daily log returns ${btc.priceWindow.from}..${btc.priceWindow.to} (${returns.length >= BTC_PRICE_WINDOW_DAYS - 2 ? 'one halving cycle' : 'LESS than a halving cycle: the drift leans on where the window starts and ends'}): drift ${(100 * g.driftPerYear).toFixed(1)} %/yr ` +
        `(median path ${(100 * (g.driftPerYear - (g.volPerYear * g.volPerYear) / 2)).toFixed(1)} %/yr, s.e. ${(100 * btc.priceDriftStdErrPerYear).toFixed(1)}), volatility ${(100 * g.volPerYear).toFixed(1)} %/yr`,
    );
  } else notes.push(`btc price: built-in default drift and volatility (fewer than 365 daily prices in the ${BTC_PRICE_WINDOW_DAYS} days to ${opts.to})`);

  const epochs = (await store.epochs()).filter((e) => inWindow(parseUtcDate(e.startDateUtc)));
  if (epochs.length >= 4) {
    const g = fitEpochGrowth(epochs.map((e) => e.difficulty));
    if (finite(g.meanLog, g.sdLog)) {
      btc.difficultyGrowthPerEpoch = g;
      calibrated.difficulty = true;
      notes.push(`difficulty: growth per epoch from ${epochs.length} epochs ${opts.from}..${opts.to}`);
    }
  }
  if (!calibrated.difficulty) notes.push('difficulty: built-in default growth per epoch (too few epochs in the window)');

  const feeDays = windowDays
    .filter((x) => x.feesBtc !== undefined && x.blocks !== undefined && x.blocks > 0)
    .map((x) => ({ dateUtc: x.dateUtc, feesBtcPerBlock: (x.feesBtc as number) / (x.blocks as number) }));
  if (feeDays.length >= MIN_DAYS) {
    const f = fitFees(feeDays);
    if (finite(f.medianBtc, f.sigmaLog, f.dailyAr1)) {
      btc.feesPerBlock = f;
      calibrated.fees = true;
      notes.push(`fees: per block from ${feeDays.length} days ${opts.from}..${opts.to}`);
    }
  }
  if (!calibrated.fees) notes.push('fees: built-in default (no daily fees and block counts in the window)');

  // Start state: the last known values on or before `to`.
  const lastWith = <K extends 'priceUsd' | 'heightEndOfDay'>(k: K) => [...allDays].reverse().find((x) => x[k] !== undefined);
  const lastPrice = lastWith('priceUsd');
  const lastHeight = lastWith('heightEndOfDay');
  const difficulty = latestDifficulty(await store.epochs(), allDays, opts.to);
  if (lastPrice?.priceUsd !== undefined && difficulty && lastHeight?.heightEndOfDay !== undefined) {
    // Heights after the last known one are extrapolated from daily block counts, else 144 a day.
    let height = lastHeight.heightEndOfDay;
    let lastDay = lastHeight.dateUtc;
    for (const x of allDays) {
      if (x.dateUtc <= lastHeight.dateUtc) continue;
      height += x.blocks ?? 144;
      lastDay = x.dateUtc;
    }
    height += Math.round(Math.max(0, (parseUtcDate(opts.to) - parseUtcDate(lastDay)) / MS_PER_DAY) * 144);
    btc.start = {
      dateUtc: opts.to,
      priceUsd: lastPrice.priceUsd,
      difficulty: difficulty.difficulty,
      heightEndOfDay: height,
      feesBtcPerBlock: feeDays.length ? (feeDays[feeDays.length - 1] as { feesBtcPerBlock: number }).feesBtcPerBlock : btc.feesPerBlock.medianBtc,
    };
    notes.push(
      `btc start: price of ${lastPrice.dateUtc}, difficulty of ${difficulty.dateUtc}, height of ${lastHeight.dateUtc}` +
        (height !== lastHeight.heightEndOfDay ? ` extrapolated to ${opts.to}` : ''),
    );
  } else notes.push(`btc start: built-in default state of ${btc.start.dateUtc}`);

  return { btc, notes, calibrated, samples: { btcReturns: returns.length, epochs: epochs.length, feeDays: feeDays.length } };
}

/**
 * The default calibration window for a settlement point: the two years that end on the ERCOT
 * (UTC−6) day of the store's last RT price for it, else of its last BTC price, else 2024.
 */
export async function defaultCalibrationWindow(store: Pick<MarketStore, 'coverage'>, settlementPoint: string, market = 'ERCOT'): Promise<{ from: string; to: string }> {
  const cov = await store.coverage({ topGaps: 0 });
  const rt = cov.find((c) => c.key.kind === 'price' && c.key.market === market && c.key.settlementPoint === settlementPoint && c.key.priceKind === 'RT');
  const btc = cov.find((c) => c.key.kind === 'btc' && c.key.field === 'priceUsd');
  const last = rt?.lastMs ?? btc?.lastMs;
  const endMs = last === undefined ? parseUtcDate('2024-12-31') : Math.floor((last - 6 * 3_600_000) / MS_PER_DAY) * MS_PER_DAY;
  const end = new Date(endMs);
  return { from: new Date(Date.UTC(end.getUTCFullYear() - 2, end.getUTCMonth(), end.getUTCDate() + 1)).toISOString().slice(0, 10), to: end.toISOString().slice(0, 10) };
}

/**
 * The newest difficulty on or before `to`: the last epoch, or a newer daily value when the daily
 * series goes further (only a day equal to the day before, since retarget days hold a blend).
 */
export function latestDifficulty(epochs: readonly DifficultyEpoch[], days: readonly BtcDay[], to: string): { difficulty: number; dateUtc: string } | undefined {
  const epoch = epochs.filter((e) => e.startDateUtc <= to).pop();
  let daily: { difficulty: number; dateUtc: string } | undefined;
  for (let i = days.length - 1; i > 0 && !daily; i--) {
    const a = (days[i - 1] as BtcDay).difficulty;
    const b = days[i] as BtcDay;
    if (a !== undefined && b.difficulty !== undefined && b.dateUtc <= to && Math.abs(b.difficulty / a - 1) < 1e-6) daily = { difficulty: b.difficulty, dateUtc: b.dateUtc };
  }
  if (epoch && (!daily || epoch.startDateUtc >= daily.dateUtc)) return { difficulty: epoch.difficulty, dateUtc: epoch.startDateUtc };
  return daily;
}
