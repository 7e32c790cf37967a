/**
 * Turns a validated Portfolio into the PlanModel the engine runs: catalog machines looked up,
 * fleets sorted least-efficient first (the order MW leave mining), contract cash schedules per MW
 * from src/compute (valueContract, gpuCloudEconomics), price pools from the scenario generator,
 * and every scenario default filled in, with a note for each assumption taken.
 */
import { revenueUsdPerMWh } from '../bitcoin/asic.js';
import { BUILTIN_CATALOG, findAsic, findGpu, gpuItKw } from '../catalog/catalog.js';
import type { Catalog } from '../catalog/types.js';
import { valueContract } from '../compute/contract.js';
import { gpuCloudEconomics } from '../compute/gpu-cloud.js';
import { badInput, isMulletError } from '../core/errors.js';
import { MS_PER_DAY, parseUtcDate } from '../core/time.js';
import type { ScenarioParams } from '../scenario/params.js';
import { equilibriumHashrateHs } from './network.js';
import type { ContractOption, Portfolio } from './portfolio.js';
import { buildPricePool, type PricePool } from './power-pool.js';
import { buildTimeline, type Timeline } from './timeline.js';

export interface ResolvedFleet {
  model: string;
  count: number;
  /** Site MW of the fleet at the meter (machines × W × mining PUE). */
  mw: number;
  efficiencyJPerTh: number;
}

export interface ResolvedRefresh {
  label: string;
  fleetIndex: number;
  model: string;
  efficiencyJPerTh: number;
  /** Plan month the new machines start (may be ≥ months: then never). */
  month: number;
  /** Price of re-equipping the whole fleet's MW, USD. */
  capexUsd: number;
}

export interface ResolvedContract {
  name: string;
  kind: 'lease' | 'gpu-cloud';
  termMonths: number;
  /** Per MW of IT at a market factor of 1: recognized revenue and cash (after the prepay credit) by contract month. */
  revenuePerMw: Float64Array;
  cashPerMw: Float64Array;
  /** Share of the MW online by contract month (the ramp). */
  onlineFrac: Float64Array;
  prepayPerMw: number;
  /** The site pays the AI energy (gpu-cloud, or a lease without pass-through). */
  sitePaysPower: boolean;
  tenantCapexPerMw: number;
  /** GPU purchase per MW of IT, USD, at each gpu-cloud contract start. */
  gpuCapexPerMw: number;
  /** Headline figure for reports: USD per kW-month of IT in the first year. */
  usdPerKwMonth: number;
}

export interface ResolvedSite {
  name: string;
  index: number;
  settlementPoint: string;
  interconnectMW: number;
  power: { kind: 'market'; adderUsdPerMWh: number } | { kind: 'fixed'; usdPerMWh: number; resale: boolean };
  fleets: ResolvedFleet[];
  miningMW: number;
  miningPue: number;
  poolFeePct: number;
  miningOpexPerMwMonth: number;
  refresh: ResolvedRefresh[];
  ai?: {
    convertibleItMW: number;
    stepItMW: number;
    pue: number;
    capexPerMw: number;
    leadTimeMonths: number;
    opexPerMwMonth: number;
    contracts: ResolvedContract[];
  };
  pool: PricePool;
}

export interface ResolvedScenario {
  btc: { model: 'gbm' | 'bootstrap'; startPriceUsd: number; driftPerYear: number; volPerYear: number; blockDays: number; dailyReturns?: Float64Array; driftStdErrPerYear: number };
  fees: { meanShare: number; sigmaLog: number; ar1: number; stepAtHalving: number };
  network: {
    startHashrateHs: number;
    startDifficulty: number;
    startHeight: number;
    breakEvenUsdPerPhDay: number;
    effGainPerYear: number;
    response: number;
    lagMonths: number;
    maxGrowthLog: number;
    minGrowthLog: number;
    noiseSigma: number;
  };
  power: { mix: boolean; escalatorPerYear: number };
  aiLease: { driftPerYear: number; volPerYear: number };
  tenants: { defaultHazardPerMonth: number; renewalProb: number; reletMonths: number };
}

/** Multipliers and shifts for the sensitivity (tornado) runs; 1 / 0 is the base case. */
export interface Shocks {
  btcPrice: number;
  /** Added to the BTC drift, per year (the tornado moves it by ± one standard error of its estimate). */
  btcDriftPerYear: number;
  hashprice: number;
  leaseRate: number;
  capex: number;
  leadTimeMonths: number;
}

export const NO_SHOCKS: Shocks = { btcPrice: 1, btcDriftPerYear: 0, hashprice: 1, leaseRate: 1, capex: 1, leadTimeMonths: 0 };

/** The BTC price process a plan ran on, and where each number came from (shown in the report). */
export interface BtcPriceProcess {
  model: 'gbm' | 'bootstrap';
  driftPctPerYear: number;
  /** Growth of the median path, μ − σ²/2, percent per year. */
  medianGrowthPctPerYear: number;
  volPctPerYear: number;
  driftStdErrPctPerYear: number;
  driftSource: string;
  volSource: string;
  /** Window and method of the calibration. */
  calibration: { from: string; to: string; method: string };
}

export interface PlanModel {
  name: string;
  timeline: Timeline;
  sites: ResolvedSite[];
  scenario: ResolvedScenario;
  taxRate: number;
  depreciationMonths: number;
  terminal: 'contracted' | 'none';
  shocks: Shocks;
  btcPriceProcess: BtcPriceProcess;
  /** Power price multiplier by month from the escalator, (1 + e)^(t/12), over the extended timeline. */
  priceScale: Float64Array;
  notes: string[];
}

export interface ResolveInputs {
  /** Scenario parameters per settlement point (calibrated or defaults). */
  paramsFor: (settlementPoint: string) => ScenarioParams;
  /** Real daily BTC log returns for the bootstrap model (from the store). */
  btcDailyLogReturns?: Float64Array;
  catalog?: Catalog;
  /** Seed of the synthetic power pools. */
  seed: number;
  notes?: string[];
}

function wrap<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (isMulletError(err) && err.code === 'BAD_INPUT') throw badInput(err.message, err.where ? `${where}.${err.where}` : where);
    throw err;
  }
}

function resolveContract(c: ContractOption, aiPue: number, catalog: Catalog, where: string): ResolvedContract {
  return wrap(where, () => {
    let usdPerKwMonth: number;
    let gpuCapexPerMw = 0;
    if (c.kind === 'lease') usdPerKwMonth = c.usdPerKwMonth;
    else {
      const gpu = findGpu(c.gpu, catalog, 'gpu');
      const e = gpuCloudEconomics({
        usdPerGpuHour: c.usdPerGpuHour,
        gpuCount: 1,
        gpuPowerW: gpu.powerW,
        serverOverheadWPerGpu: gpu.serverOverheadWPerGpu,
        pue: aiPue,
        utilization: c.utilizationPct / 100,
      });
      usdPerKwMonth = e.usdPerKwMonthIt;
      gpuCapexPerMw = (1000 / gpuItKw(gpu)) * c.usdPerGpu;
    }
    const v = valueContract({
      itMW: 1,
      termYears: c.termYears,
      usdPerKwMonth,
      escalatorPct: c.escalatorPct,
      prepayPct: c.prepayPct,
      ramp: c.rampMonths > 0 ? { kind: 'linear', months: c.rampMonths } : { kind: 'none' },
    });
    return {
      name: c.name,
      kind: c.kind,
      termMonths: v.termMonths,
      revenuePerMw: Float64Array.from(v.months, (m) => m.revenueUsd),
      cashPerMw: Float64Array.from(v.months, (m) => m.cashUsd),
      onlineFrac: Float64Array.from(v.months, (m) => m.mwOnline),
      prepayPerMw: v.prepaymentUsd,
      sitePaysPower: c.kind === 'gpu-cloud' || !c.powerPassThrough,
      tenantCapexPerMw: c.tenantCapexUsdPerMW,
      gpuCapexPerMw,
      usdPerKwMonth,
    };
  });
}

/** Resolves a portfolio; throws BAD_INPUT with the data path of the first inconsistency. */
export function resolvePortfolio(p: Portfolio, inputs: ResolveInputs): PlanModel {
  const catalog = inputs.catalog ?? BUILTIN_CATALOG;
  const notes = [...(inputs.notes ?? [])];
  const startMs = parseUtcDate(p.finance.startDate);
  const months = p.finance.horizonYears * 12;
  const names = new Set<string>();
  const pools = new Map<string, PricePool>();
  const sites: ResolvedSite[] = p.sites.map((s, i) => {
    const where = `sites[${i}]`;
    if (names.has(s.name)) throw badInput(`duplicate site name '${s.name}'`, `${where}.name`);
    names.add(s.name);
    const sp = s.settlementPoint.toUpperCase();
    let pool = pools.get(sp);
    if (!pool) {
      pool = buildPricePool({ ...inputs.paramsFor(sp), settlementPoint: sp }, p.scenarios.power.poolYears, inputs.seed);
      pools.set(sp, pool);
    }
    const fleets: ResolvedFleet[] = s.mining.fleets.map((f, j) => {
      const asic = findAsic(f.model, catalog, `${where}.mining.fleets[${j}].model`);
      return { model: asic.model, count: f.count, mw: (f.count * asic.powerW * s.mining.pue) / 1e6, efficiencyJPerTh: asic.efficiencyJPerTh };
    });
    fleets.sort((a, b) => b.efficiencyJPerTh - a.efficiencyJPerTh);
    const miningMW = fleets.reduce((x, f) => x + f.mw, 0);
    if (miningMW > s.interconnectMW + 1e-9) {
      throw badInput(`fleets draw ${miningMW.toFixed(1)} MW at the meter, above the ${s.interconnectMW} MW interconnect`, `${where}.mining.fleets`);
    }
    const refresh: ResolvedRefresh[] = s.mining.refresh.map((r, j) => {
      const w = `${where}.mining.refresh[${j}]`;
      const old = findAsic(r.replaces, catalog, `${w}.replaces`);
      const fleetIndex = fleets.findIndex((f) => f.model === old.model);
      if (fleetIndex < 0) throw badInput(`no fleet of '${old.model}' at this site`, `${w}.replaces`);
      const asic = findAsic(r.model, catalog, `${w}.model`);
      const fleet = fleets[fleetIndex] as ResolvedFleet;
      const month = (r.year - new Date(startMs).getUTCFullYear()) * 12 - new Date(startMs).getUTCMonth();
      if (month < 0) throw badInput(`year ${r.year} is before the plan starts`, `${w}.year`);
      const ths = (fleet.mw * 1e6) / s.mining.pue / asic.efficiencyJPerTh;
      return { label: `${old.model} → ${asic.model} (${r.year})`, fleetIndex, model: asic.model, efficiencyJPerTh: asic.efficiencyJPerTh, month, capexUsd: ths * r.usdPerTh };
    });
    let ai: ResolvedSite['ai'];
    if (s.ai) {
      const a = s.ai;
      if (a.convertibleItMW * a.pue > s.interconnectMW + 1e-9) {
        throw badInput(`${a.convertibleItMW} MW of IT at PUE ${a.pue} needs ${(a.convertibleItMW * a.pue).toFixed(1)} MW, above the ${s.interconnectMW} MW interconnect`, `${where}.ai.convertibleItMW`);
      }
      const step = a.stepItMW ?? (a.convertibleItMW > 0 ? a.convertibleItMW / Math.min(4, Math.max(1, Math.round(a.convertibleItMW / 25))) : 1);
      const cnames = new Set<string>();
      ai = {
        convertibleItMW: a.convertibleItMW,
        stepItMW: step,
        pue: a.pue,
        capexPerMw: a.capexUsdPerMW,
        leadTimeMonths: a.leadTimeMonths,
        opexPerMwMonth: a.opexUsdPerMWYear / 12,
        contracts: a.contracts.map((c, j) => {
          if (cnames.has(c.name)) throw badInput(`duplicate contract name '${c.name}'`, `${where}.ai.contracts[${j}].name`);
          cnames.add(c.name);
          if (c.tenantCapexUsdPerMW > a.capexUsdPerMW) throw badInput('exceeds the site capex per MW', `${where}.ai.contracts[${j}].tenantCapexUsdPerMW`);
          return resolveContract(c, a.pue, catalog, `${where}.ai.contracts[${j}]`);
        }),
      };
    }
    // Validates pool fee / PUE ranges once, with the site's path, before the engine runs.
    wrap(`${where}.mining`, () => revenueUsdPerMWh(1, 20, s.mining.poolFeePct, s.mining.pue));
    return {
      name: s.name,
      index: i,
      settlementPoint: sp,
      interconnectMW: s.interconnectMW,
      power: s.power.kind === 'market' ? { kind: 'market', adderUsdPerMWh: s.power.adderUsdPerMWh } : { kind: 'fixed', usdPerMWh: s.power.usdPerMWh, resale: s.power.resale },
      fleets,
      miningMW,
      miningPue: s.mining.pue,
      poolFeePct: s.mining.poolFeePct,
      miningOpexPerMwMonth: s.mining.opexUsdPerMWYear / 12,
      refresh,
      ...(ai ? { ai } : {}),
      pool,
    };
  });
  const maxTail = Math.max(0, ...sites.flatMap((s) => (s.ai ? s.ai.contracts.map((c) => c.termMonths + (s.ai?.leadTimeMonths ?? 0) + 24) : [])));
  const timeline = buildTimeline(startMs, months, p.finance.terminalValue === 'contracted' ? months + maxTail : months, p.finance.discountRatePct / 100);

  const first = inputs.paramsFor((sites[0] as ResolvedSite).settlementPoint);
  const sc = p.scenarios;
  const start = first.btc.start;
  const daysAhead = Math.round((startMs - parseUtcDate(start.dateUtc)) / MS_PER_DAY);
  const startHeight = Math.max(0, Math.round(start.heightEndOfDay + 144 * daysAhead));
  if (Math.abs(daysAhead) > 0) notes.push(`network start: height ${start.heightEndOfDay} on ${start.dateUtc} moved ${daysAhead} days at 144 blocks/day to ${startHeight}`);
  const volPerYear = sc.btc.volPctPerYear !== undefined ? sc.btc.volPctPerYear / 100 : first.btc.priceVolPerYear;
  const driftPerYear = sc.btc.driftPctPerYear !== undefined ? sc.btc.driftPctPerYear / 100 : first.btc.priceDriftPerYear;
  const calibratedFrom = first.source === 'defaults' ? 'the built-in defaults' : 'the store';
  const window = `${first.btc.priceWindow.from}..${first.btc.priceWindow.to}`;
  const process: BtcPriceProcess = {
    model: sc.btc.model,
    driftPctPerYear: 100 * driftPerYear,
    medianGrowthPctPerYear: 100 * (driftPerYear - (volPerYear * volPerYear) / 2),
    volPctPerYear: 100 * volPerYear,
    driftStdErrPctPerYear: 100 * first.btc.priceDriftStdErrPerYear,
    driftSource: sc.btc.driftPctPerYear !== undefined ? 'portfolio (scenarios.btc.driftPctPerYear)' : `calibrated, ${calibratedFrom} ${window}`,
    volSource: sc.btc.volPctPerYear !== undefined ? 'portfolio (scenarios.btc.volPctPerYear)' : `calibrated, ${calibratedFrom} ${window}`,
    calibration: {
      from: first.btc.priceWindow.from,
      to: first.btc.priceWindow.to,
      method: 'one halving cycle of daily log returns (Bitstamp 00:00 UTC): σ = √365 × their standard deviation; the median path grows at their mean × 365; μ = that + σ²/2; s.e. of the drift = σ / √years',
    },
  };
  notes.push(
    `btc drift: ${process.driftPctPerYear.toFixed(1)} %/yr (${process.driftSource}; the median path grows ${process.medianGrowthPctPerYear.toFixed(1)} %/yr; s.e. ±${process.driftStdErrPctPerYear.toFixed(1)} %/yr, shown in the sensitivity)` +
      (sc.btc.driftPctPerYear === undefined ? '; set scenarios.btc.driftPctPerYear for your own view' : ''),
  );
  notes.push(`btc volatility: ${process.volPctPerYear.toFixed(1)} %/yr (${process.volSource})`);
  let dailyReturns: Float64Array | undefined;
  if (sc.btc.model === 'bootstrap') {
    const hist = inputs.btcDailyLogReturns;
    if (!hist || hist.length < 365) throw badInput('the bootstrap needs at least a year of real daily BTC prices: pass --db with imported BTC prices, or use model: gbm', 'scenarios.btc.model');
    dailyReturns = standardizeReturns(hist, sc.btc.volPctPerYear !== undefined ? volPerYear : undefined, driftPerYear);
    notes.push(`btc: block bootstrap (${sc.btc.bootstrapBlockDays}-day blocks) of ${hist.length} real daily returns, re-centred to ${(100 * driftPerYear).toFixed(1)} %/yr drift`);
  }
  const n = sc.network;
  const scenario: ResolvedScenario = {
    btc: {
      model: sc.btc.model,
      startPriceUsd: sc.btc.startPriceUsd ?? start.priceUsd,
      driftPerYear,
      volPerYear,
      blockDays: sc.btc.bootstrapBlockDays,
      driftStdErrPerYear: first.btc.priceDriftStdErrPerYear,
      ...(dailyReturns ? { dailyReturns } : {}),
    },
    fees: { meanShare: sc.fees.meanShareOfSubsidyPct / 100, sigmaLog: sc.fees.sigmaLog, ar1: sc.fees.ar1Monthly, stepAtHalving: sc.fees.stepAtHalving },
    network: {
      startHashrateHs: n.startHashrateEhs !== undefined ? n.startHashrateEhs * 1e18 : equilibriumHashrateHs(start.difficulty),
      startDifficulty: start.difficulty,
      startHeight,
      breakEvenUsdPerPhDay: n.breakEvenHashpriceUsdPerPhDay,
      effGainPerYear: n.efficiencyGainPctPerYear / 100,
      response: n.responsePerMonth,
      lagMonths: n.lagMonths,
      maxGrowthLog: Math.log1p(n.maxBuildOutPctPerMonth / 100),
      minGrowthLog: Math.log1p(-n.maxDeclinePctPerMonth / 100),
      noiseSigma: n.noisePctPerMonth / 100,
    },
    power: { mix: sc.power.sampling === 'mean', escalatorPerYear: sc.power.escalatorPctPerYear / 100 },
    aiLease: { driftPerYear: sc.aiLease.driftPctPerYear / 100, volPerYear: sc.aiLease.volPctPerYear / 100 },
    tenants: {
      defaultHazardPerMonth: -Math.log1p(-Math.min(0.999999, sc.tenants.defaultPctPerYear / 100)) / 12,
      renewalProb: sc.tenants.renewalPct / 100,
      reletMonths: sc.tenants.reletMonths,
    },
  };
  notes.push(`power prices: ${pools.size} synthetic pool(s) of ${p.scenarios.power.poolYears} years (${[...pools.values()][0]?.label ?? ''})`);
  return {
    name: p.name,
    timeline,
    sites,
    scenario,
    taxRate: (p.finance.taxRatePct ?? 0) / 100,
    depreciationMonths: Math.round(p.finance.depreciationYears * 12),
    terminal: p.finance.terminalValue,
    shocks: NO_SHOCKS,
    btcPriceProcess: process,
    priceScale: Float64Array.from({ length: timeline.extendedMonths }, (_, t) => Math.pow(1 + scenario.power.escalatorPerYear, t / 12)),
    notes,
  };
}

/** Daily log returns re-centred to `driftPerYear` (GBM convention) and, if given, rescaled to `volPerYear`. */
export function standardizeReturns(r: Float64Array, volPerYear: number | undefined, driftPerYear: number): Float64Array {
  let m = 0;
  for (const x of r) m += x;
  m /= r.length;
  let v = 0;
  for (const x of r) v += (x - m) ** 2;
  const sd = Math.sqrt(v / (r.length - 1));
  const targetSd = volPerYear !== undefined ? volPerYear / Math.sqrt(365) : sd;
  const k = sd > 0 ? targetSd / sd : 0;
  const mu = (driftPerYear - (targetSd * targetSd * 365) / 2) / 365;
  return Float64Array.from(r, (x) => (x - m) * k + mu);
}
