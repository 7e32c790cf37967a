import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PUBLISHED_DEALS } from '../compute/deals-data.js';
import { BUILTIN_ASICS } from './asics.js';
import { BUILTIN_CATALOG, findAsic, findGpu } from './catalog.js';
import { loadCatalog, loadDeals } from './load.js';
import { SKIP_REASON, sharedFile, skipWithoutSharedData } from '../testing/data.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mullet-catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return name;
}

describe('loadCatalog', () => {
  it('returns the built-in catalog without a file', async () => {
    expect((await loadCatalog()).catalog).toBe(BUILTIN_CATALOG);
  });
  it('merges a YAML file, overriding a built-in model and adding a new one', async () => {
    const file = write(
      'extra.yaml',
      [
        'asics:',
        '  - manufacturer: Bitmain',
        '    model: S21',
        '    hashrateThs: 210',
        '    powerW: 3570',
        '  - model: Home Rig 1',
        '    hashrateThs: 10',
        '    powerW: 250',
        '    efficiencyJPerTh: 25',
        'gpus:',
        '  - manufacturer: NVIDIA',
        '    model: RTX 6000 Pro',
        '    powerW: 600',
        '    memoryGb: 96',
        '    serverOverheadWPerGpu: 300',
      ].join('\n'),
    );
    const { catalog, overrides } = await loadCatalog({ extraFile: file, cwd: dir });
    expect(catalog.asics).toHaveLength(BUILTIN_ASICS.length + 1);
    expect(findAsic('Antminer S21', catalog)).toMatchObject({ hashrateThs: 210, efficiencyJPerTh: 17, source: 'user file extra.yaml' });
    expect(findAsic('home rig 1', catalog).efficiencyJPerTh).toBe(25);
    expect(findGpu('RTX 6000 Pro', catalog).serverOverheadWPerGpu).toBe(300);
    expect(overrides).toEqual(["user file overrides built-in ASIC 'Antminer S21' with 'S21'"]);
  });
  it('rejects a bad entry with file:line and path', async () => {
    const file = write('bad.json', '{\n  "asics": [\n    { "model": "X", "hashrateThs": 0, "powerW": 100 }\n  ]\n}\n');
    await expect(loadCatalog({ extraFile: file, cwd: dir })).rejects.toMatchObject({ code: 'BAD_INPUT', where: 'bad.json:3', message: 'asics[0].hashrateThs: hashrateThs must be > 0' });
  });
  it('reports a missing file as NOT_FOUND naming the file', async () => {
    await expect(loadCatalog({ extraFile: 'nope.yaml', cwd: dir })).rejects.toMatchObject({ code: 'NOT_FOUND', where: 'nope.yaml' });
  });
});

describe('loadDeals', () => {
  it('returns the published deals without a file', async () => {
    expect((await loadDeals()).deals).toHaveLength(PUBLISHED_DEALS.length);
  });
  it('accepts a bare YAML list, appends new deals and overrides by id', async () => {
    const file = write(
      'deals.yaml',
      [
        '- miner: Acme Mining',
        '  tenant: NeoCloud',
        '  itMW: 50',
        '  termYears: 10',
        '  totalValueUsd: 9.0e8',
        '  announced: 2026-02',
        '  source: Acme press release',
        '- id: cipher-fluidstack-2025-09',
        '  miner: Cipher Mining',
        '  tenant: Fluidstack',
        '  itMW: 168',
        '  termYears: 10',
        '  totalValueUsd: 3.0e9',
        '  escalatorPct: 2.5',
        '  announced: 2025-09',
        '  source: my notes',
      ].join('\n'),
    );
    const { deals, overrides } = await loadDeals({ extraFile: file, cwd: dir });
    expect(deals).toHaveLength(PUBLISHED_DEALS.length + 1);
    expect(deals.find((d) => d.id === 'acme-mining-neocloud-2026-02')?.itMW).toBe(50);
    expect(deals.find((d) => d.id === 'cipher-fluidstack-2025-09')?.escalatorPct).toBe(2.5);
    expect(overrides).toEqual(["user file overrides built-in deal 'cipher-fluidstack-2025-09'"]);
  });
  it('reports problems of a deals: file with their lines', async () => {
    const file = write('bad-deals.yaml', ['deals:', '  - miner: A', '    tenant: B', '    itMW: 10', '    termYears: 5', '    announced: 2026-1', '    source: x', '    totalValueUsd: 1e9'].join('\n'));
    await expect(loadDeals({ extraFile: file, cwd: dir })).rejects.toMatchObject({ code: 'BAD_INPUT', where: 'bad-deals.yaml:6', message: 'deals[0].announced: announced must be YYYY-MM' });
  });
});

describe('loadCatalog: ASIC spec tables as CSV (the format of asic_miner_specs.csv)', () => {
  const header = 'manufacturer,model,hashrate_ths,power_w,efficiency_j_per_th,release_year,release_month,cooling,source';

  it('accepts the format: new models added, variants kept apart, restated built-ins left as they are', async () => {
    const file = write(
      'specs.csv',
      [
        header,
        'Bitmain,Antminer S21,200,3500,17.5,2024,,Air,someone',
        'Bitmain,Antminer L9 Test,16,3360,210,2025,,Air,"a, quoted source"',
        'Bitmain,Antminer S9,14,1190,85,2017,,Air,x',
        'Bitmain,Antminer S9,13,1300,100,2016,,Air,x',
        'Acme,Tank 1,500,5500,,,,Immersion,',
      ].join('\n') + '\n',
    );
    const r = await loadCatalog({ extraFile: file, cwd: dir });
    const s21 = findAsic('Antminer S21', r.catalog);
    expect(s21.efficiencyCurve).toBeDefined(); // the built-in entry, curve and all
    expect(findAsic('L9 Test', r.catalog)).toMatchObject({ hashrateThs: 16, powerW: 3360, cooling: 'air', source: 'a, quoted source', releaseYear: 2025 });
    expect(findAsic('Antminer S9 (13 TH/s)', r.catalog)).toMatchObject({ powerW: 1300 });
    expect(findAsic('Tank 1', r.catalog)).toMatchObject({ manufacturer: 'Acme', cooling: 'immersion', efficiencyJPerTh: 11, source: 'specs.csv:6' });
    expect(r.overrides.join('\n')).toMatch(/restate built-in models.*Antminer S21/);
    expect(r.overrides.join('\n')).toMatch(/specs\.csv:5: 'Antminer S9' is listed again with 13 TH\/s: kept as 'Antminer S9 \(13 TH\/s\)'/);
  });

  it('says what is wrong, where, when a file does not fit', async () => {
    const bad = async (name: string, text: string) => {
      try {
        await loadCatalog({ extraFile: write(name, text), cwd: dir });
      } catch (err) {
        return `${(err as { where?: string }).where ?? ''}: ${(err as Error).message}`;
      }
      return 'no error';
    };
    expect(await bad('h.csv', 'maker,name,ths\nBitmain,S21,200\n')).toMatch(/^h\.csv:1: not an ASIC spec table: missing columns manufacturer, model, hashrate_ths, power_w\. Expected a header manufacturer,model,hashrate_ths,power_w/);
    expect(await bad('n.csv', `${header}\nBitmain,X1,abc,3000,,,,Air,\n`)).toMatch(/^n\.csv:2:3: column 'hashrate_ths': expected a finite number, got 'abc'/);
    expect(await bad('c.csv', `${header}\nBitmain,X1,100,3000,,,,Liquid,\n`)).toMatch(/^c\.csv:2:8: column 'cooling': expected Air, Hydro or Immersion, got 'Liquid'/);
    expect(await bad('e.csv', `${header}\nBitmain,X1,100,3000,20,,,Air,\n`)).toMatch(/^e\.csv:2:5: column 'efficiency_j_per_th': 20 J\/TH disagrees with powerW \/ hashrateThs = 30\.00 J\/TH/);
    expect(await bad('w.csv', `${header}\nBitmain,X1,100\n`)).toMatch(/^w\.csv:2:\d+: .*expected 9 fields, got 3/);
    // A CSV where YAML is expected (a deals file) is named as such, not a raw schema message.
    const deals = write('deals.csv', 'miner,tenant\nA,B\n');
    await expect(loadDeals({ extraFile: deals, cwd: dir })).rejects.toThrow(/is a CSV table; this option takes a YAML or JSON file/);
    const disguised = write('deals.yaml', 'miner,tenant,itMW\nA,B,3\n');
    await expect(loadDeals({ extraFile: disguised, cwd: dir })).rejects.toThrow(/looks like a CSV table, not YAML or JSON/);
  });
});

describe.skipIf(skipWithoutSharedData)(`the shipped asic_miner_specs.csv (${SKIP_REASON})`, () => {
  it('loads as a catalog file: every row becomes a model, with the new ones findable', async () => {
    const r = await loadCatalog({ extraFile: sharedFile('asic_miner_specs.csv') });
    expect(r.catalog.asics.length).toBeGreaterThan(BUILTIN_ASICS.length + 90);
    expect(findAsic('Antminer S21+ Hyd', r.catalog)).toMatchObject({ hashrateThs: 319, cooling: 'hydro' });
  });
});
