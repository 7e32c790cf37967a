/**
 * The `strike` rule peers ship, as a pure per-interval decision usable by a live site agent:
 * a fleet sleeps after the real-time price exceeded its strike (default: break-even at the day's
 * hashprice) for N consecutive intervals, wakes after M intervals at or below it (and not before
 * minOffMinutes asleep), sleeps during 4CP alerts, moves at most rampMWPerMinute, and never takes
 * more than the interconnect headroom (most efficient fleet first; the import limit beats ramp).
 * An optional high strike (`highStrikeUsdPerMWh`) trips every fleet at once: a price at or above it
 * sleeps them on that observation, whatever the interval counts say, without waiting for the ramp
 * (they wake by the usual count at or below their strike). Each call is one price observation
 * (`lastPriceUsdPerMWh`; undefined = no new price, only time moved: min-off and ramps progress).
 * The back-test observes each 15-minute price once, at the start of the next interval (the decision
 * for an interval sees prices up to the previous interval only); the live agent calls it when each
 * new price arrives and on every tick between (see fleet/agent/targets.ts).
 * This is also the documented safe fallback when a solver fails.
 */
import type { StrikeConfig } from '../site/types.js';
import { ersAwards, fleetFloorsMW, strikeDayAheadAwards } from './ancillary.js';
import { baselineAiItMW, efficiencyOrder, emptyPlan, fleetHeadroomMW, lastKnownPrice } from './baseline.js';
import { fleetModel, strikeUsdPerMWh, type FleetModel } from './fleet-model.js';
import { Reason, type DispatchInput, type Plan, type PolicyOptions, type PolicyResult, type ReasonCode } from './types.js';

export interface StrikeState {
  /** Per fleet: the price rule says run. */
  awake: boolean[];
  above: number[];
  below: number[];
  /** Per fleet: start of the current fully-off stretch, UTC ms; NaN while running. */
  offSinceMs: number[];
  /** Per fleet: MW commanded for the previous interval; NaN before the first decision. */
  mw: number[];
  /** Start of the previous decided interval, UTC ms; NaN before the first. */
  lastStartMs: number;
}

export interface StrikeObservation {
  /** Start of the interval being decided, UTC ms. */
  startMs: number;
  /** Realized real-time price of the previous interval, USD/MWh; undefined when unknown. */
  lastPriceUsdPerMWh: number | undefined;
  hashpriceUsdPerPhDay: number;
  fourCpAlert: boolean;
  /** Interconnect MW available to the fleets this interval. */
  headroomMW: number;
  /** Per fleet: MW a grid award holds this interval (the fleet keeps at least this running, price or 4CP alert notwithstanding). */
  floorMW?: readonly number[];
}

export interface StrikeDecision {
  state: StrikeState;
  fleetMW: number[];
  reason: ReasonCode[];
}

export function initialStrikeState(fleetCount: number): StrikeState {
  return {
    awake: new Array<boolean>(fleetCount).fill(true),
    above: new Array<number>(fleetCount).fill(0),
    below: new Array<number>(fleetCount).fill(0),
    offSinceMs: new Array<number>(fleetCount).fill(NaN),
    mw: new Array<number>(fleetCount).fill(NaN),
    lastStartMs: NaN,
  };
}

/** One strike decision for every fleet (pure: returns the next state). */
export function strikeDecide(models: readonly FleetModel[], cfg: StrikeConfig, prev: StrikeState, obs: StrikeObservation, order = efficiencyOrder(models)): StrikeDecision {
  const s: StrikeState = {
    awake: [...prev.awake],
    above: [...prev.above],
    below: [...prev.below],
    offSinceMs: [...prev.offSinceMs],
    mw: [...prev.mw],
    lastStartMs: obs.startMs,
  };
  const elapsedMin = Number.isNaN(prev.lastStartMs) ? Infinity : (obs.startMs - prev.lastStartMs) / 60_000;
  const fleetMW = new Array<number>(models.length).fill(0);
  const reason = new Array<ReasonCode>(models.length).fill(Reason.none);
  let left = Math.max(0, obs.headroomMW);
  for (const f of order) {
    const m = models[f] as FleetModel;
    const strike = strikeUsdPerMWh(m, obs.hashpriceUsdPerPhDay) + (cfg.offsetUsdPerMWh ?? 0);
    const p = obs.lastPriceUsdPerMWh;
    const trip = p !== undefined && cfg.highStrikeUsdPerMWh !== undefined && p >= cfg.highStrikeUsdPerMWh;
    if (p !== undefined) {
      if (p > strike) {
        s.above[f] = (s.above[f] as number) + 1;
        s.below[f] = 0;
      } else {
        s.below[f] = (s.below[f] as number) + 1;
        s.above[f] = 0;
      }
    }
    if (trip) {
      // The high strike acts on this price alone; the wake count starts afresh from it.
      s.awake[f] = false;
      s.below[f] = 0;
    } else if (s.awake[f] && (s.above[f] as number) >= cfg.sleepAfterIntervals) s.awake[f] = false;
    else if (!s.awake[f] && (s.below[f] as number) >= cfg.wakeAfterIntervals) s.awake[f] = true;

    const off = s.offSinceMs[f] as number;
    const heldOff = !Number.isNaN(off) && obs.startMs - off < m.fleet.minOffMinutes * 60_000;
    let target = m.nominalMW;
    let why: ReasonCode = Reason.none;
    if (obs.fourCpAlert) [target, why] = [0, Reason.fourCp];
    else if (!s.awake[f]) [target, why] = [0, Reason.price];
    else if (heldOff) [target, why] = [0, Reason.minOff];
    // An award is an obligation: it holds through a price spike or an alert (not through min-off, ramp or the interconnect).
    const floor = Math.min(obs.floorMW?.[f] ?? 0, m.maxMW);
    if (floor > 0 && target < floor && why !== Reason.minOff) [target, why] = [Math.max(target, floor), floor >= m.nominalMW - 1e-9 ? Reason.none : why];
    const prevMW = s.mw[f] as number;
    let mw = target;
    const ramp = m.fleet.rampMWPerMinute;
    if (ramp !== undefined && !Number.isNaN(prevMW)) {
      const step = ramp * elapsedMin;
      if (mw > prevMW + step) [mw, why] = [prevMW + step, why === Reason.none ? Reason.ramp : why];
      else if (mw < prevMW - step && !trip) mw = prevMW - step;
    }
    if (mw > left) [mw, why] = [left, why === Reason.none || why === Reason.ramp ? Reason.importLimit : why];
    mw = Math.max(0, mw);
    left -= mw;
    fleetMW[f] = mw;
    reason[f] = mw < m.nominalMW - 1e-9 ? (why === Reason.none ? Reason.ramp : why) : Reason.none;
    s.mw[f] = mw;
    if (mw <= 1e-9) {
      if (Number.isNaN(off)) s.offSinceMs[f] = obs.startMs;
    } else s.offSinceMs[f] = NaN;
  }
  return { state: s, fleetMW, reason };
}

/** The strike rule one interval at a time: the back-test runs it over the window, the live dispatcher as each interval starts. */
export interface StrikeStepper {
  readonly plan: Plan;
  /** Decides interval t from what is known at its start (the last published price). Call in order. */
  decideInterval(t: number): void;
  finish(): PolicyResult;
}

export function strikeStepper(input: DispatchInput, options: PolicyOptions = {}, policyName = 'strike'): StrikeStepper {
  const t0 = options.nowMs?.() ?? 0;
  const models = input.site.fleets.map(fleetModel);
  const plan = emptyPlan(policyName, input);
  plan.aiItMW = baselineAiItMW(input);
  const head = fleetHeadroomMW(input, plan.aiItMW);
  const order = efficiencyOrder(models);
  let state = initialStrikeState(models.length);
  const n = input.startMs.length;
  // Grid services: offered day-ahead at the opportunity cost, then held (see ancillary.ts).
  const awards = input.site.ancillary ? [...strikeDayAheadAwards(input, models), ...ersAwards(input.site, input.startMs)] : [];
  // Awards are known day-ahead, so a fleet about to hold one does not sleep now: machines put to sleep
  // stay asleep minOffMinutes and would miss it. The floor looks that far ahead.
  const floors = awards.length > 0 ? fleetFloorsMW(input.site, awards, n).map((fl, f) => lookAheadMax(fl, input.startMs, models[f]?.fleet.minOffMinutes ?? 0)) : undefined;
  if (awards.length > 0) plan.awards = awards;
  return {
    plan,
    decideInterval(t: number): void {
      const d = strikeDecide(models, input.site.dispatch.strike, state, {
        startMs: input.startMs[t] as number,
        lastPriceUsdPerMWh: lastKnownPrice(input, t),
        hashpriceUsdPerPhDay: input.hashpriceUsdPerPhDay[t] as number,
        fourCpAlert: input.fourCpAlert[t] === 1,
        headroomMW: head[t] as number,
        ...(floors ? { floorMW: floors.map((a) => a[t] as number) } : {}),
      }, order);
      state = d.state;
      for (let f = 0; f < models.length; f++) {
        (plan.fleetMW[f] as Float64Array)[t] = d.fleetMW[f] as number;
        (plan.reason[f] as Uint8Array)[t] = d.reason[f] as number;
      }
    },
    finish: () => ({ plan, solveSeconds: ((options.nowMs?.() ?? 0) - t0) / 1000, safeFallbacks: 0, notes: [] }),
  };
}

/** Runs the strike rule over a whole window (back-test; also the safe fallback for solvers). */
export function strikePolicy(input: DispatchInput, options: PolicyOptions = {}, policyName = 'strike'): PolicyResult {
  const stepper = strikeStepper(input, options, policyName);
  for (let t = 0; t < input.startMs.length; t++) stepper.decideInterval(t);
  return stepper.finish();
}

/** max(floor[t'] for t' with startMs[t'] < startMs[t] + minutes), per t (the floor itself without min-off). */
function lookAheadMax(floor: Float64Array, startMs: Float64Array, minutes: number): Float64Array {
  if (minutes <= 0) return floor;
  const out = new Float64Array(floor.length);
  for (let t = 0; t < floor.length; t++) {
    let m = floor[t] as number;
    for (let k = t + 1; k < floor.length && (startMs[k] as number) < (startMs[t] as number) + minutes * 60_000; k++) m = Math.max(m, floor[k] as number);
    out[t] = m;
  }
  return out;
}
