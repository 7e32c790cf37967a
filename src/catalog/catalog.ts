/**
 * Pure catalog logic: schemas for user additions, merging with the built-in data, tolerant model
 * lookup, and power-target efficiency interpolation. No I/O here (see load.ts for files).
 */
import { z } from 'zod';
import { badInput } from '../core/errors.js';
import { BUILTIN_ASICS } from './asics.js';
import { BUILTIN_GPUS } from './gpus.js';
import type { Asic, Catalog, EfficiencyPoint, Gpu } from './types.js';
import { atMost, LIMITS } from '../core/limits.js';

export const BUILTIN_CATALOG: Catalog = { asics: BUILTIN_ASICS, gpus: BUILTIN_GPUS };

/** Brand words ignored by model lookup. */
const ASIC_BRANDS = ['bitmain', 'antminer', 'microbt', 'whatsminer', 'canaan', 'avalon'] as const;
const GPU_BRANDS = ['nvidia', 'amd', 'instinct'] as const;

/** Relative tolerance between a stated efficiency and powerW / hashrateThs. */
export const EFFICIENCY_TOLERANCE = 0.03;

const positive = (what: string) => z.number().positive(`${what} must be > 0`);

/** zod refinement: an efficiency curve's power fractions increase strictly (shared with site files). */
export function powerFractionsIncrease(points: readonly { powerFraction: number }[], ctx: z.RefinementCtx): void {
  for (let i = 1; i < points.length; i++) {
    const prev = points[i - 1];
    const cur = points[i];
    if (prev && cur && cur.powerFraction <= prev.powerFraction) {
      ctx.addIssue({ code: 'custom', message: 'powerFraction must increase strictly', path: [i, 'powerFraction'] });
    }
  }
}

const EfficiencyCurveSchema = z
  .array(z.strictObject({ powerFraction: z.number().gt(0).max(2, 'must be <= 2'), jPerTh: positive('jPerTh').max(...atMost(LIMITS.jPerTh, 'J/TH')) }))
  .min(2, 'needs at least 2 points')
  .max(100, 'at most 100 points')
  .superRefine(powerFractionsIncrease);

/** An ASIC as a user writes it in a catalog file; missing optional fields get defaults. */
export const AsicInputSchema = z
  .strictObject({
    manufacturer: z.string().min(1).default('unknown'),
    model: z.string().trim().min(1, 'model must not be empty'),
    hashrateThs: positive('hashrateThs').max(...atMost(LIMITS.machineThs, 'TH/s')),
    powerW: positive('powerW').max(...atMost(LIMITS.machineW, 'W')),
    efficiencyJPerTh: positive('efficiencyJPerTh').max(...atMost(LIMITS.jPerTh, 'J/TH')).optional(),
    releaseYear: z.number().int().min(2009).max(2100).optional(),
    cooling: z.enum(['air', 'hydro', 'immersion']).default('air'),
    source: z.string().min(1).optional(),
    efficiencyCurve: EfficiencyCurveSchema.optional(),
    efficiencyCurveNote: z.string().optional(),
  })
  .superRefine((a, ctx) => {
    const derived = a.powerW / a.hashrateThs;
    if (a.efficiencyJPerTh !== undefined && Math.abs(a.efficiencyJPerTh - derived) / derived > EFFICIENCY_TOLERANCE) {
      ctx.addIssue({
        code: 'custom',
        path: ['efficiencyJPerTh'],
        message: `${a.efficiencyJPerTh} J/TH disagrees with powerW / hashrateThs = ${derived.toFixed(2)} J/TH (tolerance ${EFFICIENCY_TOLERANCE * 100} %)`,
      });
    }
  });

export const GpuInputSchema = z.strictObject({
  manufacturer: z.string().min(1).default('unknown'),
  model: z.string().trim().min(1, 'model must not be empty'),
  // A GPU row may be a whole system (GB200 NVL72 rack ~120 kW): bounded like a machine.
  powerW: positive('powerW').max(...atMost(LIMITS.machineW * 10, 'W')),
  memoryGb: positive('memoryGb').max(...atMost(1_000_000, 'GB')),
  serverOverheadWPerGpu: z.number().min(0, 'serverOverheadWPerGpu must be >= 0').max(...atMost(LIMITS.machineW, 'W')),
  overheadBasis: z.string().default('user supplied'),
  formFactor: z.string().default(''),
  releaseYear: z.number().int().min(2000).max(2100).optional(),
  cooling: z.enum(['air', 'liquid']).default('air'),
  source: z.string().min(1).optional(),
});

export type AsicInput = z.output<typeof AsicInputSchema>;
export type GpuInput = z.output<typeof GpuInputSchema>;

function uniqueModels(kind: 'asics' | 'gpus') {
  return (items: readonly { model: string }[], ctx: z.RefinementCtx) => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const key = modelKey(item.model, kind === 'asics' ? ASIC_BRANDS : GPU_BRANDS);
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: [i, 'model'], message: `duplicate of ${kind}[${first}] ('${item.model}')` });
      } else seen.set(key, i);
    });
  };
}

/** A user catalog file: `asics:` and/or `gpus:` lists. */
export const CatalogFileSchema = z.strictObject({
  asics: z.array(AsicInputSchema).superRefine(uniqueModels('asics')).default([]),
  gpus: z.array(GpuInputSchema).superRefine(uniqueModels('gpus')).default([]),
});
export type CatalogFile = z.output<typeof CatalogFileSchema>;

/** Normalizes a validated user ASIC: derives efficiency, fills the source. */
export function asicFromInput(a: AsicInput, sourceFallback: string): Asic {
  const asic: Asic = {
    manufacturer: a.manufacturer,
    model: a.model,
    hashrateThs: a.hashrateThs,
    powerW: a.powerW,
    efficiencyJPerTh: a.efficiencyJPerTh ?? a.powerW / a.hashrateThs,
    releaseYear: a.releaseYear ?? null,
    cooling: a.cooling,
    source: a.source ?? sourceFallback,
  };
  if (a.efficiencyCurve) asic.efficiencyCurve = a.efficiencyCurve;
  if (a.efficiencyCurveNote !== undefined) asic.efficiencyCurveNote = a.efficiencyCurveNote;
  return asic;
}

export function gpuFromInput(g: GpuInput, sourceFallback: string): Gpu {
  return {
    manufacturer: g.manufacturer,
    model: g.model,
    powerW: g.powerW,
    memoryGb: g.memoryGb,
    serverOverheadWPerGpu: g.serverOverheadWPerGpu,
    overheadBasis: g.overheadBasis,
    formFactor: g.formFactor,
    releaseYear: g.releaseYear ?? null,
    cooling: g.cooling,
    source: g.source ?? sourceFallback,
  };
}

export interface MergeResult {
  catalog: Catalog;
  /** Human notes, e.g. "user file overrides built-in ASIC 'Antminer S21'". */
  overrides: string[];
}

function mergeList<T extends { model: string }>(builtIn: readonly T[], extra: readonly T[], brands: readonly string[], kind: string, overrides: string[]): T[] {
  const out = [...builtIn];
  for (const item of extra) {
    const key = modelKey(item.model, brands);
    const idx = out.findIndex((b) => modelKey(b.model, brands) === key);
    if (idx >= 0) {
      overrides.push(`user file overrides built-in ${kind} '${(out[idx] as T).model}' with '${item.model}'`);
      out[idx] = item;
    } else out.push(item);
  }
  return out;
}

/** Merges user entries into a catalog; a user model equal (after normalization) to a built-in one replaces it. */
export function mergeCatalog(base: Catalog, extra: Catalog): MergeResult {
  const overrides: string[] = [];
  const asics = mergeList(base.asics, extra.asics, ASIC_BRANDS, 'ASIC', overrides);
  const gpus = mergeList(base.gpus, extra.gpus, GPU_BRANDS, 'GPU', overrides);
  return { catalog: { asics, gpus }, overrides };
}

/**
 * Lookup key: case-folded, separators dropped ('+' kept: M30S+ ≠ M30S++), 'hydro' → 'hyd', brand
 * words stripped, so "Antminer S21 XP Hydro", "s21xp hyd" and "S21 XP Hyd" are the same model.
 */
export function modelKey(name: string, brands: readonly string[] = ASIC_BRANDS): string {
  let k = name.toLowerCase().replace(/hydro/g, 'hyd').replace(/[\s\-_./(),]+/g, '');
  let changed = true;
  while (changed) {
    changed = false;
    for (const b of brands) {
      if (k.startsWith(b) && k.length > b.length) {
        k = k.slice(b.length);
        changed = true;
      }
    }
  }
  return k;
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
}

/** Up to `limit` model names close to `query` (prefix/substring matches first, then edit distance). */
export function nearMatches(query: string, models: readonly string[], brands: readonly string[] = ASIC_BRANDS, limit = 5): string[] {
  const q = modelKey(query, brands);
  const scored = models.map((m) => {
    const k = modelKey(m, brands);
    const contains = q.length > 0 && (k.includes(q) || q.includes(k));
    const d = levenshtein(q, k);
    return { m, score: contains ? Math.abs(k.length - q.length) / 100 : d };
  });
  const maxDistance = Math.max(2, Math.floor(q.length / 2));
  return scored
    .filter((s) => s.score <= maxDistance)
    .sort((a, b) => a.score - b.score || a.m.localeCompare(b.m))
    .slice(0, limit)
    .map((s) => s.m);
}

function find<T extends { model: string }>(items: readonly T[], name: string, brands: readonly string[], kind: string, where: string): T {
  const key = modelKey(name, brands);
  const hits = items.filter((i) => modelKey(i.model, brands) === key);
  if (hits.length === 1) return hits[0] as T;
  if (hits.length > 1) throw badInput(`'${name}' is ambiguous: ${hits.map((h) => h.model).join(', ')}`, where);
  const near = nearMatches(name, items.map((i) => i.model), brands);
  const hint = near.length ? `; near matches: ${near.join(', ')}` : `; run 'mullet catalog --kind ${kind === 'ASIC' ? 'asic' : 'gpu'}' to list models`;
  throw badInput(`unknown ${kind} model '${name}'${hint}`, where);
}

/** Finds an ASIC by model, case-insensitively and ignoring brand words ("Antminer S21" = "s21"). */
export function findAsic(name: string, catalog: Catalog = BUILTIN_CATALOG, where = 'model'): Asic {
  return find(catalog.asics, name, ASIC_BRANDS, 'ASIC', where);
}

/**
 * The catalog ASIC a firmware's model string names, or null. Firmware decorates the model: MicroBT
 * appends the hardware revision ("M60S_VK40", "M30S++_VH30"), some firmware a variant or version in
 * parentheses or after a line break ("Antminer S19j Pro (96T)", "Antminer S9\nV1.3.58"), LuxOS and
 * VNish their own name ("Antminer S21 Pro (VNish)"); all are stripped before the tolerant lookup.
 */
export function catalogAsicFor(firmwareModel: string | null, catalog: Catalog = BUILTIN_CATALOG): Asic | null {
  if (firmwareModel === null) return null;
  const first = firmwareModel.split('\n')[0]?.trim() ?? '';
  const candidates = [
    first,
    first.replace(/_[A-Z][A-Z0-9]*\d+[A-Z0-9]*$/i, ''), // MicroBT hardware revision
    first.replace(/\s*\([^)]*\)\s*$/, ''), // "(96T)", "(VNish)"
    first.replace(/_[A-Z][A-Z0-9]*\d+[A-Z0-9]*$/i, '').replace(/\s*\([^)]*\)\s*$/, ''),
  ];
  for (const c of [...new Set(candidates)]) {
    if (c === '') continue;
    const key = modelKey(c, ASIC_BRANDS);
    const hit = catalog.asics.find((a) => modelKey(a.model, ASIC_BRANDS) === key);
    if (hit) return hit;
  }
  return null;
}

/** Finds a GPU by model, case-insensitively and ignoring vendor words ("NVIDIA H100 SXM" = "h100 sxm"). */
export function findGpu(name: string, catalog: Catalog = BUILTIN_CATALOG, where = 'model'): Gpu {
  return find(catalog.gpus, name, GPU_BRANDS, 'GPU', where);
}

/** Critical-IT power per GPU including its server share, kW. */
export function gpuItKw(gpu: Gpu): number {
  return (gpu.powerW + gpu.serverOverheadWPerGpu) / 1000;
}

/**
 * Efficiency in J/TH when running at `powerFraction` × nameplate power: linear interpolation on the
 * model's curve; without a curve, the nameplate efficiency (hashrate ∝ power). Outside the curve's
 * range the machine has no known operating point, so that is an error rather than an extrapolation.
 */
export function efficiencyJPerThAt(asic: Asic, powerFraction: number): number {
  if (!Number.isFinite(powerFraction) || powerFraction <= 0) throw badInput(`power fraction must be > 0, got ${powerFraction}`, asic.model);
  const curve = asic.efficiencyCurve;
  if (!curve || curve.length === 0) return asic.efficiencyJPerTh;
  const first = curve[0] as EfficiencyPoint;
  const last = curve[curve.length - 1] as EfficiencyPoint;
  if (powerFraction < first.powerFraction - 1e-12 || powerFraction > last.powerFraction + 1e-12) {
    throw badInput(`power fraction ${powerFraction} is outside ${asic.model}'s curve (${first.powerFraction}–${last.powerFraction})`, asic.model);
  }
  for (let i = 1; i < curve.length; i++) {
    const lo = curve[i - 1] as EfficiencyPoint;
    const hi = curve[i] as EfficiencyPoint;
    if (powerFraction <= hi.powerFraction) {
      const t = (powerFraction - lo.powerFraction) / (hi.powerFraction - lo.powerFraction);
      return lo.jPerTh + Math.max(0, Math.min(1, t)) * (hi.jPerTh - lo.jPerTh);
    }
  }
  return last.jPerTh;
}

/** Hashrate in TH/s at `powerFraction` × nameplate power, using efficiencyJPerThAt. */
export function hashrateThsAt(asic: Asic, powerFraction: number): number {
  return (asic.powerW * powerFraction) / efficiencyJPerThAt(asic, powerFraction);
}
