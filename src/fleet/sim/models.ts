import { BUILTIN_CATALOG, findAsic, modelKey } from '../../catalog/catalog.js';
import type { Asic, Catalog } from '../../catalog/types.js';
import { badInput, isMulletError } from '../../core/errors.js';

/**
 * Miner models the simulator serves. Rated (nameplate) figures and, where the catalog has one,
 * the power-target efficiency curve come from src/catalog (findAsic); the hardware layout the
 * firmware reports (chains, chips, fans, clock) comes from the small table below.
 */
export type Vendor = 'bitmain' | 'microbt';

/** One efficiency point: power / nameplate power → J/TH / nameplate J/TH. */
export type CurvePoint = readonly [powerRatio: number, jPerThFactor: number];

export interface SimModel {
  /** Short id used on the command line and in ground truth (`s21`, `s19xp`, `m60s`). */
  readonly id: string;
  /** Name as the firmware reports it (`Type` / `minertype`), e.g. 'Antminer S21'. */
  readonly name: string;
  readonly vendor: Vendor;
  readonly ratedHashrateThs: number;
  readonly ratedPowerW: number;
  /** Wall power while asleep: control board, PSU standby and idle fans, W. */
  readonly sleepPowerW: number;
  /** Wall power while booting (fans high, boards initialising, no hashing), W. */
  readonly bootPowerW: number;
  /** Range a power target may be set to, W (the curve's range). */
  readonly minPowerW: number;
  readonly maxPowerW: number;
  /** Piecewise-linear, sorted by power ratio, includes (1, 1). */
  readonly efficiencyCurve: readonly CurvePoint[];
  /** 'catalog' when the curve is the catalog's, 'assumed' for the generic shape below. */
  readonly curveSource: 'catalog' | 'assumed';
  readonly chains: number;
  readonly chipsPerChain: number;
  readonly fans: number;
  /** Chip clock at the nameplate point, MHz. */
  readonly baseFreqMhz: number;
  readonly maxFanRpm: number;
}

/**
 * Generic power-target curve for models without one in the catalog: J/TH falls when under-volted
 * down to a floor (fixed losses: fans, PSU, control board) and rises when over-clocked. Shaped after
 * the LuxOS S19k Pro profile table (~0.92× J/TH at 30 % power, ~1.07× at 125 %). ASSUMED.
 */
export const GENERIC_CURVE: readonly CurvePoint[] = [
  [0.3, 0.9],
  [0.5, 0.91],
  [0.7, 0.935],
  [0.85, 0.965],
  [1.0, 1.0],
  [1.15, 1.045],
  [1.3, 1.1],
];

interface Hardware {
  readonly chains: number;
  readonly chipsPerChain: number;
  readonly fans: number;
  readonly baseFreqMhz: number;
}

/** Board layout by catalog model key; anything else gets its vendor's default. */
const HARDWARE: Readonly<Record<string, Hardware>> = {
  s19xp: { chains: 3, chipsPerChain: 110, fans: 4, baseFreqMhz: 575 },
  s19jpro: { chains: 3, chipsPerChain: 126, fans: 4, baseFreqMhz: 525 },
  s19pro: { chains: 3, chipsPerChain: 114, fans: 4, baseFreqMhz: 525 },
  s21: { chains: 3, chipsPerChain: 108, fans: 4, baseFreqMhz: 490 },
  s21pro: { chains: 3, chipsPerChain: 65, fans: 4, baseFreqMhz: 500 },
  m60s: { chains: 3, chipsPerChain: 111, fans: 2, baseFreqMhz: 620 },
};
const DEFAULT_HARDWARE: Readonly<Record<Vendor, Hardware>> = {
  bitmain: { chains: 3, chipsPerChain: 100, fans: 4, baseFreqMhz: 500 },
  microbt: { chains: 3, chipsPerChain: 111, fans: 2, baseFreqMhz: 600 },
};

/** The models a default fleet is drawn from (the brief's five). */
export const DEFAULT_MODEL_IDS: readonly string[] = ['s19xp', 's21', 's21pro', 'm60s', 's19jpro'];
export const DEFAULT_MODEL_BY_VENDOR: Readonly<Record<Vendor, string>> = { bitmain: 's21', microbt: 'm60s' };

function vendorOf(asic: Asic): Vendor | undefined {
  const m = asic.manufacturer.toLowerCase();
  if (m.includes('bitmain')) return 'bitmain';
  if (m.includes('microbt')) return 'microbt';
  return undefined;
}

/** Builds a simulator model from a catalog ASIC (Bitmain or MicroBT only: the firmwares we serve). */
export function simModelFromAsic(asic: Asic): SimModel | undefined {
  const vendor = vendorOf(asic);
  if (!vendor) return undefined;
  const id = modelKey(asic.model);
  const hw = HARDWARE[id] ?? DEFAULT_HARDWARE[vendor];
  const nominal = asic.powerW / asic.hashrateThs;
  const catalogCurve = asic.efficiencyCurve?.map((p): CurvePoint => [p.powerFraction, p.jPerTh / nominal]);
  let curve = catalogCurve && catalogCurve.length >= 2 ? catalogCurve : GENERIC_CURVE;
  // Whatsminer power limits only go down from the nameplate (adjust_power_limit).
  if (vendor === 'microbt') curve = curve.filter(([r]) => r <= 1);
  const first = curve[0] as CurvePoint;
  const last = curve[curve.length - 1] as CurvePoint;
  return {
    id,
    name: asic.model,
    vendor,
    ratedHashrateThs: asic.hashrateThs,
    ratedPowerW: asic.powerW,
    sleepPowerW: vendor === 'bitmain' ? 12 : 10,
    bootPowerW: vendor === 'bitmain' ? 60 : 55,
    minPowerW: Math.round(asic.powerW * first[0]),
    maxPowerW: Math.round(asic.powerW * last[0]),
    efficiencyCurve: curve,
    curveSource: curve === GENERIC_CURVE || !catalogCurve ? 'assumed' : 'catalog',
    chains: hw.chains,
    chipsPerChain: hw.chipsPerChain,
    fans: hw.fans,
    baseFreqMhz: hw.baseFreqMhz,
    maxFanRpm: vendor === 'bitmain' ? 6000 : 7000,
  };
}

/** Finds a model by id or name in the catalog (brand words, case and spaces ignored). */
export function findModel(name: string, catalog: Catalog = BUILTIN_CATALOG, where = '--models'): SimModel {
  let asic: Asic;
  try {
    asic = findAsic(name, catalog, where);
  } catch (err) {
    if (isMulletError(err)) throw err;
    throw badInput(`unknown model '${name}'`, where, err);
  }
  const model = simModelFromAsic(asic);
  if (!model) throw badInput(`'${asic.model}' (${asic.manufacturer}) has no simulated firmware; use an Antminer or Whatsminer`, where);
  return model;
}
