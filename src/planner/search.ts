/**
 * Schedule search. Sites share the market paths but not their decisions, and (with the linear tax)
 * the portfolio NPV on a path is the sum of site NPVs, so the schedule that maximizes *expected*
 * NPV is found site by site, exactly, over every candidate:
 *   {no conversion} ∪ {IT MW in steps} × {start year} × {contract} — each × {refresh subsets}.
 * Candidate NPVs on a path come from suffix sums of per-MW mining value, per-MW AI value by start,
 * and per-MW capex factors (no re-simulation per candidate). The risk-averse alternative maximizes
 * the portfolio CVaR at 5 % (mean of the worst 5 % of paths), which is not separable: coordinate
 * ascent over sites from the expected-best schedule, on the same search paths.
 */
import { computeAiPerMw, leadMonths, newAiPerMw } from './ai.js';
import { newMarketPath, simulateMarket } from './market-path.js';
import { computeSiteMining, newSiteMining, type PerMwSeries } from './mining.js';
import type { PlanModel, ResolvedSite } from './resolve.js';
import { capexFactors, conversionCapexPerMw, displacedMw, type Schedule, type SiteDecision } from './schedule.js';

/** One row of the start-year / size grid: the best schedule with one site's decision replaced. */
export interface GridPoint {
  site: number;
  /** 'start-year': the best MW, contract and refresh for that start; 'size': the best start for that MW (0 = keep mining there). */
  kind: 'start-year' | 'size';
  decision: SiteDecision;
  schedule: Schedule;
}

export interface SearchResult {
  paths: number;
  candidates: SiteDecision[][];
  best: Schedule;
  riskAverse: Schedule;
  /**
   * Per site that can convert: the best decision (on the search paths) for every start year and for
   * every size, the other sites at their best. Re-run on all paths, they answer "when" and "how much"
   * with standard errors.
   */
  grid: GridPoint[];
  /** Over the search paths: mean and CVaR 5 % of portfolio NPV for both schedules, USD. */
  bestMeanUsd: number;
  bestCvar5Usd: number;
  riskAverseMeanUsd: number;
  riskAverseCvar5Usd: number;
}

/** Every candidate decision of a site. */
export function siteCandidates(model: PlanModel, site: ResolvedSite): SiteDecision[] {
  const masks: number[] = [];
  for (let m = 0; m < 1 << site.refresh.length; m++) {
    const fleets = site.refresh.filter((_, r) => (m & (1 << r)) !== 0).map((r) => r.fleetIndex);
    if (new Set(fleets).size === fleets.length) masks.push(m);
  }
  const out: SiteDecision[] = [];
  for (const refreshMask of masks) {
    out.push({ itMW: 0, startMonth: 0, contract: 0, refreshMask });
    const ai = site.ai;
    if (!ai || ai.convertibleItMW <= 0) continue;
    const levels: number[] = [];
    for (let x = ai.stepItMW; x < ai.convertibleItMW - 1e-9; x += ai.stepItMW) levels.push(x);
    levels.push(ai.convertibleItMW);
    for (const itMW of levels) {
      for (let y = 0; y < model.timeline.months / 12; y++) {
        for (let contract = 0; contract < ai.contracts.length; contract++) out.push({ itMW, startMonth: 12 * y, contract, refreshMask });
      }
    }
  }
  return out;
}

function suffixPv(model: PlanModel, opexPerMwMonth: number, series: (t: number) => PerMwSeries, out: Float64Array): void {
  const T = model.timeline.months;
  out[T] = 0;
  for (let t = T - 1; t >= 0; t--) {
    const s = series(t);
    const e = (s.btcRevenue[t] as number) + (s.resaleRevenue[t] as number) - (s.energyCost[t] as number) - opexPerMwMonth;
    out[t] = (out[t + 1] as number) + (model.timeline.dfEnd[t] as number) * (1 - model.taxRate) * e;
  }
}

/** Mean of the lowest 5 % of `xs` (at least one value). */
export function cvar5(xs: Float64Array): number {
  const s = Float64Array.from(xs).sort();
  const k = Math.max(1, Math.floor(0.05 * s.length));
  let sum = 0;
  for (let i = 0; i < k; i++) sum += s[i] as number;
  return sum / k;
}

function meanOf(xs: Float64Array): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Candidate NPVs on `paths` search paths: values[site][candidate · paths + path]. */
export function candidateValues(model: PlanModel, seed: number, paths: number): { candidates: SiteDecision[][]; values: Float64Array[] } {
  const T = model.timeline.months;
  const M = model.timeline.extendedMonths;
  const tl = model.timeline;
  const candidates = model.sites.map((s) => siteCandidates(model, s));
  const values = candidates.map((c) => new Float64Array(c.length * paths));
  const market = newMarketPath(T);
  const mining = model.sites.map((s) => newSiteMining(s, T));
  const aiBuf = newAiPerMw(M);
  const cf = capexFactors(model);
  const suffix = model.sites.map((s) => s.fleets.map(() => new Float64Array(T + 1)));
  const rsuffix = model.sites.map((s) => s.refresh.map(() => new Float64Array(T + 1)));
  for (let p = 0; p < paths; p++) {
    simulateMarket(model, seed, p, market);
    model.sites.forEach((site, si) => {
      const sm = mining[si];
      if (!sm) return;
      computeSiteMining(model, site, market, sm);
      site.fleets.forEach((_, fi) => suffixPv(model, site.miningOpexPerMwMonth, () => sm.fleets[fi] as PerMwSeries, suffix[si]?.[fi] as Float64Array));
      site.refresh.forEach((r, ri) =>
        suffixPv(model, site.miningOpexPerMwMonth, (t) => (t >= r.month ? (sm.refreshed[ri] as PerMwSeries) : (sm.fleets[r.fleetIndex] as PerMwSeries)), rsuffix[si]?.[ri] as Float64Array),
      );
      // AI value per MW and conversion capex per MW, by contract and start year.
      const years = T / 12;
      const aiPv: number[][] = [];
      const capexPv: number[][] = [];
      site.ai?.contracts.forEach((_, o) => {
        aiPv.push([]);
        capexPv.push([]);
        for (let y = 0; y < years; y++) {
          const s = 12 * y;
          computeAiPerMw(model, seed, p, market, site, o, s, aiBuf);
          let v = 0;
          for (let m = 0; m < M; m++) {
            v += (tl.dfEnd[m] as number) * ((aiBuf.cashEnd[m] as number) - model.taxRate * (aiBuf.ebitda[m] as number)) + (tl.dfStart[m] as number) * (aiBuf.cashStart[m] as number);
            if ((aiBuf.capex[m] as number) > 0) v += (aiBuf.capex[m] as number) * (cf[m] as number);
          }
          (aiPv[o] as number[]).push(v);
          const L = leadMonths(model, site);
          let k = 0;
          if (L === 0) k = s < M ? (cf[s] as number) : 0;
          else for (let j = 0; j < L; j++) k += s + j < M ? (cf[s + j] as number) / L : 0;
          (capexPv[o] as number[]).push(conversionCapexPerMw(model, site, o) * k);
        }
      });
      const cands = candidates[si] as SiteDecision[];
      const vals = values[si] as Float64Array;
      cands.forEach((d, ci) => {
        const displaced = displacedMw(site, d.itMW);
        const s = d.itMW > 0 ? d.startMonth : T;
        let v = 0;
        site.fleets.forEach((f, fi) => {
          const ri = site.refresh.findIndex((r, k) => r.fleetIndex === fi && (d.refreshMask & (1 << k)) !== 0);
          const suf = ri >= 0 ? (rsuffix[si]?.[ri] as Float64Array) : (suffix[si]?.[fi] as Float64Array);
          const gone = displaced[fi] as number;
          v += f.mw * (suf[0] as number) - gone * (suf[Math.min(s, T)] as number);
          const r = ri >= 0 ? site.refresh[ri] : undefined;
          if (r && r.month < T && f.mw > 0) v += ((r.capexUsd * (s <= r.month ? f.mw - gone : f.mw)) / f.mw) * (cf[r.month] as number);
        });
        if (d.itMW > 0) {
          const y = d.startMonth / 12;
          v += d.itMW * ((aiPv[d.contract]?.[y] as number) + (capexPv[d.contract]?.[y] as number));
        }
        vals[ci * paths + p] = v;
      });
    });
  }
  return { candidates, values };
}

/** Finds the expected-NPV-best schedule and the CVaR-best alternative on `paths` search paths. */
export function searchSchedules(model: PlanModel, seed: number, paths: number): SearchResult {
  const { candidates, values } = candidateValues(model, seed, paths);
  const colMean = (si: number, ci: number) => meanOf((values[si] as Float64Array).subarray(ci * paths, (ci + 1) * paths));
  const best = candidates.map((cands, si) => {
    let bi = 0;
    let bv = -Infinity;
    cands.forEach((_, ci) => {
      const v = colMean(si, ci);
      if (v > bv + 1e-6) {
        bv = v;
        bi = ci;
      }
    });
    return bi;
  });
  const total = (choice: number[]) => {
    const t = new Float64Array(paths);
    choice.forEach((ci, si) => {
      const col = (values[si] as Float64Array).subarray(ci * paths, (ci + 1) * paths);
      for (let p = 0; p < paths; p++) t[p] = (t[p] as number) + (col[p] as number);
    });
    return t;
  };
  const risk = [...best];
  let current = cvar5(total(risk));
  for (let sweep = 0; sweep < 4; sweep++) {
    let changed = false;
    for (let si = 0; si < candidates.length; si++) {
      const cands = candidates[si] as SiteDecision[];
      for (let ci = 0; ci < cands.length; ci++) {
        if (ci === risk[si]) continue;
        const trial = [...risk];
        trial[si] = ci;
        const v = cvar5(total(trial));
        if (v > current + 1e-6 * Math.max(1, Math.abs(current))) {
          current = v;
          risk[si] = ci;
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  const pick = (choice: number[]): Schedule => choice.map((ci, si) => candidates[si]?.[ci] as SiteDecision);
  const bt = total(best);
  const rt = total(risk);
  const bestSchedule = pick(best);
  const grid: GridPoint[] = [];
  candidates.forEach((cands, si) => {
    const argmax = (keep: (d: SiteDecision) => boolean): SiteDecision | undefined => {
      let bv = -Infinity;
      let bd: SiteDecision | undefined;
      cands.forEach((d, ci) => {
        if (!keep(d)) return;
        const v = colMean(si, ci);
        if (v > bv + 1e-6) {
          bv = v;
          bd = d;
        }
      });
      return bd;
    };
    if (!cands.some((d) => d.itMW > 0)) return;
    const point = (kind: GridPoint['kind'], decision: SiteDecision | undefined) => {
      if (decision) grid.push({ site: si, kind, decision, schedule: bestSchedule.map((d, k) => (k === si ? decision : d)) });
    };
    const starts = [...new Set(cands.filter((d) => d.itMW > 0).map((d) => d.startMonth))].sort((a, b) => a - b);
    for (const s of starts) point('start-year', argmax((d) => d.itMW > 0 && d.startMonth === s));
    const sizes = [...new Set(cands.map((d) => d.itMW))].sort((a, b) => a - b);
    for (const mw of sizes) point('size', argmax((d) => d.itMW === mw));
  });
  return {
    paths,
    candidates,
    best: bestSchedule,
    riskAverse: pick(risk),
    grid,
    bestMeanUsd: meanOf(bt),
    bestCvar5Usd: cvar5(bt),
    riskAverseMeanUsd: meanOf(rt),
    riskAverseCvar5Usd: cvar5(rt),
  };
}
