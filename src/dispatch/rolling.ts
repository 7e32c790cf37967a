/**
 * `rolling`: what an operator can really do. Every stepMinutes it re-solves the dispatch LP over
 * the next horizonHours with only what is known then, executes the first step, and settles at the
 * realized real-time price. Forecasts (see README.md): the current step uses the highest of the
 * last two realized RT prices (persistence; or DA with nearTerm: da); later intervals the day-ahead price once the
 * DAM for that day has been published (14:00 CPT the day before), else the latest published DA of
 * the same hour, else the RT price a week earlier, plus the last RT−DA deviation decaying 0.8 per
 * interval. Hashprice: today's value for the whole horizon. 4CP: today's alert
 * windows (forecast from yesterday's load) are charged as if each were the peak; on later days
 * every window hour of a listed month is. A failed step runs the strike rule (safe fallback).
 */
import { MulletError } from '../core/errors.js';
import { MS_PER_DAY, MS_PER_HOUR } from '../core/time.js';
import { rollingGrid } from './ancillary-rolling.js';
import { baselineAiItMW, efficiencyOrder, emptyPlan, fleetHeadroomMW, lastKnownPrice } from './baseline.js';
import { cptDayIndex, cptHour, cptMonth } from './calendar.js';
import { buildDispatchLp, type DeferrableGroup, type DispatchLpSpec, type FleetHistory } from './formulation.js';
import { fleetModel } from './fleet-model.js';
import { fourCpRate } from './fourcp.js';
import { deferrableRequirementMWh } from './ledger.js';
import type { LpPolicyOptions } from './optimal.js';
import { findViolation, readSolution } from './solution.js';
import { initialStrikeState, strikeDecide } from './strike.js';
import type { DispatchInput, Plan, PolicyResult } from './types.js';

/** The first hours of each horizon are planned per interval, the rest per clock hour (DA is hourly). */
export const FINE_HOURS = 1;

/** Hour (CPT) from which the next day's DAM prices are treated as known. */
export const DAM_PUBLISHED_HOUR_CPT = 14;

/**
 * How much of the last real-time deviation from day-ahead carries into each later interval
 * (per 15 minutes; half-life ≈ 45 min). ERCOT real-time excursions last minutes to hours, so the
 * newest deviation says something about the next hour and little about tomorrow.
 */
export const DEVIATION_DECAY_PER_INTERVAL = 0.8;

/**
 * The step being executed is forecast at the highest of the last NOWCAST_INTERVALS realized RT
 * prices: ERCOT spike episodes often dip for one interval, and waking into the next spike costs
 * more than waiting one interval (the same reason strike waits wakeAfterIntervals). Measured on
 * August 2023 HB_WEST: 2 intervals beat 1 and 3 (see README.md).
 */
export const NOWCAST_INTERVALS = 2;

/** Price forecast for intervals [i0, i1) as known at the start of interval i0, USD/MWh. */
export function forecastPrices(input: DispatchInput, i0: number, i1: number, stepEndMs: number, indexOf: ReadonlyMap<number, number>): Float64Array {
  const now = input.startMs[i0] as number;
  const last = lastKnownPrice(input, i0);
  let nowcast = last;
  for (let k = 2; k <= NOWCAST_INTERVALS && i0 - k >= 0; k++) {
    const p = input.rtPriceUsdPerMWh[i0 - k] as number;
    if (!Number.isNaN(p)) nowcast = Math.max(nowcast ?? p, p);
  }
  const persist = input.site.dispatch.rolling.nearTerm === 'rt-persistence';
  const daKnownThroughDay = cptDayIndex(now) + (cptHour(now) >= DAM_PUBLISHED_HOUR_CPT ? 1 : 0);
  const base = (t: number): number => {
    const ms = input.startMs[t] as number;
    if (cptDayIndex(ms) <= daKnownThroughDay && !Number.isNaN(input.daPriceUsdPerMWh[t])) return input.daPriceUsdPerMWh[t] as number;
    for (let back = 1; back <= 2; back++) {
      const k = indexOf.get(ms - back * MS_PER_DAY);
      if (k !== undefined && cptDayIndex(ms - back * MS_PER_DAY) <= daKnownThroughDay && !Number.isNaN(input.daPriceUsdPerMWh[k])) return input.daPriceUsdPerMWh[k] as number;
    }
    const k = indexOf.get(ms - 7 * MS_PER_DAY);
    return k !== undefined && k < i0 ? (input.rtPriceUsdPerMWh[k] as number) : NaN;
  };
  const prevBase = i0 > 0 ? base(i0 - 1) : NaN;
  const deviation = persist && last !== undefined && !Number.isNaN(prevBase) ? last - prevBase : 0;
  const intervalMs = input.intervalMinutes * 60_000;
  const out = new Float64Array(i1 - i0);
  for (let t = i0; t < i1; t++) {
    const ms = input.startMs[t] as number;
    let f: number;
    if (persist && ms < stepEndMs && nowcast !== undefined) f = nowcast;
    else {
      f = base(t);
      if (!Number.isNaN(f) && deviation !== 0) f += deviation * DEVIATION_DECAY_PER_INTERVAL ** ((ms - stepEndMs) / intervalMs + 1);
    }
    // Cold start (first interval of the window, no DA): the first realized price stands in.
    out[t - i0] = Number.isNaN(f) ? (last ?? (input.rtPriceUsdPerMWh[i0] as number)) : f;
  }
  return out;
}

/**
 * `rolling` one step at a time, so the back-test and the live dispatcher run the same code: the
 * back-test calls beginStep/decideInterval over the whole window at once; the live dispatcher calls
 * beginStep when a step's first interval starts (with only the prices published by then in the
 * input) and decideInterval as each interval starts.
 */
export interface RollingStepper {
  /** The plan so far (intervals decided so far are final). */
  readonly plan: Plan;
  /** Plans the step starting at interval i0 from what is known then; returns the index one past the step. */
  beginStep(i0: number): number;
  /** Fixes interval t of the current step (in order): the solver's plan, or the strike rule on a failed step. */
  decideInterval(t: number): void;
  /** True when the current step runs the safe fallback (solver failed, timed out or planned unsafely). */
  readonly fellBack: boolean;
  /** The policy result over everything decided. */
  finish(): PolicyResult;
}

export function rollingPolicy(input: DispatchInput, options: LpPolicyOptions): PolicyResult {
  const stepper = rollingStepper(input, options);
  const n = input.startMs.length;
  let i0 = 0;
  while (i0 < n) {
    const end = stepper.beginStep(i0);
    for (let t = i0; t < end; t++) stepper.decideInterval(t);
    i0 = end;
  }
  return stepper.finish();
}

export function rollingStepper(input: DispatchInput, options: LpPolicyOptions): RollingStepper {
  const t0 = options.nowMs?.() ?? 0;
  const site = input.site;
  const n = input.startMs.length;
  const dt = input.intervalMinutes / 60;
  const models = site.fleets.map(fleetModel);
  const order = efficiencyOrder(models);
  const { horizonHours, stepMinutes } = site.dispatch.rolling;
  const stepMs = stepMinutes * 60_000;
  const timeLimitSeconds = options.timeLimitSeconds ?? site.dispatch.timeLimitSeconds;
  const plan = emptyPlan('rolling', input);
  const baselineAi = baselineAiItMW(input);
  const baselineHead = fleetHeadroomMW(input, baselineAi);
  const indexOf = new Map<number, number>();
  input.startMs.forEach((ms, i) => indexOf.set(ms, i));
  const cp = site.transmission?.coincidentPeak;
  // Any alert interval may be the month's 15-minute settlement interval: each is charged as if it were.
  const alertUsdPerMW = (ms: number) => (cp ? fourCpRate(cp, cptMonth(ms)).usdPerKwYear * 1000 * 0.25 : 0);
  const deferrableReq = site.ai.map((a) => (a.kind === 'deferrable' ? deferrableRequirementMWh(input, a.dailyEnergyMWh) : new Map<number, number>()));
  const lastIndexOfDay = new Map<number, number>();
  input.localDay.forEach((d, i) => lastIndexOfDay.set(d, i));
  const delivered = site.ai.map(() => new Map<number, number>());
  const capped = site.ai.map((a) => (a.kind === 'capped' ? ((a.maxHoursPerYear * a.itMW * a.maxReductionPct) / 100) * ((n * dt) / 8760) : 0));
  const cappedUsed = site.ai.map(() => 0);
  let strike = initialStrikeState(models.length);
  let fallbacks = 0;
  let steps = 0;
  const notes: string[] = [];
  const totalSteps = Math.ceil((n * input.intervalMinutes) / stepMinutes);
  // Grid services: awards committed day-ahead, held as floors in every step (ancillary-rolling.ts).
  const grid = rollingGrid(input, models, options.solver, timeLimitSeconds);
  if (grid.awards.length > 0) plan.awards = grid.awards;
  notes.push(...grid.notes);

  let executed = false;
  let stepEndIndex = 0;

  function beginStep(i0: number): number {
    const now = input.startMs[i0] as number;
    const stepEnd = now + stepMs;
    let iStepEnd = i0;
    while (iStepEnd < n && (input.startMs[iStepEnd] as number) < stepEnd) iStepEnd++;
    let i1 = iStepEnd;
    while (i1 < n && (input.startMs[i1] as number) < now + horizonHours * MS_PER_HOUR) i1++;

    const spec = stepSpec(i0, i1, stepEnd);
    executed = false;
    const { model, layout } = buildDispatchLp(spec);
    const sol = options.solver.solve(model, { timeLimitSeconds });
    if (sol.feasible && sol.colValue) {
      const slice = readSolution(spec, layout, sol.colValue);
      const k = iStepEnd - i0;
      const head = { fleetMW: slice.fleetMW.map((a) => a.subarray(0, k)), aiItMW: slice.aiItMW.map((a) => a.subarray(0, k)), reason: slice.reason.map((a) => a.subarray(0, k)) };
      const bad = findViolation({ ...spec, startMs: spec.startMs.subarray(0, k) }, head);
      if (!bad) {
        for (let t = i0; t < iStepEnd; t++) {
          for (let f = 0; f < models.length; f++) {
            (plan.fleetMW[f] as Float64Array)[t] = (head.fleetMW[f] as Float64Array)[t - i0] as number;
            (plan.reason[f] as Uint8Array)[t] = (head.reason[f] as Uint8Array)[t - i0] as number;
          }
          site.ai.forEach((_, a) => ((plan.aiItMW[a] as Float64Array)[t] = (head.aiItMW[a] as Float64Array)[t - i0] as number));
        }
        executed = true;
      } else if (notes.length < 5) notes.push(`step at ${new Date(now).toISOString()}: unsafe solver plan rejected (${bad})`);
    } else if (notes.length < 5) notes.push(`step at ${new Date(now).toISOString()}: ${sol.message}`);
    if (!executed) fallbacks++;
    steps++;
    options.onProgress?.(Math.min(steps, totalSteps), totalSteps);
    stepEndIndex = iStepEnd;
    return iStepEnd;
  }

  function decideInterval(t: number): void {
    if (t >= stepEndIndex) throw new MulletError('INTERNAL', `rolling: interval ${t} is outside the current step (beginStep first)`);
    // The strike rule runs every interval to keep its counters current; it decides only on fallback.
    const aiLoad = executed ? site.ai.reduce((s, a, k) => s + ((plan.aiItMW[k] as Float64Array)[t] as number) * a.pue, 0) : 0;
    const d = strikeDecide(models, site.dispatch.strike, strike, {
      startMs: input.startMs[t] as number,
      lastPriceUsdPerMWh: lastKnownPrice(input, t),
      hashpriceUsdPerPhDay: input.hashpriceUsdPerPhDay[t] as number,
      fourCpAlert: input.fourCpAlert[t] === 1,
      headroomMW: executed ? site.interconnect.importLimitMW - aiLoad : (baselineHead[t] as number),
      ...grid.fleetFloor(t),
    }, order);
    strike = d.state;
    if (!executed) {
      for (let f = 0; f < models.length; f++) {
        (plan.fleetMW[f] as Float64Array)[t] = d.fleetMW[f] as number;
        (plan.reason[f] as Uint8Array)[t] = d.reason[f] as number;
      }
      site.ai.forEach((_, a) => ((plan.aiItMW[a] as Float64Array)[t] = (baselineAi[a] as Float64Array)[t] as number));
    } else {
      for (let f = 0; f < models.length; f++) {
        const mw = (plan.fleetMW[f] as Float64Array)[t] as number;
        strike.mw[f] = mw;
        if (mw > 1e-9) strike.offSinceMs[f] = NaN;
        else if (Number.isNaN(strike.offSinceMs[f])) strike.offSinceMs[f] = input.startMs[t] as number;
      }
    }
    site.ai.forEach((a, k) => {
      const served = (plan.aiItMW[k] as Float64Array)[t] as number;
      if (a.kind === 'deferrable') {
        const day = input.localDay[t] as number;
        const m = delivered[k] as Map<number, number>;
        m.set(day, (m.get(day) ?? 0) + served * dt);
      } else if (a.kind === 'capped') cappedUsed[k] = (cappedUsed[k] as number) + (a.itMW - served) * dt;
    });
  }

  function finish(): PolicyResult {
    const out = [...notes];
    if (fallbacks > 0) out.unshift(`SAFE FALLBACK in ${fallbacks} of ${steps} steps: those steps ran the strike rule at break-even capped by the import limit`);
    out.unshift(`${steps} re-optimizations, horizon ${horizonHours} h, step ${stepMinutes} min`);
    return { plan, solveSeconds: ((options.nowMs?.() ?? 0) - t0) / 1000, safeFallbacks: fallbacks, notes: out };
  }

  return {
    plan,
    beginStep,
    decideInterval,
    get fellBack() {
      return !executed;
    },
    finish,
  };

  function stepSpec(i0: number, i1: number, stepEnd: number): DispatchLpSpec {
    const now = input.startMs[i0] as number;
    const today = cptDayIndex(now);
    const hp = input.hashpriceUsdPerPhDay[i0] as number;
    const price = forecastPrices(input, i0, i1, stepEnd, indexOf);
    // Periods: one per interval for the first FINE_HOURS (and the step), then one per clock hour.
    const fineEnd = Math.max(stepEnd, now + FINE_HOURS * MS_PER_HOUR);
    const first: number[] = [];
    for (let t = i0; t < i1; t++) {
      const ms = input.startMs[t] as number;
      const prev = first.length ? (input.startMs[first[first.length - 1] as number] as number) : NaN;
      if (ms < fineEnd || Math.floor(ms / MS_PER_HOUR) !== Math.floor(prev / MS_PER_HOUR) || prev < fineEnd) first.push(t);
    }
    const len = first.length;
    const periodEnd = (p: number) => (p + 1 < len ? (first[p + 1] as number) : i1);
    const startMs = new Float64Array(len);
    const duration = new Float64Array(len);
    const periodPrice = new Float64Array(len);
    const fourCp = new Float64Array(len);
    for (let p = 0; p < len; p++) {
      const a = first[p] as number;
      const b = periodEnd(p);
      startMs[p] = input.startMs[a] as number;
      duration[p] = (b - a) * input.intervalMinutes;
      let sum = 0;
      for (let t = a; t < b; t++) {
        sum += price[t - i0] as number;
        if (!cp) continue;
        const ms = input.startMs[t] as number;
        let alert = input.fourCpAlert[t] === 1;
        if (!cp.alerts.windows && cptDayIndex(ms) > today) {
          // Tomorrow's alert is not known yet: every window hour of a listed month counts.
          const h = cptHour(ms);
          alert = cp.months.includes(Number(cptMonth(ms).slice(5, 7))) && h >= cp.alerts.localHours[0] && h < cp.alerts.localHours[1];
        }
        // A period's load is one level, so its demand in any one of its intervals is that level: charge it once.
        if (alert) fourCp[p] = Math.max(fourCp[p] as number, alertUsdPerMW(ms));
      }
      periodPrice[p] = sum / (b - a);
    }
    const groups: DeferrableGroup[][] = site.ai.map((a, k) => {
      if (a.kind !== 'deferrable') return [];
      const out: DeferrableGroup[] = [];
      let from = 0;
      for (let p = 1; p <= len; p++) {
        if (p < len && input.localDay[first[p] as number] === input.localDay[first[from] as number]) continue;
        const day = input.localDay[first[from] as number] as number;
        const owed = Math.max(0, ((deferrableReq[k] as Map<number, number>).get(day) ?? 0) - ((delivered[k] as Map<number, number>).get(day) ?? 0));
        out.push({ from, to: p, energyMWh: owed, exact: (lastIndexOfDay.get(day) ?? -1) < i1 });
        from = p;
      }
      return out;
    });
    const remainingHours = (n - i0) * dt;
    const budget = site.ai.map((a, k) => (a.kind === 'capped' ? Math.max(0, (capped[k] as number) - (cappedUsed[k] as number)) * Math.min(1, horizonHours / remainingHours) : 0));
    const history: FleetHistory[] | undefined =
      i0 === 0
        ? undefined
        : models.map((m, f) => {
            const mw = plan.fleetMW[f] as Float64Array;
            const sleeps: FleetHistory['sleeps'] = [];
            for (let t = i0 - 1; t > 0 && now - (input.startMs[t] as number) < m.fleet.minOffMinutes * 60_000; t--) {
              const s = (mw[t - 1] as number) - (mw[t] as number);
              if (s > 0) sleeps.push({ startMs: input.startMs[t] as number, mw: s });
            }
            return { lastMW: mw[i0 - 1] as number, lastStartMs: input.startMs[i0 - 1] as number, sleeps };
          });
    return {
      site,
      models,
      intervalMinutes: input.intervalMinutes,
      startMs,
      durationMinutes: duration,
      priceUsdPerMWh: periodPrice,
      hashpriceUsdPerPhDay: new Float64Array(len).fill(hp),
      fourCpUsdPerMW: fourCp,
      deferrableGroups: groups,
      cappedBudgetMWh: budget,
      relaxIntegers: true,
      ...(history ? { history } : {}),
      ...grid.stepSpec(first, i1, startMs),
    };
  }
}
