/**
 * Site YAML → validated Site. Every problem is reported with the file line and the data path
 * (`site.yaml:14: fleets[1].powerW: must be > 0`); a YAML syntax error with line:column. All
 * problems of a file are reported at once. Pure: the caller reads the file.
 */
import { BUILTIN_CATALOG, findAsic } from '../catalog/catalog.js';
import type { Catalog } from '../catalog/types.js';
import { describeError } from '../core/errors.js';
import { formatDataPath, parseYaml, throwProblems, type DataPath, type DataProblem } from '../core/yaml-doc.js';
import { SiteSchema, type FleetInput, type SiteInput } from './schema.js';
import { cptWallToUtcMs } from '../core/ercot-time.js';
import { ineligibility, SB6_LARGE_LOAD_MW } from './grid-products.js';
import type { AiLoad, ErsAward, Fleet, FourCpAlertConfig, ResourceAncillary, Site } from './types.js';

type Problem = DataProblem;

/** `['fleets', 1, 'powerW']` → `fleets[1].powerW`. */
export const formatSitePath = formatDataPath;

export interface ParseSiteOptions {
  /** Shown in errors (`examples/site.yaml:12`). */
  file?: string;
  catalog?: Catalog;
}

/** Parses and validates a site file's text; throws BAD_INPUT naming file:line and the data path. */
export function parseSite(text: string, options: ParseSiteOptions = {}): Site {
  const file = options.file ?? 'site';
  const catalog = options.catalog ?? BUILTIN_CATALOG;
  const yaml = parseYaml(text, file);
  const parsed = SiteSchema.safeParse(yaml.raw ?? {});
  if (!parsed.success) {
    throwProblems(
      file,
      yaml,
      parsed.error.issues.map((issue) => {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        if (issue.code === 'unrecognized_keys') {
          return { path: [...path, issue.keys[0] ?? ''], message: `unknown key${issue.keys.length > 1 ? `s ${issue.keys.join(', ')}` : ''} (check the spelling; see examples/)` };
        }
        if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return { path, message: 'is required' };
        return { path, message: issue.message };
      }),
    );
  }
  const problems: Problem[] = [];
  const site = resolve(parsed.data, catalog, problems);
  if (problems.length > 0) throwProblems(file, yaml, problems);
  return site;
}

function resolveFleet(f: FleetInput, i: number, catalog: Catalog, problems: Problem[]): Fleet | undefined {
  let hashrateThs = f.hashrateThs;
  let powerW = f.powerW;
  let curve: Fleet['efficiencyCurve'] = f.efficiencyCurve === 'catalog' ? undefined : f.efficiencyCurve;
  if (f.model !== undefined) {
    try {
      const asic = findAsic(f.model, catalog, `fleets[${i}].model`);
      hashrateThs = asic.hashrateThs;
      powerW = asic.powerW;
      if (f.efficiencyCurve === 'catalog') {
        if (!asic.efficiencyCurve) {
          problems.push({ path: ['fleets', i, 'efficiencyCurve'], message: `the catalog has no power-target curve for '${asic.model}'; give the points` });
        } else curve = asic.efficiencyCurve;
      }
    } catch (err) {
      problems.push({ path: ['fleets', i, 'model'], message: describeError(err).replace(/^fleets\[\d+\]\.model: /, '') });
      return undefined;
    }
  }
  if (hashrateThs === undefined || powerW === undefined) return undefined;
  const fleet: Fleet = {
    name: f.name,
    hashrateThs,
    powerW,
    count: f.count,
    poolFeePct: f.poolFeePct,
    pue: f.pue,
    minOffMinutes: f.minOffMinutes,
    startCostUsd: f.startCostUsd,
    // minimum off-time and start costs make dispatch a MILP over whole machines (optimal policy),
    // unless the fleet is a continuous power-target actuator (efficiency curve).
    integerMachines: f.integerMachines ?? ((f.minOffMinutes > 0 || f.startCostUsd > 0) && f.efficiencyCurve === undefined),
  };
  if (f.ancillary !== undefined) fleet.ancillary = { offer: [...f.ancillary.offer], responseSeconds: f.ancillary.responseSeconds, relay: f.ancillary.relay };
  if (f.model !== undefined) fleet.model = f.model;
  if (f.rampMWPerMinute !== undefined) fleet.rampMWPerMinute = f.rampMWPerMinute;
  if (f.strikeUsdPerMWh !== undefined) fleet.strikeUsdPerMWh = f.strikeUsdPerMWh;
  if (curve !== undefined) fleet.efficiencyCurve = curve;
  return fleet;
}

function resolve(s: SiteInput, catalog: Catalog, problems: Problem[]): Site {
  const seen = new Map<string, string>();
  const checkName = (n: string, path: DataPath) => {
    const first = seen.get(n);
    if (first !== undefined) problems.push({ path, message: `duplicate name '${n}' (already used by ${first}); load names must be unique` });
    else seen.set(n, formatSitePath(path.slice(0, -1)));
  };
  s.ai.forEach((a, i) => checkName(a.name, ['ai', i, 'name']));
  s.fleets.forEach((f, i) => checkName(f.name, ['fleets', i, 'name']));

  const limit = s.interconnect.importLimitMW;
  let firmMW = 0;
  s.ai.forEach((a, i) => {
    if (a.kind === 'firm') firmMW += a.itMW * a.pue;
    if (a.kind === 'capped') firmMW += a.itMW * a.pue * (1 - a.maxReductionPct / 100);
    if (a.kind === 'deferrable' && a.dailyEnergyMWh > a.itMW * 24) {
      problems.push({ path: ['ai', i, 'dailyEnergyMWh'], message: `${a.dailyEnergyMWh} MWh cannot fit in a day at itMW ${a.itMW} (max ${a.itMW * 24} MWh)` });
    }
  });
  if (firmMW > limit + 1e-9) {
    problems.push({
      path: ['interconnect', 'importLimitMW'],
      message: `${limit} MW is below the AI load that can never be curtailed (${firmMW.toFixed(2)} MW at the meter: firm + capped minimum)`,
    });
  }
  if (s.ppa && s.ppa.blockMW > limit) {
    problems.push({ path: ['ppa', 'blockMW'], message: `${s.ppa.blockMW} MW exceeds interconnect.importLimitMW ${limit} MW` });
  }

  const fleets: Fleet[] = [];
  s.fleets.forEach((f, i) => {
    const fleet = resolveFleet(f, i, catalog, problems);
    if (fleet) fleets.push(fleet);
  });

  const ai: AiLoad[] = s.ai.map((a) => {
    const { ancillary, ...rest } = a.kind === 'capped' ? a : { ...a, ancillary: undefined };
    const out = { ...rest, fourCpPassThrough: a.fourCpPassThrough ?? a.powerPassThrough } as AiLoad;
    if (out.kind === 'capped' && ancillary) out.ancillary = { offer: [...ancillary.offer], responseSeconds: ancillary.responseSeconds, relay: ancillary.relay };
    return out;
  });
  const site: Site = {
    name: s.name,
    market: { iso: s.market.iso, settlementPoint: s.market.settlementPoint },
    interconnect: { importLimitMW: limit },
    ai,
    fleets,
    dispatch: s.dispatch,
  };
  if (s.dispatch.rolling.stepMinutes % 15 !== 0) {
    problems.push({ path: ['dispatch', 'rolling', 'stepMinutes'], message: 'must be a multiple of 15 (the settlement interval)' });
  }
  const cp = s.transmission?.coincidentPeak;
  if (s.transmission) {
    site.transmission = {};
    if (cp) {
      const alerts: FourCpAlertConfig = {
        localHours: [cp.alerts.localHours[0], cp.alerts.localHours[1]],
        riskPct: cp.alerts.riskPct,
      };
      if (cp.alerts.windows) alerts.windows = cp.alerts.windows.map((w) => ({ fromMs: Date.parse(w.from), toMs: Date.parse(w.to) }));
      site.transmission.coincidentPeak = { months: [...cp.months].sort((a, b) => a - b), ...(cp.usdPerKwYear === undefined ? {} : { usdPerKwYear: cp.usdPerKwYear }), alerts };
    }
  }
  if (s.ppa) site.ppa = { ...s.ppa };
  if (s.ancillary) resolveAncillary(s, site, problems);
  return site;
}

/** CPT date 'YYYY-MM-DD' → UTC ms of its local midnight (dayOffset days later). */
function cptMidnight(date: string, dayOffset = 0): number {
  const d = new Date(Date.parse(`${date}T00:00:00Z`) + dayOffset * 86_400_000);
  return cptWallToUtcMs({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }, 0);
}

/** Grid services: products each resource qualifies for, ERS awards on named resources, SB 6 status. */
function resolveAncillary(s: SiteInput, site: Site, problems: Problem[]): void {
  const a = s.ancillary;
  if (!a) return;
  const check = (anc: ResourceAncillary | undefined, isAi: boolean, path: DataPath) => {
    if (!anc) return;
    anc.offer.forEach((p, j) => {
      if (p === 'ERS') return;
      const why = ineligibility(p, anc, a.telemetry, isAi);
      if (why) problems.push({ path: [...path, 'ancillary', 'offer', j], message: `not eligible: ${why}` });
    });
  };
  s.fleets.forEach((f, i) => check(f.ancillary, false, ['fleets', i]));
  s.ai.forEach((x, i) => {
    if (x.kind === 'capped') check(x.ancillary, true, ['ai', i]);
  });
  const ers: ErsAward[] = [];
  a.ers.forEach((e, i) => {
    const fleet = site.fleets.find((f) => f.name === e.resource);
    const ai = site.ai.find((x) => x.name === e.resource);
    const anc = fleet?.ancillary ?? (ai?.kind === 'capped' ? ai.ancillary : undefined);
    if (!fleet && ai?.kind !== 'capped') {
      problems.push({ path: ['ancillary', 'ers', i, 'resource'], message: `'${e.resource}' is not a fleet or a capped AI load` });
      return;
    }
    if (!anc || !anc.offer.includes('ERS')) {
      problems.push({ path: ['ancillary', 'ers', i, 'resource'], message: `'${e.resource}' does not offer ERS (add ERS to its ancillary.offer)` });
      return;
    }
    const why = ineligibility(e.product, anc, a.telemetry, ai !== undefined);
    if (why) problems.push({ path: ['ancillary', 'ers', i, 'product'], message: `'${e.resource}' is not eligible: ${why}` });
    const maxMW = fleet ? (fleet.count * fleet.powerW * fleet.pue) / 1e6 : ai?.kind === 'capped' ? (ai.itMW * ai.pue * ai.maxReductionPct) / 100 : 0;
    if (e.mw > maxMW + 1e-9) problems.push({ path: ['ancillary', 'ers', i, 'mw'], message: `${e.mw} MW exceeds what '${e.resource}' can curtail (${maxMW.toFixed(2)} MW)` });
    if (e.contract.to < e.contract.from) problems.push({ path: ['ancillary', 'ers', i, 'contract', 'to'], message: 'must not be before from' });
    ers.push({
      name: e.name,
      product: e.product,
      resource: e.resource,
      mw: e.mw,
      usdPerMWh: e.usdPerMWh,
      fromMs: cptMidnight(e.contract.from),
      toMs: cptMidnight(e.contract.to, 1),
      timePeriods: e.timePeriods.map((tp) => ({ days: tp.days, localHours: [tp.localHours[0], tp.localHours[1]] })),
    });
  });
  // SB 6 counts what the site can draw: its interconnect, or less when its loads cannot reach it.
  let maxLoadMW = 0;
  for (const f of site.fleets) maxLoadMW += (f.count * f.powerW * f.pue) / 1e6;
  for (const x of site.ai) maxLoadMW += x.itMW * x.pue;
  site.ancillary = {
    products: [...a.products],
    telemetry: a.telemetry,
    ers,
    penaltyUsdPerMWh: a.penaltyUsdPerMWh,
    sb6LargeLoad: Math.min(maxLoadMW, site.interconnect.importLimitMW) >= SB6_LARGE_LOAD_MW,
  };
}
