/** Reads an LP solution back into plan arrays, labels curtailments, and checks the plan is safe. */
import type { DispatchLpLayout, DispatchLpSpec } from './formulation.js';
import { usdPerMWhForDensity } from './fleet-model.js';
import { Reason, type ReasonCode } from './types.js';

export interface PlanSlice {
  fleetMW: Float64Array[];
  aiItMW: Float64Array[];
  reason: Uint8Array[];
}

/** Plan arrays for all intervals of the problem, clamped to the physical bounds. */
export function readSolution(spec: DispatchLpSpec, layout: DispatchLpLayout, x: Float64Array): PlanSlice {
  const n = layout.n;
  const fleetMW = spec.models.map((m, f) => {
    const out = new Float64Array(n);
    const scale = layout.scale[f] as number;
    for (const base of layout.seg[f] as number[]) for (let t = 0; t < n; t++) out[t] = (out[t] as number) + scale * (x[base + t] as number);
    for (let t = 0; t < n; t++) out[t] = Math.min(m.maxMW, Math.max(0, out[t] as number));
    return out;
  });
  const aiItMW = spec.site.ai.map((a, k) => {
    const out = new Float64Array(n);
    const base = layout.ai[k] as number;
    for (let t = 0; t < n; t++) {
      if (a.kind === 'firm') out[t] = a.itMW;
      else if (a.kind === 'deferrable') out[t] = Math.min(a.itMW, Math.max(0, x[base + t] as number));
      else out[t] = a.itMW - Math.min((a.itMW * a.maxReductionPct) / 100, Math.max(0, x[base + t] as number));
    }
    return out;
  });
  const load = new Float64Array(n).fill(layout.fixedMW);
  for (const mw of fleetMW) for (let t = 0; t < n; t++) load[t] = (load[t] as number) + (mw[t] as number);
  spec.site.ai.forEach((a, k) => {
    if (a.kind === 'firm' || a.kind === 'capped') {
      if (a.kind === 'capped') for (let t = 0; t < n; t++) load[t] = (load[t] as number) - (a.itMW - ((aiItMW[k] as Float64Array)[t] as number)) * a.pue;
      return;
    }
    for (let t = 0; t < n; t++) load[t] = (load[t] as number) + ((aiItMW[k] as Float64Array)[t] as number) * a.pue;
  });
  const limit = spec.site.interconnect.importLimitMW;
  const ppa = spec.site.ppa;
  const fourCpCandidate = new Set((spec.fourCpGroups ?? []).flatMap((g) => (g.usdPerMW > 0 ? g.intervals : [])));
  const reason = spec.models.map((m, f) => {
    const out = new Uint8Array(n);
    const mw = fleetMW[f] as Float64Array;
    const best = m.segments[0]?.thsPerMW ?? 0;
    const ramp = m.fleet.rampMWPerMinute;
    for (let t = 0; t < n; t++) {
      const p = mw[t] as number;
      if (p >= m.nominalMW - 1e-6) continue;
      const price = spec.priceUsdPerMWh[t] as number;
      // Below an unresold PPA block the marginal MWh costs nothing.
      const marginal = ppa && !ppa.resale && (load[t] as number) < ppa.blockMW - 1e-6 ? 0 : price;
      const value = usdPerMWhForDensity(spec.hashpriceUsdPerPhDay[t] as number, best, m.fleet.poolFeePct);
      let why: ReasonCode = Reason.price;
      if ((spec.fourCpUsdPerMW[t] as number) > 0 || fourCpCandidate.has(t)) why = Reason.fourCp;
      else if ((load[t] as number) >= limit - 1e-6) why = Reason.importLimit;
      else if (ramp !== undefined && t > 0 && Math.abs(p - (mw[t - 1] as number)) >= ramp * spec.intervalMinutes - 1e-6) why = Reason.ramp;
      else if (m.fleet.minOffMinutes > 0 && value > marginal) why = Reason.minOff;
      out[t] = why;
    }
    return out;
  });
  return { fleetMW, aiItMW, reason };
}

/** First safety violation of a plan slice (import limit, ramp), or undefined when safe. */
export function findViolation(spec: DispatchLpSpec, plan: PlanSlice, toleranceMW = 1e-3): string | undefined {
  const n = spec.startMs.length;
  const limit = spec.site.interconnect.importLimitMW;
  for (let t = 0; t < n; t++) {
    let load = 0;
    for (const mw of plan.fleetMW) load += mw[t] as number;
    spec.site.ai.forEach((a, k) => (load += ((plan.aiItMW[k] as Float64Array)[t] as number) * a.pue));
    if (load > limit + toleranceMW) return `interval ${t}: site load ${load.toFixed(3)} MW exceeds the ${limit} MW import limit`;
  }
  for (let f = 0; f < spec.models.length; f++) {
    const m = spec.models[f];
    const ramp = m?.fleet.rampMWPerMinute;
    if (!m || ramp === undefined) continue;
    const mw = plan.fleetMW[f] as Float64Array;
    const h = spec.history?.[f];
    for (let t = 0; t < n; t++) {
      const prev = t > 0 ? (mw[t - 1] as number) : h?.lastMW;
      const prevMs = t > 0 ? (spec.startMs[t - 1] as number) : h?.lastStartMs;
      if (prev === undefined || prevMs === undefined) continue;
      const lim = (ramp * ((spec.startMs[t] as number) - prevMs)) / 60_000;
      if (Math.abs((mw[t] as number) - prev) > lim + toleranceMW) return `fleet ${m.fleet.name} interval ${t}: ramp ${Math.abs((mw[t] as number) - prev).toFixed(3)} MW exceeds ${lim} MW`;
    }
  }
  return undefined;
}
