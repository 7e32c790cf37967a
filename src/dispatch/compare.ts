/**
 * Comparing two policies' settled plans on the same window: where the gap in net USD comes from
 * (regret by cause), and why two policies can give the same result.
 *
 * Regret by cause is an exact decomposition, interval by interval, of net(reference) − net(policy):
 * 1. The AI part: what moving flexible AI load changed (its revenue, flex payments, pass-through,
 *    and the site energy cost of the AI load difference, evaluated first) → `aiFlexibility`.
 * 2. The fleet part: mining revenue minus the site energy / PPA / resale cost of the fleet load
 *    difference (evaluated second, so the two parts sum exactly to the interval's gap), given to
 *    one cause by what held the fleets apart in that interval:
 *    - `fourCpAlerts` / `fourCpPeaks`: either policy curtailed for 4CP (an alert, or a 4CP
 *      settlement interval) — split by whether the interval is one of the month's settlement
 *      candidates (official interval or estimated window);
 *    - `rampLimits`, `minOffTime`, `importLimit`: either policy was held by that constraint;
 *    - `resale`: part of the difference lies inside a PPA block that cannot be resold (power freed
 *      there earns nothing, so curtailing it on price is a loss);
 *    - `priceResponse`: otherwise — the rule reacts to the last realized price against a break-even
 *      strike, the reference to the value of the power in that interval.
 * 3. The 4CP charges, month by month: each policy pays its load in the interval that set its monthly
 *    demand; the difference splits into the AI load's part (`aiFlexibility`) and the fleets' part
 *    (`fourCpPeaks`), so the causes sum exactly to the gap.
 * Units: USD; MWh of fleet energy difference per cause.
 */
import { baselineAiItMW } from './baseline.js';
import type { Ledger } from './ledger.js';
import { Reason, type DispatchInput, type Plan } from './types.js';

export const REGRET_CAUSES = ['fourCpAlerts', 'fourCpPeaks', 'priceResponse', 'rampLimits', 'minOffTime', 'importLimit', 'aiFlexibility', 'resale', 'gridServices'] as const;
export type RegretCause = (typeof REGRET_CAUSES)[number];

export const REGRET_CAUSE_LABELS: Readonly<Record<RegretCause, string>> = {
  fourCpAlerts: '4CP alerts (curtailed on alert, not the peak)',
  fourCpPeaks: '4CP settlement intervals',
  priceResponse: 'price response (lag, strike level)',
  rampLimits: 'ramp limits',
  minOffTime: 'minimum off-time',
  importLimit: 'interconnect limit',
  aiFlexibility: 'AI flexibility',
  resale: 'unresold power (PPA block without resale)',
  gridServices: 'grid services (capacity payments, penalties)',
};

export interface CauseShare {
  cause: RegretCause;
  label: string;
  /** Part of net(reference) − net(policy), USD (negative: the policy did better there). */
  usd: number;
  /** Intervals in which this cause carried a difference. */
  intervals: number;
  /** Fleet energy of the reference minus the policy's, MWh. */
  fleetMWh: number;
}

export interface RegretBreakdown {
  reference: string;
  policy: string;
  /** net(reference) − net(policy), USD: the sum of the causes. */
  gapUsd: number;
  causes: CauseShare[];
  /** The same gap by ledger stream, USD: revenues as reference − policy, costs as policy − reference (a lower bill is a positive share); they sum to gapUsd. */
  byStreamUsd: { mining: number; powerResale: number; ai: number; aiFlex: number; aiPassThrough: number; ancillary: number; energy: number; ppa: number; transmission: number; ancillaryPenalty: number };
}

export interface Settled {
  plan: Plan;
  ledger: Ledger;
}

const EPS_MW = 1e-6;

/** Energy + PPA − resale at interval t for a site load of `load` MW (the ledger's rules), USD. */
function energyCost(input: DispatchInput, t: number, load: number): number {
  const dt = input.intervalMinutes / 60;
  const price = input.rtPriceUsdPerMWh[t] as number;
  const ppa = input.site.ppa;
  if (!ppa) return load * price * dt;
  let c = ppa.blockMW * ppa.priceUsdPerMWh * dt + Math.max(0, load - ppa.blockMW) * price * dt;
  if (ppa.resale) c -= Math.max(0, ppa.blockMW - load) * price * dt;
  return c;
}

function aiLoad(input: DispatchInput, plan: Plan, t: number): number {
  let s = 0;
  input.site.ai.forEach((a, k) => {
    s += ((plan.aiItMW[k] as Float64Array)[t] as number) * a.pue;
  });
  return s;
}

function fleetLoad(plan: Plan, t: number): number {
  let s = 0;
  for (const f of plan.fleetMW) s += f[t] as number;
  return s;
}

function reasonsAt(plan: Plan, t: number): Set<number> {
  const out = new Set<number>();
  for (const r of plan.reason) out.add(r[t] as number);
  return out;
}

/** Decomposes net(reference) − net(policy) by cause (see the module comment). */
export function regretByCause(input: DispatchInput, policy: Settled, reference: Settled): RegretBreakdown {
  const n = input.startMs.length;
  const dt = input.intervalMinutes / 60;
  const ppa = input.site.ppa;
  const acc = new Map<RegretCause, CauseShare>(REGRET_CAUSES.map((c) => [c, { cause: c, label: REGRET_CAUSE_LABELS[c], usd: 0, intervals: 0, fleetMWh: 0 }]));
  const add = (c: RegretCause, usd: number, mwh: number) => {
    const s = acc.get(c) as CauseShare;
    s.usd += usd;
    s.fleetMWh += mwh;
    if (Math.abs(usd) > 0.005 || Math.abs(mwh) > 1e-6) s.intervals++;
  };
  const a = policy.ledger;
  const b = reference.ledger;
  for (let t = 0; t < n; t++) {
    const la = a.siteLoadMW[t] as number;
    const aiA = aiLoad(input, policy.plan, t);
    const aiB = aiLoad(input, reference.plan, t);
    // 1. AI part, at the policy's fleet load.
    const dAiLoad = aiB - aiA;
    const aiRev =
      ((b.revenue.ai[t] as number) - (a.revenue.ai[t] as number)) +
      ((b.revenue.aiFlex[t] as number) - (a.revenue.aiFlex[t] as number)) +
      ((b.revenue.aiPassThrough[t] as number) - (a.revenue.aiPassThrough[t] as number));
    const aiCost = energyCost(input, t, la + dAiLoad) - energyCost(input, t, la);
    if (Math.abs(dAiLoad) > EPS_MW || Math.abs(aiRev) > 0.005) add('aiFlexibility', aiRev - aiCost, 0);
    // Grid services: capacity payments and penalties (deployments' energy effects are in the streams below).
    const dGrid = (b.revenue.ancillary[t] as number) - (a.revenue.ancillary[t] as number) - ((b.cost.ancillaryPenalty[t] as number) - (a.cost.ancillaryPenalty[t] as number));
    if (Math.abs(dGrid) > 0.005) add('gridServices', dGrid, 0);
    // 2. Fleet part, the rest of the interval's gap.
    const fa = fleetLoad(policy.plan, t);
    const fb = fleetLoad(reference.plan, t);
    const dMining = (b.revenue.mining[t] as number) - (a.revenue.mining[t] as number);
    const lb = b.siteLoadMW[t] as number;
    const fleetCost = energyCost(input, t, lb) - energyCost(input, t, la + dAiLoad);
    const v = dMining - fleetCost;
    const differs = policy.plan.fleetMW.some((m, f) => Math.abs((m[t] as number) - ((reference.plan.fleetMW[f] as Float64Array)[t] as number)) > EPS_MW);
    if (!differs && Math.abs(v) < 0.005) continue;
    const r = new Set([...reasonsAt(policy.plan, t), ...reasonsAt(reference.plan, t)]);
    let cause: RegretCause;
    if (r.has(Reason.fourCp)) cause = (input.fourCpPeakWeight[t] as number) > 0 ? 'fourCpPeaks' : 'fourCpAlerts';
    else if ((input.fourCpPeakWeight[t] as number) > 0 && Math.abs(fb - fa) > EPS_MW) cause = 'fourCpPeaks';
    else if (r.has(Reason.ramp)) cause = 'rampLimits';
    else if (r.has(Reason.minOff)) cause = 'minOffTime';
    else if (r.has(Reason.importLimit)) cause = 'importLimit';
    else if (ppa && !ppa.resale && Math.min(la, lb) < ppa.blockMW - EPS_MW) cause = 'resale';
    else cause = 'priceResponse';
    add(cause, v, (fb - fa) * dt);
  }
  // 3. 4CP: each policy's charge is its load in the interval that set its month's demand.
  const index = new Map<number, number>();
  input.startMs.forEach((ms, t) => index.set(ms, t));
  input.fourCpPeaks.forEach((p, k) => {
    const at = (l: Ledger) => {
      const ms = l.totals.fourCpDemandsMW[k]?.intervalStartMs;
      return ms === undefined || Number.isNaN(ms) ? -1 : (index.get(ms) ?? -1);
    };
    const ta = at(a);
    const tb = at(b);
    const usdPerMW = p.usdPerKwYear * 1000 * 0.25;
    const ai = (s: Settled, t: number) => (t < 0 ? 0 : aiLoad(input, s.plan, t));
    const fl = (s: Settled, t: number) => (t < 0 ? 0 : fleetLoad(s.plan, t));
    const dAi = ai(reference, tb) - ai(policy, ta);
    const dFleet = fl(reference, tb) - fl(policy, ta);
    if (Math.abs(dAi) > EPS_MW) add('aiFlexibility', -usdPerMW * dAi, 0);
    if (Math.abs(dFleet) > EPS_MW) add('fourCpPeaks', -usdPerMW * dFleet, 0);
  });
  const d = (x: Float64Array, y: Float64Array) => {
    let s = 0;
    for (let t = 0; t < n; t++) s += (y[t] as number) - (x[t] as number);
    return s;
  };
  return {
    reference: reference.plan.policy,
    policy: policy.plan.policy,
    gapUsd: b.totals.netUsd - a.totals.netUsd,
    causes: REGRET_CAUSES.map((c) => acc.get(c) as CauseShare),
    byStreamUsd: {
      mining: d(a.revenue.mining, b.revenue.mining),
      powerResale: d(a.revenue.powerResale, b.revenue.powerResale),
      ai: d(a.revenue.ai, b.revenue.ai),
      aiFlex: d(a.revenue.aiFlex, b.revenue.aiFlex),
      aiPassThrough: d(a.revenue.aiPassThrough, b.revenue.aiPassThrough),
      ancillary: d(a.revenue.ancillary, b.revenue.ancillary),
      energy: -d(a.cost.energy, b.cost.energy),
      ppa: -d(a.cost.ppa, b.cost.ppa),
      transmission: -d(a.cost.transmission, b.cost.transmission),
      ancillaryPenalty: -d(a.cost.ancillaryPenalty, b.cost.ancillaryPenalty),
    },
  };
}

/** True when the two plans put the same MW on every load in every interval. */
export function samePlan(a: Plan, b: Plan, tolMW = 1e-6): boolean {
  const eq = (x: readonly Float64Array[], y: readonly Float64Array[]) =>
    x.length === y.length && x.every((arr, i) => arr.every((v, t) => Math.abs(v - ((y[i] as Float64Array)[t] as number)) <= tolMW));
  return eq(a.fleetMW, b.fleetMW) && eq(a.aiItMW, b.aiItMW) && sameAwards(a, b, tolMW);
}

/** The same grid awards (resource, product, MW per interval) in both plans. */
function sameAwards(a: Plan, b: Plan, tolMW: number): boolean {
  const key = (x: { resource: string; product: string }) => `${x.resource}\u0000${x.product}`;
  const sum = (p: Plan) => {
    const m = new Map<string, Float64Array>();
    for (const w of p.awards ?? []) {
      const k = key(w);
      const acc = m.get(k) ?? new Float64Array(w.mw.length);
      for (let t = 0; t < w.mw.length; t++) acc[t] = (acc[t] as number) + (w.mw[t] as number);
      m.set(k, acc);
    }
    return m;
  };
  const x = sum(a);
  const y = sum(b);
  for (const k of new Set([...x.keys(), ...y.keys()])) {
    const u = x.get(k);
    const v = y.get(k);
    const n = Math.max(u?.length ?? 0, v?.length ?? 0);
    for (let t = 0; t < n; t++) if (Math.abs((u?.[t] ?? 0) - (v?.[t] ?? 0)) > tolMW) return false;
  }
  return true;
}

/**
 * Why two policies that produced the same plan did: the constraints that could have separated them
 * and did not bind, and what each saw. `names` are the two policies' names.
 */
export function explainIdentical(input: DispatchInput, a: Plan, b: Plan): string {
  const site = input.site;
  const n = input.startMs.length;
  const names = [a.policy, b.policy].sort();
  const bound = (code: number) => [a, b].some((p) => p.reason.some((r) => r.includes(code)));
  const facts: string[] = [];
  if (site.fleets.length === 0) facts.push('the site has no fleets');
  else {
    facts.push(bound(Reason.ramp) ? 'ramps bound at times (the same way in both)' : 'no ramp limit bound');
    facts.push(bound(Reason.importLimit) ? 'the interconnect filled at times (the same way in both)' : `the interconnect (${site.interconnect.importLimitMW} MW) was never the limit`);
    if (!site.fleets.some((f) => f.minOffMinutes > 0 || f.startCostUsd > 0)) facts.push('no minimum off-time or start cost');
  }
  const flexAi = site.ai.filter((x) => x.kind !== 'firm');
  const base = baselineAiItMW(input);
  const moved = site.ai.some((x, k) => x.kind !== 'firm' && (a.aiItMW[k] as Float64Array).some((v, t) => Math.abs(v - ((base[k] as Float64Array)[t] as number)) > 1e-6));
  facts.push(flexAi.length === 0 ? 'no flexible AI load' : moved ? 'flexible AI moved the same way' : 'flexible AI was never moved');
  let why = `${names[0]} and ${names[1]} dispatched identically in all ${n.toLocaleString('en-US')} intervals: ${facts.join(', ')}`;
  if (names[0] === 'rolling' && names[1] === 'strike' && site.fleets.length > 0) {
    const s = site.dispatch.strike;
    const ruleMatches = s.sleepAfterIntervals === 1 && s.wakeAfterIntervals === 2 && (s.offsetUsdPerMWh ?? 0) === 0 && site.fleets.every((f) => f.strikeUsdPerMWh === undefined);
    why +=
      '. With nothing coupling the intervals, rolling decides each one alone — run a fleet when its hashprice value beats the price nowcast ' +
      '(the higher of the last two real-time prices) — and sleeps in the same 4CP alert windows' +
      (ruleMatches ? ', which is exactly the strike rule at break-even with sleep after 1 and wake after 2 intervals' : '');
  } else if (names.includes('mining-only') && site.fleets.length > 0) {
    why += '; no interval gave a reason to curtail (price never above a strike, no 4CP alert)';
  }
  return why + '.';
}
