/**
 * The seeded synthetic market: RT prices (every `intervalMinutes`), DA hourly prices, hourly ERCOT
 * system load, and daily Bitcoin price / difficulty / fees / height. Pure and deterministic: the same
 * params, seed and window give the same numbers bit for bit. Everything it returns is labelled.
 */
import { hashpriceUsdPerPhDay } from '../bitcoin/hashprice.js';
import { blockSubsidyBtc } from '../bitcoin/subsidy.js';
import { MS_PER_DAY, MS_PER_HOUR } from '../core/time.js';
import { initialBtcState, stepBtcDay, type SyntheticBtcDay } from './btc-model.js';
import { LoadModel, PriceModel } from './power-model.js';
import { monthHourOf, SYNTHETIC_LABEL, SYNTHETIC_MARKET, type ScenarioParams } from './params.js';
import { Rng } from '../core/prng.js';

export interface GenerateOptions {
  seed: number | string;
  /** First day, UTC midnight, ms. */
  startMs: number;
  days: number;
  /** RT interval length, minutes; must divide 60. Default 15 (ERCOT settlement). */
  intervalMinutes?: number;
}

/** A regular series: value i covers [startMs + i·intervalMinutes, +intervalMinutes). */
export interface SyntheticSeries {
  synthetic: true;
  label: typeof SYNTHETIC_LABEL;
  startMs: number;
  intervalMinutes: number;
  unit: 'USD/MWh' | 'MW';
  values: Float64Array;
}

export interface SyntheticMarket {
  synthetic: true;
  label: typeof SYNTHETIC_LABEL;
  market: typeof SYNTHETIC_MARKET;
  settlementPoint: string;
  seed: number | string;
  startMs: number;
  days: number;
  /** Where the parameters came from (defaults / calibrated, with notes). */
  paramsSource: ScenarioParams['source'];
  notes: string[];
  rtPrice: SyntheticSeries;
  daPrice: SyntheticSeries;
  /** ERCOT system (TOTAL) load, hourly. */
  systemLoad: SyntheticSeries;
  btc: { synthetic: true; label: typeof SYNTHETIC_LABEL; days: SyntheticBtcDay[] };
}

function series(startMs: number, intervalMinutes: number, unit: SyntheticSeries['unit'], n: number): SyntheticSeries {
  return { synthetic: true, label: SYNTHETIC_LABEL, startMs, intervalMinutes, unit, values: new Float64Array(n) };
}

/** Generates `days` days of synthetic market from `params`. */
export function generateMarket(params: ScenarioParams, opts: GenerateOptions): SyntheticMarket {
  const intervalMinutes = opts.intervalMinutes ?? 15;
  if (!Number.isSafeInteger(opts.days) || opts.days < 1) throw new RangeError(`days must be a positive integer, got ${opts.days}`);
  if (!Number.isSafeInteger(opts.startMs) || opts.startMs % MS_PER_DAY !== 0) throw new RangeError('startMs must be a UTC midnight');
  const perHour = 60 / intervalMinutes;
  const prices = new PriceModel(params.power, intervalMinutes);
  const load = new LoadModel(params.load);
  // Independent streams per process, so adding a draw to one never shifts the others.
  const rngPower = new Rng(opts.seed, 1);
  const rngLoad = new Rng(opts.seed, 2);
  const rngDa = new Rng(opts.seed, 3);
  const rngBtc = new Rng(opts.seed, 4);
  const ps = prices.initialState(rngPower);
  const ls = load.initialState(rngLoad);
  const bs = initialBtcState(params.btc, opts.startMs);
  const rt = series(opts.startMs, intervalMinutes, 'USD/MWh', opts.days * 24 * perHour);
  const da = series(opts.startMs, 60, 'USD/MWh', opts.days * 24);
  const sys = series(opts.startMs, 60, 'MW', opts.days * 24);
  const btcDays: SyntheticBtcDay[] = [];
  const rho = Math.max(-1, Math.min(1, params.load.priceCorrelation));
  const c = params.power.spike.loadCoupling;
  for (let d = 0; d < opts.days; d++) {
    const dayMs = opts.startMs + d * MS_PER_DAY;
    if (d > 0) {
      const loadShock = rngLoad.normal();
      load.stepDay(ls, loadShock);
      prices.stepDay(ps, rho * loadShock + Math.sqrt(1 - rho * rho) * rngPower.normal());
    }
    const z = load.dailyZ(ls);
    const spikeMultiplier = Math.exp(c * z - (c * c) / 2);
    for (let h = 0; h < 24; h++) {
      const hourMs = dayMs + h * MS_PER_HOUR;
      const { month, hour } = monthHourOf(hourMs);
      const hi = d * 24 + h;
      sys.values[hi] = load.stepHour(ls, rngLoad, month, hour);
      da.values[hi] = prices.dayAhead(ps, rngDa, month, hour, spikeMultiplier);
      for (let q = 0; q < perHour; q++) rt.values[hi * perHour + q] = prices.stepInterval(ps, rngPower, month, hour, spikeMultiplier);
    }
    btcDays.push(stepBtcDay(params.btc, bs, rngBtc, dayMs));
  }
  return {
    synthetic: true,
    label: SYNTHETIC_LABEL,
    market: SYNTHETIC_MARKET,
    settlementPoint: params.settlementPoint,
    seed: opts.seed,
    startMs: opts.startMs,
    days: opts.days,
    paramsSource: params.source,
    notes: params.notes,
    rtPrice: rt,
    daPrice: da,
    systemLoad: sys,
    btc: { synthetic: true, label: SYNTHETIC_LABEL, days: btcDays },
  };
}

/** Daily synthetic hashprice, USD/PH/day, from the generated BTC price, difficulty, fees and height. */
export function syntheticDailyHashprice(m: SyntheticMarket): number[] {
  return m.btc.days.map((d) =>
    hashpriceUsdPerPhDay({
      btcPriceUsd: d.priceUsd,
      difficulty: d.difficulty,
      subsidyBtc: blockSubsidyBtc(d.heightEndOfDay),
      feesBtcPerBlock: d.blocks > 0 ? d.feesBtc / d.blocks : 0,
    }),
  );
}
