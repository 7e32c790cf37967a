/**
 * The deterministic view: the same engine on one path of a world with every source of randomness
 * switched off — zero BTC, fee, network, lease-rate volatility, no tenant defaults, renewals when
 * their probability is at least one half, and each month's power at the mixture of its pool months.
 * With a portfolio whose scenarios are already all zero-volatility, every Monte Carlo path equals
 * this one (the planner's tests pin that).
 */
import { PathEvaluator, slot } from './evaluate.js';
import type { PlanModel } from './resolve.js';
import type { PortfolioFlows, Schedule } from './schedule.js';

/** A copy of `model` with all volatility and default risk removed. */
export function zeroVolatility(model: PlanModel): PlanModel {
  const s = model.scenario;
  return {
    ...model,
    scenario: {
      ...s,
      btc: { ...s.btc, model: 'gbm', volPerYear: 0 },
      fees: { ...s.fees, sigmaLog: 0 },
      network: { ...s.network, noiseSigma: 0 },
      power: { ...s.power, mix: true },
      aiLease: { ...s.aiLease, volPerYear: 0 },
      tenants: { ...s.tenants, defaultHazardPerMonth: 0, renewalProb: s.tenants.renewalProb >= 0.5 ? 1 : 0 },
    },
  };
}

export interface DeterministicResult {
  npvUsd: number;
  flows: PortfolioFlows;
  /** BTC price and hashprice by month on the deterministic path. */
  btcPriceUsd: Float64Array;
  hashpriceUsdPerPhDay: Float64Array;
  halvingMs: number;
}

/** The deterministic cash flows and NPV of `schedule` (the model is made zero-volatility first). */
export function deterministicPlan(model: PlanModel, seed: number, schedule: Schedule): DeterministicResult {
  const m = zeroVolatility(model);
  const ev = new PathEvaluator(m, seed, [schedule]);
  const out = new Float64Array(ev.layout.slots);
  ev.evaluate(0, out);
  const market = ev.lastMarket();
  return {
    npvUsd: out[slot.npv(ev.layout, 0)] as number,
    flows: ev.lastFlows(0),
    btcPriceUsd: Float64Array.from(market.btcPriceUsd),
    hashpriceUsdPerPhDay: Float64Array.from(market.hashpriceUsdPerPhDay),
    halvingMs: market.halvingMs,
  };
}
