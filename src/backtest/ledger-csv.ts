/** The per-interval ledger as CSV: what each interval earned and cost by stream, and who got the power. */
import type { Ledger } from '../dispatch/ledger.js';
import { REASON_NAMES, type DispatchInput, type Plan } from '../dispatch/types.js';
import { formatCpt } from '../core/ercot-time.js';

const num = (v: number, d: number) => (Number.isFinite(v) ? String(Math.round(v * 10 ** d) / 10 ** d) : '');

/**
 * CSV text: a header, then one row per settled interval for each policy (in the order given, a block
 * per policy, the policy named in the first column); money USD, power MW, prices USD/MWh.
 */
export function ledgerCsv(input: DispatchInput, runs: readonly { plan: Plan; ledger: Ledger }[]): string {
  const site = input.site;
  // One column per grid product any run holds: MW held and capacity revenue (USD), plus the penalties.
  const products = [...new Set([...(site.ancillary?.products ?? []), ...(site.ancillary?.ers ?? []).map((e) => e.product), ...runs.flatMap((r) => (r.plan.awards ?? []).map((a) => a.product))])];
  const heldMW = (plan: Plan, product: string, t: number) => (plan.awards ?? []).reduce((s, a) => s + (a.product === product ? (a.mw[t] as number) : 0), 0);
  const slug = (p: string) => p.toLowerCase().replace('-', '');
  const header = [
    'policy',
    'interval_start_utc',
    'interval_start_local',
    'rt_price_usd_per_mwh',
    'da_price_usd_per_mwh',
    'hashprice_usd_per_ph_day',
    'site_load_mw',
    ...site.ai.map((a) => `${a.name}_it_mw`),
    ...site.fleets.flatMap((f) => [`${f.name}_mw`, `${f.name}_curtail_reason`]),
    'revenue_ai_usd',
    'revenue_mining_usd',
    'revenue_power_resale_usd',
    'revenue_ai_flex_usd',
    'revenue_ai_pass_through_usd',
    ...products.flatMap((p) => [`${slug(p)}_award_mw`, `revenue_${slug(p)}_usd`]),
    ...(products.length > 0 ? ['revenue_ancillary_usd', 'cost_ancillary_penalty_usd'] : []),
    'cost_energy_usd',
    'cost_ppa_usd',
    'cost_transmission_usd',
    'net_usd',
    'fourcp_alert',
    'fourcp_settlement_candidate',
  ];
  const lines = [header.join(',')];
  for (const { plan, ledger } of runs) for (let t = 0; t < input.startMs.length; t++) {
    const ms = input.startMs[t] as number;
    const row = [
      plan.policy,
      new Date(ms).toISOString().replace('.000Z', 'Z'),
      formatCpt(ms),
      num(input.rtPriceUsdPerMWh[t] as number, 2),
      num(input.daPriceUsdPerMWh[t] as number, 2),
      num(input.hashpriceUsdPerPhDay[t] as number, 4),
      num(ledger.siteLoadMW[t] as number, 4),
      ...site.ai.map((_, k) => num((plan.aiItMW[k] as Float64Array)[t] as number, 4)),
      ...site.fleets.flatMap((_, f) => [num((plan.fleetMW[f] as Float64Array)[t] as number, 4), REASON_NAMES[(plan.reason[f] as Uint8Array)[t] as number] ?? '']),
      num(ledger.revenue.ai[t] as number, 2),
      num(ledger.revenue.mining[t] as number, 2),
      num(ledger.revenue.powerResale[t] as number, 2),
      num(ledger.revenue.aiFlex[t] as number, 2),
      num(ledger.revenue.aiPassThrough[t] as number, 2),
      ...products.flatMap((p) => [num(heldMW(plan, p, t), 4), num(ledger.ancillaryByProduct[p]?.[t] ?? 0, 2)]),
      ...(products.length > 0 ? [num(ledger.revenue.ancillary[t] as number, 2), num(ledger.cost.ancillaryPenalty[t] as number, 2)] : []),
      num(ledger.cost.energy[t] as number, 2),
      num(ledger.cost.ppa[t] as number, 2),
      num(ledger.cost.transmission[t] as number, 2),
      num(ledger.net[t] as number, 2),
      String(input.fourCpAlert[t]),
      num(input.fourCpPeakWeight[t] as number, 4),
    ];
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}
