import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PUBLISHED_DEALS } from '../compute/deals-data.js';
import { BUILTIN_ASICS } from './asics.js';
import { BUILTIN_CATALOG, findAsic, findGpu } from './catalog.js';
import { loadCatalog, loadDeals } from './load.js';

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
