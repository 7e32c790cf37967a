/**
 * The dispatch LP (see README.md for the derivation). One builder serves `optimal` (the whole
 * window, realized prices) and `rolling` (a look-ahead horizon, forecast prices, initial state).
 * Columns per interval t: fleet segment MW (or whole machines), optional sleep/start MW per
 * fleet, deferrable AI IT MW, capped AI reduction IT MW, and PPA extra purchase when the block is
 * not resold. Objective: net USD, maximized.
 */
import type { Site } from '../site/types.js';
import { AS_SHORTFALL_USD_PER_MWH, type AncillaryLpSpec } from './ancillary.js';
import { usdPerMWhForDensity, type FleetModel } from './fleet-model.js';
import { usdPerMWhFromKwMonth } from './ledger.js';
import { LpBuilder, type LpModel } from './lp/model.js';

/** Unserved deferrable AI energy costs this much in the objective, USD/MWh (a soft, not hard, constraint). */
export const DEFERRABLE_SHORTFALL_USD_PER_MWH = 20_000;

export interface DeferrableGroup {
  /** Local interval range [from, to) of one CPT day inside the problem. */
  from: number;
  to: number;
  /** IT energy to deliver in the range, MWh. */
  energyMWh: number;
  /** true: deliver exactly (the day ends inside the problem); false: at most. */
  exact: boolean;
}

/** One month's 4CP settlement for the LP: its demand is the site load of the worst of `intervals`. */
export interface FourCpGroup {
  /** Problem indices of the candidate settlement intervals (one when ERCOT's official interval is known). */
  intervals: number[];
  /** Charge per MW of demand, USD (usdPerKwYear × 1000 × ¼). */
  usdPerMW: number;
}

export interface FleetHistory {
  /** MW at the meter in the interval before the problem starts. */
  lastMW: number;
  lastStartMs: number;
  /** Recent sleeps (MW put to sleep at an interval start) that still block waking. */
  sleeps: { startMs: number; mw: number }[];
}

export interface DispatchLpSpec {
  site: Site;
  models: FleetModel[];
  intervalMinutes: number;
  /** Start of each period, UTC ms. */
  startMs: Float64Array;
  /** Length of each period, minutes; absent = every period is one interval (rolling coarsens its tail). */
  durationMinutes?: Float64Array;
  /** Price used in the objective (realized for optimal, forecast for rolling), USD/MWh. */
  priceUsdPerMWh: Float64Array;
  hashpriceUsdPerPhDay: Float64Array;
  /** Objective cost per MW of site load in each period (4CP alerts in rolling), USD/MW. */
  fourCpUsdPerMW: Float64Array;
  /**
   * 4CP months priced on their worst candidate interval (optimal): a column z ≥ site load at each
   * candidate, costed usdPerMW. Exact for a max: z sits at the highest candidate load at the optimum.
   */
  fourCpGroups?: FourCpGroup[];
  /** Per site.ai index: day groups for deferrable loads (ignored for other kinds). */
  deferrableGroups: DeferrableGroup[][];
  /** Per site.ai index: reduction budget for capped loads, IT MWh (ignored for other kinds). */
  cappedBudgetMWh: number[];
  /** Per fleet: state before the first interval (rolling); absent = free start. */
  history?: FleetHistory[];
  /**
   * Solve whole-machine fleets as an LP (machine counts continuous). Rolling sets it: one MIP per
   * 15-minute step is ~6× slower, and at thousands of machines a fractional count is immaterial.
   */
  relaxIntegers?: boolean;
  /** Grid services: award columns and/or held floors (absent: energy only). */
  ancillary?: AncillaryLpSpec;
}

export interface DispatchLpLayout {
  n: number;
  /** Per fleet: base column of each segment (column = base + t). */
  seg: number[][];
  /** Per fleet: MW per unit of its segment columns (1, or unitMW for whole machines). */
  scale: number[];
  /** Per ai: base column (deferrable: IT MW served; capped: IT MW reduced); -1 for firm. */
  ai: number[];
  /** Base column of the PPA extra purchase (no resale); -1 otherwise. */
  extra: number;
  /** Base row of the import-limit rows; -1 when the limit can never bind. */
  importRow: number;
  /** Per fleet: base row of ramp rows (row for t = base + t); -1 without a ramp limit. */
  rampRow: number[];
  /** Fixed (non-dispatchable) site load, MW at the meter. */
  fixedMW: number;
  /** Per ancillary resource, per its product: base column of the award (column = base + block); absent without offers. */
  asAward?: number[][];
}

/** Builds the dispatch model and the column layout needed to read a solution back. */
export function buildDispatchLp(spec: DispatchLpSpec): { model: LpModel; layout: DispatchLpLayout } {
  const { site, models } = spec;
  const n = spec.startMs.length;
  const hours = (t: number) => (spec.durationMinutes ? (spec.durationMinutes[t] as number) : spec.intervalMinutes) / 60;
  const ppa = site.ppa;
  const noResale = ppa !== undefined && !ppa.resale;
  const limit = site.interconnect.importLimitMW;

  let fixedMW = 0;
  let flexMaxMW = 0;
  let rentUsdPerH = 0;
  // Meter MW of the fixed (firm + capped at full IT) loads whose tenants pay their energy / 4CP share.
  let fixedPowerPassMW = 0;
  let fixedFourCpPassMW = 0;
  for (const a of site.ai) {
    rentUsdPerH += usdPerMWhFromKwMonth(a.usdPerKwMonth) * a.itMW;
    if (a.kind === 'firm' || a.kind === 'capped') {
      fixedMW += a.itMW * a.pue;
      if (a.powerPassThrough) fixedPowerPassMW += a.itMW * a.pue;
      if (a.fourCpPassThrough) fixedFourCpPassMW += a.itMW * a.pue;
    }
    if (a.kind === 'deferrable') flexMaxMW += a.itMW * a.pue;
  }
  for (const m of models) flexMaxMW += m.maxMW;

  const segCount = models.reduce((s, m) => s + m.segments.length, 0);
  const b = new LpBuilder(n * (segCount + site.ai.length + 2), n * (models.length + 2), n * (3 * segCount + 4));
  const layout: DispatchLpLayout = { n, seg: [], scale: [], ai: [], extra: -1, importRow: -1, rampRow: [], fixedMW };
  const effPrice = (t: number) => (noResale ? 0 : (spec.priceUsdPerMWh[t] as number));

  // Fleet columns.
  for (const m of models) {
    const whole = m.fleet.integerMachines;
    const scale = whole ? m.unitMW : 1;
    layout.scale.push(scale);
    const bases: number[] = [];
    const fee = m.fleet.poolFeePct;
    for (const s of m.segments) {
      const base = b.numCols;
      bases.push(base);
      const upper = whole ? m.fleet.count : s.widthMW;
      for (let t = 0; t < n; t++) {
        const value = usdPerMWhForDensity(spec.hashpriceUsdPerPhDay[t] as number, s.thsPerMW, fee);
        b.col(scale * (hours(t) * (value - effPrice(t)) - (spec.fourCpUsdPerMW[t] as number)), 0, upper, whole && spec.relaxIntegers !== true);
      }
    }
    layout.seg.push(bases);
  }
  // AI columns.
  for (const a of site.ai) {
    if (a.kind === 'firm') {
      layout.ai.push(-1);
      continue;
    }
    const base = b.numCols;
    layout.ai.push(base);
    for (let t = 0; t < n; t++) {
      const p = effPrice(t);
      const w = spec.fourCpUsdPerMW[t] as number;
      const dt = hours(t);
      // What the tenant pays back per IT MW it draws (its energy at the RT price, its 4CP share).
      const back = a.pue * ((a.powerPassThrough ? dt * (spec.priceUsdPerMWh[t] as number) : 0) + (a.fourCpPassThrough ? w : 0));
      if (a.kind === 'deferrable') b.col(dt * (a.usdPerMWh - a.pue * p) - a.pue * w + back, 0, a.itMW);
      else b.col(dt * (a.usdPerMWhReduced + a.pue * p) + a.pue * w - back, 0, (a.itMW * a.maxReductionPct) / 100);
    }
  }
  if (noResale) {
    layout.extra = b.numCols;
    // A negative price would make buying unbounded energy "profitable": cost it at 0 there instead.
    for (let t = 0; t < n; t++) b.col(-hours(t) * Math.max(0, spec.priceUsdPerMWh[t] as number), 0, limit);
  }

  /** Adds sign × (dispatchable site load at t) to a row; `siteBorne4cp`: leave out tenants that pay their own 4CP. */
  const addLoad = (row: number, t: number, sign = 1, siteBorne4cp = false) => {
    models.forEach((_, f) => {
      for (const base of layout.seg[f] as number[]) b.coef(row, base + t, sign * (layout.scale[f] as number));
    });
    site.ai.forEach((a, k) => {
      if (siteBorne4cp && a.fourCpPassThrough) return;
      const base = layout.ai[k] as number;
      if (a.kind === 'deferrable') b.coef(row, base + t, sign * a.pue);
      else if (a.kind === 'capped') b.coef(row, base + t, -sign * a.pue);
    });
  };

  if (fixedMW + flexMaxMW > limit + 1e-9) {
    layout.importRow = b.numRows;
    for (let t = 0; t < n; t++) addLoad(b.row(-Infinity, limit - fixedMW), t);
  }
  if (noResale && ppa) {
    for (let t = 0; t < n; t++) {
      const row = b.row(-Infinity, ppa.blockMW - fixedMW);
      addLoad(row, t);
      b.coef(row, layout.extra + t, -1);
    }
  }

  // 4CP on the worst candidate: z ≥ fixed + dispatchable load at each candidate interval — the part
  // the site bears: tenants that pay their own 4CP share are left out (exact when their load is the
  // same in every candidate, as for firm load or a single official interval).
  for (const g of spec.fourCpGroups ?? []) {
    const z = b.col(-g.usdPerMW, 0, Infinity);
    for (const t of g.intervals) {
      const row = b.row(fixedMW - fixedFourCpPassMW, Infinity);
      b.coef(row, z, 1);
      addLoad(row, t, -1, true);
    }
  }

  // Fleet dynamics: ramp, min-off (sleep columns), start costs.
  models.forEach((m, f) => {
    const bases = layout.seg[f] as number[];
    const scale = layout.scale[f] as number;
    const h = spec.history?.[f];
    const mwTerms = (row: number, t: number, sign: number) => {
      for (const base of bases) b.coef(row, base + t, sign * scale);
    };
    const ramp = m.fleet.rampMWPerMinute;
    if (ramp !== undefined && ramp * spec.intervalMinutes < m.maxMW) {
      layout.rampRow.push(b.numRows);
      for (let t = 0; t < n; t++) {
        if (t === 0) {
          if (!h) {
            b.row(-Infinity, Infinity); // placeholder keeps row = base + t
            continue;
          }
          const lim = (ramp * ((spec.startMs[0] as number) - h.lastStartMs)) / 60_000;
          mwTerms(b.row(h.lastMW - lim, h.lastMW + lim), 0, 1);
          continue;
        }
        const lim = (ramp * ((spec.startMs[t] as number) - (spec.startMs[t - 1] as number))) / 60_000;
        const row = b.row(-lim, lim);
        mwTerms(row, t, 1);
        mwTerms(row, t - 1, -1);
      }
    } else layout.rampRow.push(-1);

    const needSleep = m.fleet.minOffMinutes > 0;
    const startCostPerMW = m.fleet.startCostUsd / m.unitMW;
    if (needSleep) {
      // sleep(t) ≥ mw(t−1) − mw(t): MW put to sleep at the start of t; asleep for minOffMinutes.
      const sBase = b.numCols;
      for (let t = 0; t < n; t++) b.col(0, 0, m.maxMW);
      for (let t = 0; t < n; t++) {
        if (t === 0 && !h) continue;
        const row = b.row(t === 0 && h ? h.lastMW : 0, Infinity);
        b.coef(row, sBase + t, 1);
        mwTerms(row, t, 1);
        if (t > 0) mwTerms(row, t - 1, -1);
      }
      const windowMs = m.fleet.minOffMinutes * 60_000;
      let first = 0;
      for (let t = 0; t < n; t++) {
        const now = spec.startMs[t] as number;
        while (now - (spec.startMs[first] as number) >= windowMs) first++;
        let prior = 0;
        for (const s of h?.sleeps ?? []) if (now - s.startMs < windowMs) prior += s.mw;
        // mw(t) + Σ sleeps still asleep ≤ maxMW: machines asleep cannot run.
        const row = b.row(-Infinity, m.maxMW - prior);
        mwTerms(row, t, 1);
        for (let k = first; k <= t; k++) b.coef(row, sBase + k, 1);
      }
    }
    if (startCostPerMW > 0) {
      // start(t) ≥ mw(t) − mw(t−1), costed per MW woken.
      const yBase = b.numCols;
      for (let t = 0; t < n; t++) b.col(-startCostPerMW, 0, m.maxMW);
      for (let t = 0; t < n; t++) {
        if (t === 0 && !h) continue;
        const row = b.row(t === 0 && h ? -h.lastMW : 0, Infinity);
        b.coef(row, yBase + t, 1);
        mwTerms(row, t, -1);
        if (t > 0) mwTerms(row, t - 1, 1);
      }
    }
  });

  // Deferrable AI daily energy (soft: a shortfall column with a large penalty keeps it feasible).
  site.ai.forEach((a, k) => {
    if (a.kind !== 'deferrable') return;
    const base = layout.ai[k] as number;
    for (const g of spec.deferrableGroups[k] ?? []) {
      const row = b.row(g.exact ? g.energyMWh : -Infinity, g.energyMWh);
      for (let t = g.from; t < g.to; t++) b.coef(row, base + t, hours(t));
      if (g.exact) b.coef(row, b.col(-DEFERRABLE_SHORTFALL_USD_PER_MWH, 0, g.energyMWh), 1);
    }
  });
  // Capped AI reduction budget.
  site.ai.forEach((a, k) => {
    if (a.kind !== 'capped') return;
    const base = layout.ai[k] as number;
    const row = b.row(-Infinity, Math.max(0, spec.cappedBudgetMWh[k] ?? 0));
    for (let t = 0; t < n; t++) b.coef(row, base + t, hours(t));
  });

  if (spec.ancillary) addAncillary(b, spec, spec.ancillary, layout, hours);

  // Constants, so that the objective equals the ledger's net USD at the realized prices.
  let offset = 0;
  for (let t = 0; t < n; t++) {
    const p = spec.priceUsdPerMWh[t] as number;
    const dt = hours(t);
    offset += rentUsdPerH * dt - (spec.fourCpUsdPerMW[t] as number) * (fixedMW - fixedFourCpPassMW) + p * fixedPowerPassMW * dt;
    if (!ppa) offset -= p * fixedMW * dt;
    else {
      offset -= ppa.priceUsdPerMWh * ppa.blockMW * dt;
      if (ppa.resale) offset += p * (ppa.blockMW - fixedMW) * dt;
    }
  }
  // Held awards with a fixed price (ERS) are paid whatever the plan: a constant too.
  b.offset = offset + (spec.ancillary?.fixedUsd ?? 0);
  return { model: b.build(true), layout };
}

/**
 * Grid services (see ancillary.ts): award columns per resource, product and clock hour, paid the
 * capacity price of every period of the hour; per resource and period one row
 * `Σ_p q_p(hour) − curtailable(t) − u(t) ≤ −floor(t)`: reserve is load actually consuming in that
 * period (a load can only offer what it can drop), the products share it without double counting,
 * and a held award or ERS period binds in every period it covers (through price spikes).
 */
function addAncillary(b: LpBuilder, spec: DispatchLpSpec, anc: AncillaryLpSpec, layout: DispatchLpLayout, hours: (t: number) => number): void {
  const n = layout.n;
  const award: number[][] = [];
  anc.resources.forEach((res, r) => {
    const bases: number[] = [];
    if (anc.offer) {
      for (const p of res.products) {
        const price = anc.priceUsdPerMWh[p];
        const base = b.numCols;
        bases.push(base);
        const value = new Float64Array(anc.blockCount);
        const open = new Uint8Array(anc.blockCount).fill(price ? 1 : 0);
        for (let t = 0; t < n; t++) {
          const k = anc.block[t] as number;
          const v = price ? (price[t] as number) : NaN;
          if (!Number.isFinite(v)) open[k] = 0;
          else value[k] = (value[k] as number) + hours(t) * v;
        }
        for (let k = 0; k < anc.blockCount; k++) b.col(open[k] ? (value[k] as number) : 0, 0, open[k] ? res.maxMW : 0);
      }
    }
    award.push(bases);
    const floor = anc.floorMW?.[r];
    const anyFloor = floor?.some((v) => v > 0) ?? false;
    if (bases.length === 0 && !anyFloor) return;
    const slack = anyFloor ? b.numCols : -1;
    if (anyFloor) for (let t = 0; t < n; t++) b.col(-AS_SHORTFALL_USD_PER_MWH * hours(t), 0, Infinity);
    for (let t = 0; t < n; t++) {
      const f = floor ? (floor[t] as number) : 0;
      let row: number;
      if (res.kind === 'fleet') {
        row = b.row(-Infinity, -f);
        const scale = layout.scale[res.index] as number;
        for (const base of layout.seg[res.index] as number[]) b.coef(row, base + t, -scale);
      } else {
        const a = spec.site.ai[res.index];
        if (!a || a.kind !== 'capped') continue;
        row = b.row(-Infinity, res.maxMW - f);
        b.coef(row, (layout.ai[res.index] as number) + t, a.pue);
      }
      for (const base of bases) b.coef(row, base + (anc.block[t] as number), 1);
      if (slack >= 0) b.coef(row, slack + t, -1);
    }
  });
  if (anc.offer) layout.asAward = award;
}
