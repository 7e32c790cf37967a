/**
 * Switching the market store is one config value: the same commands against a `postgres://` URL
 * (the local server, a random schema dropped afterwards) instead of a SQLite file — import, status
 * and a back-test — from small hand-made CSV files, and the same results as SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csv, tmpDir } from '../../market/importers/testing/tmp.js';
import { SKIP_PG_REASON, TEST_PG_URL, dropSchemas, randomSchemaName, requirePg, skipPg } from '../../testing/pg.js';
import { REPO_ROOT } from '../../testing/data.js';
import { captureIo } from '../capture.js';
import { runCli } from '../run.js';

const tmp = tmpDir('mullet-cli-pg-');
const schema = randomSchemaName();
const url = `${TEST_PG_URL}?schema=${schema}`;

const EIA = 'interval_start_utc,interval_start_local,hb_busavg,hb_houston,hb_hubavg,hb_north,hb_pan,hb_south,hb_west';
// One CPT day of 15-minute RT prices at every hub (96 intervals), one interval missing, a price spike at 18:00 CPT.
const T0 = Date.parse('2024-01-01T06:00:00Z');
const rows: string[] = [];
for (let i = 0; i < 96; i++) {
  if (i === 40) continue;
  const utc = new Date(T0 + i * 900_000).toISOString().replace('.000Z', 'Z');
  const local = new Date(T0 + i * 900_000 - 6 * 3_600_000).toISOString().replace('.000Z', '-06:00');
  const v = i >= 72 && i < 76 ? '900' : String(20 + (i % 7));
  rows.push(`${utc},${local},${v},${v},${v},${v},${v},${v},${v}`);
}
tmp.write('rt.csv', csv(EIA, ...rows));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(REPO_ROOT);
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe.skipIf(skipPg)(`--db postgres://… (local server; skipped only with ${SKIP_PG_REASON})`, { timeout: 60_000 }, () => {
  beforeAll(requirePg, 15_000);
  afterAll(async () => {
    tmp.cleanup();
    await dropSchemas([schema]);
  }, 15_000);

  it('reading a schema nobody imported into is refused, not an empty store', async () => {
    const r = await run(['data', 'status', '--db', url]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/has no market tables; import market data first/);
  });

  it('data import, data status and backtest work on PostgreSQL and agree with SQLite', async () => {
    const file = `${tmp.dir}/rt.csv`;
    const sqlite = `${tmp.dir}/m.db`;
    const results: Record<string, unknown>[] = [];
    for (const db of [url, sqlite]) {
      const imp = await run(['data', 'import', file, '--db', db, '--json']);
      expect(imp.code, imp.err).toBe(0);
      const j = JSON.parse(imp.out) as { totals: { written: number }; files: { report?: { gaps: unknown[] } }[] };
      expect(j.totals.written).toBe(95 * 7);
      const again = JSON.parse((await run(['data', 'import', file, '--db', db, '--json'])).out) as { totals: { written: number; unchanged: number } };
      expect(again.totals).toMatchObject({ written: 0, unchanged: 95 * 7 });
      const status = await run(['data', 'status', '--db', db, '--json']);
      expect(status.code, status.err).toBe(0);
      const s = JSON.parse(status.out) as { db: string; series: { series: string; count: number; missing: number }[] };
      expect(s.series.find((x) => x.series === 'ERCOT HB_WEST RT 15min')).toMatchObject({ count: 95, missing: 1 });
      const bt = await run(['backtest', '--site', 'examples/west-texas-hybrid.yaml', '--from', '2024-01-01', '--to', '2024-01-01', '--policy', 'strike', '--hashprice-usd-per-ph-day', '50', '--db', db, '--json']);
      expect(bt.code, bt.err).toBe(0);
      // Wall times differ from run to run; everything else must not.
      const b = JSON.parse(bt.out, (k, v: unknown) => (/seconds$|elapsed/i.test(k) ? undefined : v)) as Record<string, unknown>;
      expect(b).toMatchObject({ settlementPoint: 'HB_WEST' });
      results.push({ imported: j.files.map((f) => f.report?.gaps), series: s.series, backtest: { ...b, db: undefined } });
    }
    expect(results[0]).toEqual(results[1]);
  });
});
