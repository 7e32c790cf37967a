/**
 * `optimal`: perfect foresight over the whole window as one LP (a MIP when a fleet dispatches
 * whole machines), solved with the injected solver. Realized prices, the 4CP settlement intervals and
 * the day's hashprice are known in advance: the upper bound any causal policy can reach.
 * A failed, infeasible or timed-out solve (or a solution that breaks a limit) falls back to the
 * strike rule at break-even, capped by the interconnect, and is counted in safeFallbacks.
 */
import { ersAwards, optimalAncillarySpec, readAwards } from './ancillary.js';
import { buildDispatchLp, type DeferrableGroup, type DispatchLpSpec, type FourCpGroup } from './formulation.js';
import { candidateIndices } from './fourcp.js';
import { fleetModel, type FleetModel } from './fleet-model.js';
import { deferrableRequirementMWh } from './ledger.js';
import type { LpSolver } from './lp/solver.js';
import { findViolation, readSolution } from './solution.js';
import { strikePolicy } from './strike.js';
import type { DispatchInput, Plan, PolicyOptions, PolicyResult } from './types.js';

export interface LpPolicyOptions extends PolicyOptions {
  solver: LpSolver;
  /** Overrides site.dispatch.timeLimitSeconds. */
  timeLimitSeconds?: number;
}

/**
 * 4CP for perfect foresight: per month, the priced candidate intervals of its settlement and the
 * charge per MW of the site's demand (usdPerKwYear × 1000 × ¼). The LP pays it on the worst candidate.
 */
export function fourCpGroups(input: DispatchInput): FourCpGroup[] {
  if (!input.site.transmission?.coincidentPeak) return [];
  const idx = candidateIndices(input.startMs, input.fourCpPeaks);
  return input.fourCpPeaks.map((p, k) => ({ intervals: idx[k] as number[], usdPerMW: p.usdPerKwYear * 1000 * 0.25 })).filter((g) => g.intervals.length > 0);
}

/** Deferrable day groups for the whole window: each local day's prorated energy, exactly. */
export function windowDeferrableGroups(input: DispatchInput): DeferrableGroup[][] {
  return input.site.ai.map((a) => {
    if (a.kind !== 'deferrable') return [];
    const req = deferrableRequirementMWh(input, a.dailyEnergyMWh);
    const groups: DeferrableGroup[] = [];
    let from = 0;
    for (let t = 1; t <= input.localDay.length; t++) {
      if (t === input.localDay.length || input.localDay[t] !== input.localDay[from]) {
        groups.push({ from, to: t, energyMWh: req.get(input.localDay[from] as number) ?? 0, exact: true });
        from = t;
      }
    }
    return groups;
  });
}

/** Capped-AI reduction budget, IT MWh: maxHoursPerYear at full depth, prorated to `hours`. */
export function cappedBudgetMWh(input: DispatchInput, hours: number): number[] {
  return input.site.ai.map((a) => (a.kind === 'capped' ? ((a.maxHoursPerYear * a.itMW * a.maxReductionPct) / 100) * (hours / 8760) : 0));
}

export function optimalSpec(input: DispatchInput, models: FleetModel[]): DispatchLpSpec {
  const hours = (input.startMs.length * input.intervalMinutes) / 60;
  const ancillary = optimalAncillarySpec(input);
  return {
    ...(ancillary ? { ancillary } : {}),
    site: input.site,
    models,
    intervalMinutes: input.intervalMinutes,
    startMs: input.startMs,
    priceUsdPerMWh: input.rtPriceUsdPerMWh,
    hashpriceUsdPerPhDay: input.hashpriceUsdPerPhDay,
    fourCpUsdPerMW: new Float64Array(input.startMs.length),
    fourCpGroups: fourCpGroups(input),
    deferrableGroups: windowDeferrableGroups(input),
    cappedBudgetMWh: cappedBudgetMWh(input, hours),
  };
}

export function optimalPolicy(input: DispatchInput, options: LpPolicyOptions): PolicyResult {
  const t0 = options.nowMs?.() ?? 0;
  const elapsed = () => ((options.nowMs?.() ?? 0) - t0) / 1000;
  const models = input.site.fleets.map(fleetModel);
  const spec = optimalSpec(input, models);
  const { model, layout } = buildDispatchLp(spec);
  const timeLimitSeconds = options.timeLimitSeconds ?? input.site.dispatch.timeLimitSeconds;
  const sol = options.solver.solve(model, { timeLimitSeconds, mipRelGap: 1e-4 });
  const notes: string[] = [`LP: ${model.numCols} columns, ${model.numRows} rows, ${model.value.length} nonzeros${model.integrality ? ' (MIP)' : ''}; ${sol.message}`];
  if (sol.feasible && sol.colValue) {
    const slice = readSolution(spec, layout, sol.colValue);
    const bad = findViolation(spec, slice);
    if (!bad) {
      if (sol.status !== 'optimal') notes.push(`solver stopped at ${sol.status} with a feasible, possibly suboptimal plan`);
      const plan: Plan = { policy: 'optimal', ...slice };
      if (spec.ancillary) plan.awards = [...readAwards(spec.ancillary, layout.asAward, sol.colValue), ...ersAwards(input.site, input.startMs)];
      return { plan, solveSeconds: elapsed(), safeFallbacks: 0, notes };
    }
    notes.push(`solver plan rejected as unsafe (${bad})`);
  }
  const fb = strikePolicy(input, {}, 'optimal');
  notes.push(`SAFE FALLBACK: ${sol.status}; the plan is the strike rule at break-even capped by the import limit`);
  return { plan: fb.plan, solveSeconds: elapsed(), safeFallbacks: 1, notes };
}
