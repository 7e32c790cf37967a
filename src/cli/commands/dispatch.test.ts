import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlanFileTarget } from '../../fleet/agent/targets.js';
import { planFileSchema } from '../../fleet/agent/plan-file.js';
import { emptyBatch, type PricePoint } from '../../market/types.js';
import { openMarketStore } from '../../store/sqlite-store.js';
import { captureIo, runCapture } from '../../testing/cli.js';
import { tomorrowCpt } from './dispatch.js';

/** 2025-08-02 00:00 CDT: the operating day planned below. */
const DAY0 = Date.parse('2025-08-02T05:00:00Z');
const H = 3_600_000;
/** Hours (CPT, hour starting) when the day-ahead price is above what mining earns. */
const DEAR = new Set([15, 16, 17]);

describe('mullet dispatch plan', () => {
  let dir = '';
  let db = '';
  const run = (argv: string[]) => runCapture(argv, captureIo(dir));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mullet-dispatch-plan-'));
    db = path.join(dir, 'market.db');
    // Hourly DA prices for the day, except its last hour (a second store lacks it: see below).
    const prices: PricePoint[] = Array.from({ length: 24 }, (_, h) => ({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'DA', intervalStartMs: DAY0 + h * H, intervalMinutes: 60, priceUsdPerMWh: DEAR.has(h) ? 250 : 30 }));
    const store = await openMarketStore(db);
    await store.ingest('da.csv', { ...emptyBatch('test'), provider: 'ercot', prices });
    await store.close();
    const holes = await openMarketStore(path.join(dir, 'holes.db'));
    await holes.ingest('da.csv', { ...emptyBatch('test'), provider: 'ercot', prices: prices.slice(0, 23) });
    await holes.close();
    writeFileSync(
      path.join(dir, 'site.yaml'),
      [
        'name: plan-demo',
        'market: { iso: ERCOT, settlementPoint: HB_WEST }',
        'interconnect: { importLimitMW: 40 }',
        'fleets:',
        // 17.5 J/TH: at 50 USD/PH/day mining earns ~119 USD/MWh; 30 is below, 250 above.
        '  - { name: s21, hashrateThs: 200, powerW: 3500, count: 4000 }',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const policy of ['optimal', 'strike'] as const) {
    it(`${policy}: writes a plan file for the day that sleeps the fleet in the dear DA hours; the agent loads it and shows the price`, async () => {
      const out = path.join(dir, `plan-${policy}.json`);
      const r = await run(['dispatch', 'plan', '--site', 'site.yaml', '--date', '2025-08-02', '--policy', policy, '--db', db, '--hashprice-usd-per-ph-day', '50', '--out', out, '--json']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out) as { intervals: number; policy: string; firstIntervalStart: string; curtailedIntervals: number; hashpriceUsdPerPhDay: number };
      // strike wakes after two intervals at or below the break-even (the site default): one quarter later.
      const extra = policy === 'strike' ? 1 : 0;
      expect(j).toMatchObject({ intervals: 96, policy, firstIntervalStart: '2025-08-02T05:00:00.000Z', curtailedIntervals: 12 + extra, hashpriceUsdPerPhDay: 50 });
      const file = planFileSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
      expect(file).toMatchObject({ site: 'plan-demo', intervalMinutes: 15, fleets: ['s21'] });
      const asleep = file.intervals.flatMap((iv, i) => (iv.fleetMW[0] === 0 ? [Math.floor(i / 4)] : []));
      expect([...new Set(asleep)]).toEqual(policy === 'strike' ? [15, 16, 17, 18] : [15, 16, 17]);
      expect(asleep).toHaveLength(12 + extra);
      expect(file.intervals[0]?.fleetMW[0]).toBeCloseTo(14, 9);
      const target = new PlanFileTarget(out, 'plan-demo');
      await target.load();
      expect(await target.current(DAY0 + 15 * H + 60_000)).toMatchObject({ stale: false, targetMW: 0, priceUsdPerMWh: 250, priceIntervalStartMs: DAY0 + 15 * H });
      // The break-even it was planned with travels with it (status and mullet_fleet_strike_usd_per_mwh show it).
      const t = await target.current(DAY0);
      expect(t.stale ? null : t.fleetStrikeUsdPerMWh?.s21).toBeCloseTo(50 / (24 * 3500 / 200 / 1000), 6);
    });
  }

  it('refuses a day whose DA prices have holes, and a store without a hashprice, saying what to do', async () => {
    const holes = await run(['dispatch', 'plan', '--site', 'site.yaml', '--date', '2025-08-02', '--db', 'holes.db', '--hashprice-usd-per-ph-day', '50', '--policy', 'strike']);
    expect(holes.code).not.toBe(0);
    expect(holes.err).toMatch(/4 of 96 intervals of 2025-08-02 \(CPT\) have no ERCOT HB_WEST day-ahead price \(first: 2025-08-02T23:00 CPT\)/);
    const noHp = await run(['dispatch', 'plan', '--site', 'site.yaml', '--date', '2025-08-02', '--db', db, '--policy', 'strike']);
    expect(noHp.code).not.toBe(0);
    expect(noHp.err).toMatch(/no Bitcoin data .* give --hashprice-usd-per-ph-day/);
    const bad = await run(['dispatch', 'plan', '--site', 'site.yaml', '--date', '2025-13-40', '--db', db]);
    expect(bad.code).toBe(2);
  });

  it('plans tomorrow in CPT by default', () => {
    // 2025-08-01 23:30 CDT is already 2025-08-02 in UTC: tomorrow is still the 2nd.
    expect(tomorrowCpt(Date.parse('2025-08-02T04:30:00Z'))).toBe('2025-08-02');
    expect(tomorrowCpt(Date.parse('2025-08-02T05:30:00Z'))).toBe('2025-08-03');
  });
});
