/**
 * Pieces shared by the rule-based policies: the AI schedule they use (firm and capped AI always at
 * full IT load, deferrable AI spread evenly over its local day) and the interconnect headroom left
 * for the fleets, filled most efficient fleet first. Also the `mining-only` baseline policy.
 */
import { deferrableRequirementMWh } from './ledger.js';
import { fleetModel, type FleetModel } from './fleet-model.js';
import { Reason, type DispatchInput, type Plan, type PolicyOptions, type PolicyResult } from './types.js';

/** IT MW per AI load per interval when no optimizer moves it (rule-based policies, fallback). */
export function baselineAiItMW(input: DispatchInput): Float64Array[] {
  const n = input.startMs.length;
  const dt = input.intervalMinutes / 60;
  return input.site.ai.map((a) => {
    const out = new Float64Array(n);
    if (a.kind !== 'deferrable') return out.fill(a.itMW);
    const req = deferrableRequirementMWh(input, a.dailyEnergyMWh);
    const count = new Map<number, number>();
    for (const d of input.localDay) count.set(d, (count.get(d) ?? 0) + 1);
    for (let t = 0; t < n; t++) {
      const d = input.localDay[t] as number;
      // Even spread over the priced intervals of the day; capped at itMW (a 23-hour DST day).
      out[t] = Math.min(a.itMW, (req.get(d) ?? 0) / ((count.get(d) ?? 1) * dt));
    }
    return out;
  });
}

/** Interconnect MW left for fleets after the AI loads, per interval (never negative). */
export function fleetHeadroomMW(input: DispatchInput, aiItMW: Float64Array[]): Float64Array {
  const n = input.startMs.length;
  const head = new Float64Array(n).fill(input.site.interconnect.importLimitMW);
  input.site.ai.forEach((a, k) => {
    const it = aiItMW[k] as Float64Array;
    for (let t = 0; t < n; t++) head[t] = (head[t] as number) - (it[t] as number) * a.pue;
  });
  for (let t = 0; t < n; t++) head[t] = Math.max(0, head[t] as number);
  return head;
}

/** Fleet indices, highest hashrate per meter MW first (who keeps power when the interconnect is full). */
export function efficiencyOrder(models: readonly FleetModel[]): number[] {
  return models.map((_, i) => i).sort((a, b) => {
    const ma = models[a] as FleetModel;
    const mb = models[b] as FleetModel;
    return ma.efficiencyJPerTh * ma.fleet.pue - mb.efficiencyJPerTh * mb.fleet.pue || a - b;
  });
}

export function emptyPlan(policy: string, input: DispatchInput): Plan {
  const n = input.startMs.length;
  return {
    policy,
    fleetMW: input.site.fleets.map(() => new Float64Array(n)),
    aiItMW: input.site.ai.map(() => new Float64Array(n)),
    reason: input.site.fleets.map(() => new Uint8Array(n)),
  };
}

/** `mining-only`: every fleet at nameplate every interval, cut only by the interconnect. */
export function miningOnlyPolicy(input: DispatchInput, options: PolicyOptions = {}): PolicyResult {
  const t0 = options.nowMs?.() ?? 0;
  const models = input.site.fleets.map(fleetModel);
  const plan = emptyPlan('mining-only', input);
  plan.aiItMW = baselineAiItMW(input);
  const head = fleetHeadroomMW(input, plan.aiItMW);
  const order = efficiencyOrder(models);
  for (let t = 0; t < input.startMs.length; t++) {
    let left = head[t] as number;
    for (const f of order) {
      const m = models[f] as FleetModel;
      const mw = Math.min(m.nominalMW, left);
      left -= mw;
      (plan.fleetMW[f] as Float64Array)[t] = mw;
      if (mw < m.nominalMW - 1e-9) (plan.reason[f] as Uint8Array)[t] = Reason.importLimit;
    }
  }
  return { plan, solveSeconds: ((options.nowMs?.() ?? 0) - t0) / 1000, safeFallbacks: 0, notes: [] };
}

/**
 * The newest realized RT price before interval t, USD/MWh. Live, a price is NaN until ERCOT has
 * published it (a late publication holds the one before); in a back-test this is simply price[t − 1].
 */
export function lastKnownPrice(input: DispatchInput, t: number): number | undefined {
  for (let k = t - 1; k >= 0; k--) {
    const p = input.rtPriceUsdPerMWh[k] as number;
    if (!Number.isNaN(p)) return p;
  }
  return undefined;
}
