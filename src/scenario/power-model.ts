/**
 * The RT / DA price and system-load model, step by step. Precomputes per-cell constants once so the
 * inner loop is a few multiplications. Pure; randomness comes from the caller's Rng.
 */
import { cappedLognormalMean, cappedParetoMean, solveCappedLognormalMu } from './mathx.js';
import { BASE_INTERVAL_MINUTES, type LoadParams, type PowerPriceParams } from './params.js';
import type { Rng } from '../core/prng.js';

function at(t: number[][], m: number, h: number): number {
  return (t[m] as number[])[h] as number;
}

/** Per-interval state of the price process; `daily` and `fast` are unit-variance AR(1) states. */
export interface PriceState {
  daily: number;
  fast: number;
  negative: boolean;
  spikeRemaining: number;
}

export interface LoadState {
  daily: number;
  fast: number;
}

/** Unit-variance AR(1) coefficients: x' = phi·x + innov·ε keeps Var(x) = 1. */
function ar1(phi: number): { phi: number; innov: number } {
  const p = Math.min(0.9999, Math.max(0, phi));
  return { phi: p, innov: Math.sqrt(1 - p * p) };
}

/** Constants derived from PowerPriceParams for one interval length. */
export class PriceModel {
  readonly intervalMinutes: number;
  /** Log-mean of ordinary prices by month × hour, chosen so E[min(body, threshold)] = bodyMean. */
  private readonly bodyMu: number[][];
  private readonly fastAr: { phi: number; innov: number };
  private readonly dailyAr: { phi: number; innov: number };
  /** Per-interval spike arrival probability by month × hour (before load coupling). */
  private readonly spikeRate: number[][];
  private readonly spikeMeanDuration: number;
  private readonly negEnter: number[][];
  private readonly negStay: number;
  private readonly spikeMeanUsd: number;
  constructor(readonly p: PowerPriceParams, intervalMinutes: number) {
    if (!(intervalMinutes > 0) || 60 % intervalMinutes !== 0) throw new RangeError(`intervalMinutes must divide 60, got ${intervalMinutes}`);
    this.intervalMinutes = intervalMinutes;
    const k = intervalMinutes / BASE_INTERVAL_MINUTES;
    const n = p.noise;
    this.fastAr = ar1(Math.pow(Math.max(0, n.fastAr1), k));
    this.dailyAr = ar1(n.dailyAr1);
    const T = p.spike.thresholdUsdPerMWh;
    this.bodyMu = p.bodyMeanUsdPerMWh.map((row, m) => {
      const sigma = Math.hypot(n.dailySigmaLog[m] ?? 0, n.fastSigmaLog[m] ?? 0);
      return row.map((mean) => solveCappedLognormalMu(Math.min(Math.max(mean, 0.01), T * 0.999), sigma, T));
    });
    this.spikeMeanDuration = Math.max(1, p.spike.meanDurationIntervals / k);
    // Arrivals start only outside an event; spike occupancy is < 1 %, so events/day stays close.
    const perInterval = p.spike.eventsPerDay / (1440 / intervalMinutes);
    this.spikeRate = p.spike.monthWeight.map((mw) => p.spike.hourWeight.map((hw) => Math.min(1, perInterval * mw * hw)));
    const stay = Math.max(0, 1 - k / Math.max(1, p.negative.meanRunIntervals));
    this.negStay = stay;
    this.negEnter = p.negative.probability.map((row) => row.map((pi) => (pi >= 1 ? 1 : Math.min(1, (pi * (1 - stay)) / (1 - pi)))));
    this.spikeMeanUsd = cappedParetoMean(T, p.spike.paretoAlpha, p.spike.capUsdPerMWh);
  }

  initialState(rng: Rng): PriceState {
    return { daily: rng.normal(), fast: rng.normal(), negative: false, spikeRemaining: 0 };
  }

  /** Advances the daily level one day; `shock` is a N(0,1) draw (correlated with load's). */
  stepDay(s: PriceState, shock: number): void {
    s.daily = this.dailyAr.phi * s.daily + this.dailyAr.innov * shock;
  }

  /** One RT interval price, USD/MWh; `spikeMultiplier` scales the arrival rate (load coupling). */
  stepInterval(s: PriceState, rng: Rng, month: number, hour: number, spikeMultiplier: number): number {
    s.fast = this.fastAr.phi * s.fast + this.fastAr.innov * rng.normal();
    const T = this.p.spike.thresholdUsdPerMWh;
    const n = this.p.noise;
    const bodyRaw = Math.exp(at(this.bodyMu, month, hour) + (n.dailySigmaLog[month] as number) * s.daily + (n.fastSigmaLog[month] as number) * s.fast);
    const body = bodyRaw < T ? bodyRaw : T;
    // Negative regime: a two-state Markov chain whose stationary share is the month × hour probability.
    s.negative = s.negative ? rng.next() < this.negStay : rng.next() < at(this.negEnter, month, hour);
    if (s.spikeRemaining > 0) {
      s.spikeRemaining--;
      return this.spikePrice(rng);
    }
    if (rng.next() < at(this.spikeRate, month, hour) * spikeMultiplier) {
      s.spikeRemaining = rng.geometric(this.spikeMeanDuration) - 1;
      return this.spikePrice(rng);
    }
    if (s.negative) {
      const depth = rng.exponential(this.p.negative.meanDepthUsdPerMWh);
      return Math.max(-depth, this.p.negative.floorUsdPerMWh);
    }
    return body;
  }

  private spikePrice(rng: Rng): number {
    const x = rng.pareto(this.p.spike.thresholdUsdPerMWh, this.p.spike.paretoAlpha);
    return x < this.p.spike.capUsdPerMWh ? x : this.p.spike.capUsdPerMWh;
  }

  /**
   * The day-ahead hourly price: the RT expectation given the day's level (what the market knows the
   * day before), times a lognormal forecast error, times (1 + the DA premium). Spikes and negatives
   * enter as expectations.
   */
  dayAhead(s: PriceState, rng: Rng, month: number, hour: number, spikeMultiplier: number): number {
    const n = this.p.noise;
    const level = at(this.bodyMu, month, hour) + (n.dailySigmaLog[month] as number) * s.daily;
    const bodyGivenDay = cappedLognormalMean(level, Math.max(n.fastSigmaLog[month] as number, 1e-9), this.p.spike.thresholdUsdPerMWh);
    const pNeg = at(this.p.negative.probability, month, hour);
    const spikeOccupancy = Math.min(1, at(this.spikeRate, month, hour) * spikeMultiplier * this.spikeMeanDuration);
    const e = this.p.dayAhead.errorSigmaLog;
    const error = Math.exp(e * rng.normal() - (e * e) / 2);
    const expected = (1 - spikeOccupancy) * ((1 - pNeg) * bodyGivenDay * error - pNeg * this.p.negative.meanDepthUsdPerMWh) + spikeOccupancy * this.spikeMeanUsd;
    return expected * (1 + this.p.dayAhead.premium);
  }
}

/** System load model: month × hour mean times two-scale lognormal noise with unit mean. */
export class LoadModel {
  private readonly fastAr: { phi: number; innov: number };
  private readonly dailyAr: { phi: number; innov: number };
  constructor(readonly p: LoadParams) {
    this.fastAr = ar1(p.noise.fastAr1);
    this.dailyAr = ar1(p.noise.dailyAr1);
  }

  initialState(rng: Rng): LoadState {
    return { daily: rng.normal(), fast: rng.normal() };
  }

  stepDay(s: LoadState, shock: number): void {
    s.daily = this.dailyAr.phi * s.daily + this.dailyAr.innov * shock;
  }

  /** The day's standardized load level z (for spike coupling). */
  dailyZ(s: LoadState): number {
    return s.daily;
  }

  /** One hourly TOTAL load, MW. */
  stepHour(s: LoadState, rng: Rng, month: number, hour: number): number {
    s.fast = this.fastAr.phi * s.fast + this.fastAr.innov * rng.normal();
    const sd = this.p.noise.dailySigmaLog[month] as number;
    const sf = this.p.noise.fastSigmaLog[month] as number;
    const mw = at(this.p.meanMW, month, hour) * Math.exp(sd * s.daily + sf * s.fast - (sd * sd + sf * sf) / 2);
    return mw < this.p.capMW ? mw : this.p.capMW;
  }
}
