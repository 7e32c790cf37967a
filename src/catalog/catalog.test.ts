import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SKIP_REASON, sharedFile, skipWithoutSharedData } from '../testing/data.js';
import { BUILTIN_ASICS } from './asics.js';
import {
  AsicInputSchema,
  BUILTIN_CATALOG,
  CatalogFileSchema,
  EFFICIENCY_TOLERANCE,
  GpuInputSchema,
  asicFromInput,
  efficiencyJPerThAt,
  findAsic,
  findGpu,
  gpuItKw,
  hashrateThsAt,
  mergeCatalog,
  modelKey,
  nearMatches,
} from './catalog.js';
import { BUILTIN_GPUS } from './gpus.js';

const REQUIRED_ASICS = [
  'Antminer S9', 'Antminer S17 Pro', 'Antminer S19', 'Antminer S19 Pro', 'Antminer S19j Pro', 'Antminer S19 XP',
  'Antminer S21', 'Antminer S21 Pro', 'Antminer S21 XP', 'Antminer S21 XP Hyd', 'Antminer T21',
  'Whatsminer M30S++', 'Whatsminer M50S', 'Whatsminer M60S', 'Whatsminer M63S',
  'Avalon A1366', 'Avalon A1466', 'Avalon A1566', 'Avalon Q',
];
const REQUIRED_GPUS = ['H100 SXM', 'H100 PCIe', 'H200', 'B200', 'GB200', 'GB300', 'A100', 'L40S', 'MI300X'];

describe('built-in ASIC data', () => {
  it('has every required model exactly once', () => {
    for (const m of REQUIRED_ASICS) expect(findAsic(m).model).toBe(m);
    expect(new Set(BUILTIN_ASICS.map((a) => modelKey(a.model))).size).toBe(BUILTIN_ASICS.length);
  });
  it.each(BUILTIN_ASICS.map((a) => [a.model, a] as const))('%s: stated J/TH matches W / TH/s and passes the file schema', (_m, a) => {
    const derived = a.powerW / a.hashrateThs;
    expect(Math.abs(a.efficiencyJPerTh - derived) / derived).toBeLessThanOrEqual(EFFICIENCY_TOLERANCE);
    expect(a.source.length).toBeGreaterThan(10);
    const { releaseYear, ...rest } = a;
    expect(AsicInputSchema.safeParse({ ...rest, ...(releaseYear === null ? {} : { releaseYear }) }).success).toBe(true);
  });
  it('efficiency improves over generations (S9 → S21 XP Hyd)', () => {
    expect(findAsic('S9').efficiencyJPerTh).toBeGreaterThan(90);
    expect(findAsic('S21 XP Hyd').efficiencyJPerTh).toBe(12);
  });
});

describe('built-in GPU data', () => {
  it('has every required model with power, memory and a server share', () => {
    for (const m of REQUIRED_GPUS) {
      const g = findGpu(m);
      expect(g.powerW).toBeGreaterThan(0);
      expect(g.memoryGb).toBeGreaterThan(0);
      expect(g.serverOverheadWPerGpu).toBeGreaterThan(0);
      expect(GpuInputSchema.safeParse({ ...g, releaseYear: g.releaseYear ?? undefined }).success).toBe(true);
    }
    expect(BUILTIN_GPUS).toHaveLength(REQUIRED_GPUS.length);
  });
  it('derives IT kW per GPU from DGX H100 (10.2 kW / 8)', () => {
    expect(gpuItKw(findGpu('NVIDIA H100 SXM'))).toBeCloseTo(10.2 / 8, 10);
    expect(gpuItKw(findGpu('b200'))).toBeCloseTo(14.3 / 8, 2);
  });
});

describe('findAsic', () => {
  it('is case-insensitive and tolerant of brand words, spacing and "Hydro"', () => {
    expect(findAsic('S21').model).toBe('Antminer S21');
    expect(findAsic('antminer s21').model).toBe('Antminer S21');
    expect(findAsic('Bitmain Antminer S21').model).toBe('Antminer S21');
    expect(findAsic('s21xp').model).toBe('Antminer S21 XP');
    expect(findAsic('S21 XP Hydro').model).toBe('Antminer S21 XP Hyd');
    expect(findAsic('M30S++').model).toBe('Whatsminer M30S++');
    expect(findAsic('avalon q').model).toBe('Avalon Q');
    expect(findAsic('A1566').model).toBe('Avalon A1566');
  });
  it('an unknown model error lists near matches and is BAD_INPUT', () => {
    expect(() => findAsic('S21 Ultra')).toThrow(/unknown ASIC model 'S21 Ultra'; near matches: .*Antminer S21/);
    expect(() => findAsic('S22', BUILTIN_CATALOG, '--model')).toThrow(expect.objectContaining({ code: 'BAD_INPUT', where: '--model' }));
    expect(() => findAsic('M30S+')).toThrow(/near matches: .*Whatsminer M30S\+\+/);
  });
  it('nearMatches puts prefix matches first', () => {
    expect(nearMatches('S21', BUILTIN_ASICS.map((a) => a.model)).slice(0, 3)).toEqual(['Antminer S21', 'Antminer S21+', 'Antminer S21 XP']);
  });
});

describe('efficiency curves', () => {
  it('exist for the S21 and S19 XP, labelled, and pass through the nameplate point', () => {
    for (const m of ['S21', 'S19 XP']) {
      const a = findAsic(m);
      expect(a.efficiencyCurveNote).toMatch(/ASSUMED/);
      expect(efficiencyJPerThAt(a, 1)).toBeCloseTo(a.efficiencyJPerTh, 10);
    }
  });
  it('interpolates linearly and refuses to extrapolate', () => {
    const s21 = findAsic('S21');
    expect(efficiencyJPerThAt(s21, 0.75)).toBeCloseTo((15.8 + 16.3) / 2, 10);
    expect(hashrateThsAt(s21, 0.5)).toBeCloseTo((3500 * 0.5) / 15.0, 10);
    expect(() => efficiencyJPerThAt(s21, 0.3)).toThrow(/outside/);
    expect(efficiencyJPerThAt(findAsic('S19'), 0.7)).toBe(34.5); // no curve: nameplate
  });
});

describe('user catalog entries', () => {
  it('derive efficiency, reject a stated one that disagrees, and validate curves', () => {
    const a = asicFromInput(AsicInputSchema.parse({ model: 'X1', hashrateThs: 100, powerW: 2000 }), 'user file x.yaml');
    expect(a).toMatchObject({ efficiencyJPerTh: 20, manufacturer: 'unknown', cooling: 'air', releaseYear: null, source: 'user file x.yaml' });
    const bad = AsicInputSchema.safeParse({ model: 'X1', hashrateThs: 100, powerW: 2000, efficiencyJPerTh: 25 });
    expect(bad.error?.issues[0]?.path).toEqual(['efficiencyJPerTh']);
    const curve = AsicInputSchema.safeParse({ model: 'X1', hashrateThs: 100, powerW: 2000, efficiencyCurve: [{ powerFraction: 1, jPerTh: 20 }, { powerFraction: 0.5, jPerTh: 18 }] });
    expect(curve.error?.issues[0]?.path).toEqual(['efficiencyCurve', 1, 'powerFraction']);
    const dup = CatalogFileSchema.safeParse({ asics: [{ model: 'S21', hashrateThs: 1, powerW: 1 }, { model: 'Antminer S21', hashrateThs: 1, powerW: 1 }] });
    expect(dup.error?.issues[0]?.path).toEqual(['asics', 1, 'model']);
  });
  it('override built-in models with the same normalized name and say so', () => {
    const mine = asicFromInput(AsicInputSchema.parse({ manufacturer: 'Bitmain', model: 'S21', hashrateThs: 210, powerW: 3500 }), 'mine');
    const { catalog, overrides } = mergeCatalog(BUILTIN_CATALOG, { asics: [mine], gpus: [] });
    expect(catalog.asics).toHaveLength(BUILTIN_ASICS.length);
    expect(findAsic('Antminer S21', catalog).hashrateThs).toBe(210);
    expect(overrides).toEqual(["user file overrides built-in ASIC 'Antminer S21' with 'S21'"]);
  });
});

describe.skipIf(skipWithoutSharedData)(`cross-check with shared data (${SKIP_REASON})`, () => {
  it('agrees with ../shared/data/asic_miner_specs.csv within nameplate tolerance where both list a model', () => {
    const lines = readFileSync(sharedFile('asic_miner_specs.csv'), 'utf8').trim().split('\n').slice(1);
    // The CSV lists some models several times (spec revisions, e.g. S9 13T/100 J/TH and 14T/85 J/TH):
    // ours must be within 10 % of the closest of them.
    const theirs = new Map<string, number[]>();
    for (const line of lines) {
      const [, model, ths, w] = line.split(',');
      if (!model || !ths || !w) continue;
      const key = modelKey(model);
      theirs.set(key, [...(theirs.get(key) ?? []), Number(w) / Number(ths)]);
    }
    let compared = 0;
    for (const a of BUILTIN_ASICS) {
      const candidates = theirs.get(modelKey(a.model));
      if (!candidates) continue;
      compared++;
      const closest = Math.min(...candidates.map((t) => Math.abs(a.efficiencyJPerTh - t) / t));
      expect(closest, a.model).toBeLessThan(0.1);
    }
    expect(compared).toBeGreaterThanOrEqual(10);
  });
});
