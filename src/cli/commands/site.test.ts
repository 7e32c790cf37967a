import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseSite } from '../../site/parse.js';
import { fleetNameFor } from '../../site/fleets-from-inventory.js';
import { captureIo, runCapture } from '../../testing/cli.js';
import { REPO_ROOT } from '../../testing/data.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mullet-site-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const miner = (i: number, model: string | null, catalogModel?: string | null) => ({
  id: `10.0.0.${i}`,
  host: `10.0.0.${i}`,
  ports: { api: 4028 },
  type: 'whatsminer-v2',
  model,
  ...(catalogModel === undefined ? {} : { catalogModel }),
  firmware: null,
  capabilities: ['hashrate'],
  hashrateThs: 100,
  powerW: 3000,
  ratedPowerW: null,
});

function inventory(name: string, miners: object[]): string {
  const f = path.join(dir, name);
  writeFileSync(f, JSON.stringify({ version: 1, scannedAt: '2026-01-01T00:00:00.000Z', miners }));
  return f;
}

describe('mullet site fleets', () => {
  it('groups an inventory by catalog model into a fleets: list the site schema accepts', async () => {
    // Firmware strings map to catalog models, whether the scan recorded catalogModel or not.
    const f = inventory('a.json', [miner(1, 'M60S_VK40'), miner(2, 'M60S_VK40', 'Whatsminer M60S'), miner(3, 'Antminer S21', 'Antminer S21'), miner(4, 'Antminer S21+', 'Antminer S21+')]);
    const r = await runCapture(['site', 'fleets', '--inventory', f, '--pue', '1.05', '--pool-fee-pct', '1.5'], captureIo(dir));
    expect(r.code).toBe(0);
    const y = parse(r.out) as { fleets: { name: string; model: string; count: number; pue: number; poolFeePct: number }[] };
    expect(y.fleets).toEqual([
      { name: 'm60s', model: 'Whatsminer M60S', count: 2, poolFeePct: 1.5, pue: 1.05 },
      { name: 's21', model: 'Antminer S21', count: 1, poolFeePct: 1.5, pue: 1.05 },
      { name: 's21-plus', model: 'Antminer S21+', count: 1, poolFeePct: 1.5, pue: 1.05 },
    ]);
    const site = parseSite(`name: x\nmarket: { iso: ERCOT, settlementPoint: HB_WEST }\ninterconnect: { importLimitMW: 10 }\n${r.out}`, { file: 'x.yaml' });
    expect(site.fleets.map((x) => x.count)).toEqual([2, 1, 1]);
    expect(r.err).toContain('3 fleet(s), 4 miners');
  });

  it('replaces the fleets of a site file, keeping the rest and its comments, and checks the result', async () => {
    const f = inventory('b.json', [miner(1, 'Antminer S19 XP', 'Antminer S19 XP'), miner(2, 'Antminer S19 XP', 'Antminer S19 XP')]);
    const out = path.join(dir, 'site.yaml');
    const r = await runCapture(['site', 'fleets', '--inventory', f, '--site', path.join(REPO_ROOT, 'examples/riot-style-miner.yaml'), '--out', out], captureIo(dir));
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('# A pure Bitcoin miner');
    const site = parseSite(text, { file: out });
    expect(site.ppa).toMatchObject({ blockMW: 345 });
    expect(site.fleets.map((x) => [x.name, x.model, x.count])).toEqual([['s19-xp', 'Antminer S19 XP', 2]]);
  });

  it('names the miners no catalog model matches, and fails unless told to skip them', async () => {
    const f = inventory('c.json', [miner(1, 'Antminer S21', 'Antminer S21'), miner(7, 'Antminer L7', null)]);
    const r = await runCapture(['site', 'fleets', '--inventory', f], captureIo(dir));
    expect(r.code).toBe(2);
    expect(r.err).toContain("not in the catalog: 10.0.0.7 (10.0.0.7) reports model 'Antminer L7'");
    expect(r.err).toMatch(/1 of 2 miners have no catalog model/);
    const ok = await runCapture(['site', 'fleets', '--inventory', f, '--skip-unknown', '--json'], captureIo(dir));
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ fleets: [{ model: 'Antminer S21', count: 1 }], unmatched: [{ host: '10.0.0.7', model: 'Antminer L7' }] });
  });

  it('fleet names are valid site names', () => {
    for (const m of ['Antminer S21 XP+ Hyd', 'Whatsminer M30S++', 'Avalon A1566', 'Antminer S19j Pro']) expect(fleetNameFor(m)).toMatch(/^[a-z0-9][a-z0-9-]*$/);
    expect(fleetNameFor('Antminer S21 XP+ Hyd')).toBe('s21-xp-plus-hyd');
  });
});
