import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { csv, tmpDir } from '../../market/importers/testing/tmp.js';
import { openMarketStore } from '../../store/sqlite-store.js';
import { captureIo, type CapturedIo } from '../capture.js';
import { runCli } from '../run.js';

const tmp = tmpDir('mullet-cli-data-');
afterAll(() => tmp.cleanup());

function io(env: Record<string, string> = {}): CapturedIo {
  return captureIo(tmp.dir, env);
}

const EIA = 'interval_start_utc,interval_start_local,hb_busavg,hb_houston,hb_hubavg,hb_north,hb_pan,hb_south,hb_west';
const row = (utc: string, local: string, v: string) => `${utc},${local},${v},${v},${v},${v},${v},${v},${v}`;

mkdirSync(path.join(tmp.dir, 'in'));
tmp.write('in/rt_hubs.csv', csv(EIA, row('2024-01-01T06:00:00Z', '2024-01-01T00:00:00-06:00', '10'), row('2024-01-01T06:15:00Z', '2024-01-01T00:15:00-06:00', '11'), row('2024-01-01T06:45:00Z', '2024-01-01T00:45:00-06:00', '13')));
tmp.write('in/net.csv', csv('date_utc,difficulty,hashrate_ths,hashrate_ehs', '2024-04-15,86388558925171,605500000,605.500'));
tmp.write('in/notes.csv', csv('something,else', '1,2'));
tmp.write('in/README.md', '# not data\n');
// Subfolders are searched (the shared data keeps its 4CP intervals in ercot_4cp/); hidden ones are not.
mkdirSync(path.join(tmp.dir, 'in', 'sub'));
mkdirSync(path.join(tmp.dir, 'in', '.hidden'));
tmp.write(
  'in/sub/official_intervals.csv',
  csv('year,month,interval_ending_local,interval_start_utc,ercot_4cp_mw,average_4cp_mw,source_doclookup_id', '2023,8,2023-08-10T17:00-05:00,2023-08-10T21:45:00Z,85636.9,,961277079'),
);
tmp.write('in/.hidden/rt.csv', csv(EIA, row('2024-01-01T06:00:00Z', '2024-01-01T00:00:00-06:00', 'x')));
tmp.write(
  'bad_da.csv',
  csv(EIA, row('2024-01-01T06:00:00Z', '2024-01-01T00:00:00-06:00', '1'), row('2024-01-01T07:00:00Z', '2024-01-01T01:00:00-06:00', 'x'), row('2024-01-01T08:00:00Z', '2024-01-01T02:00:00-06:00', '3')),
);

describe('mullet data import / status', () => {
  it('imports a directory and a bad file: the bad one writes nothing, exit 2, the others are committed', async () => {
    const c = io();
    const code = await runCli(['data', 'import', 'in', 'bad_da.csv', '--db', 'm.db'], c);
    expect(code).toBe(2);
    expect(c.err()).toMatch(/bad_da\.csv:3:3: column 'hb_busavg': expected a finite number, got 'x'/);
    expect(c.err()).toMatch(/imported and committed: in\/net\.csv, in\/rt_hubs\.csv, in\/sub\/official_intervals\.csv/);
    expect(c.err()).toMatch(/\[1\/5\] in\/net\.csv/);
    expect(c.out()).toMatch(/in\/notes\.csv {2}skipped: header not recognised/);
    expect(c.out()).toMatch(/in\/sub\/official_intervals\.csv {2}\[ercot-4cp-intervals\].*\n.*4CP intervals 1;/);
    expect(c.out()).toMatch(/3 imported, 1 skipped, 1 failed/);
    expect(c.out()).not.toMatch(/hidden/);
    expect(c.out()).toMatch(/ignored \(not \.csv\/\.csv\.gz\/\.zip\): README\.md/);
    const store = await openMarketStore(path.join(tmp.dir, 'm.db'));
    expect(await store.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', fromMs: 0, toMs: Date.parse('2030-01-01T00:00:00Z') })).toHaveLength(3);
    expect(await store.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'DA', fromMs: 0, toMs: Date.parse('2030-01-01T00:00:00Z') })).toEqual([]);
    expect((await store.fourCpIntervals({ market: 'ERCOT' })).map((i) => i.month)).toEqual(['2023-08']);
    await store.close();
  });

  it('re-importing changes nothing and reports it as JSON', async () => {
    const c = io({ MULLET_DB: 'm.db' });
    expect(await runCli(['data', 'import', 'in', '--json'], c)).toBe(0);
    const doc = JSON.parse(c.out()) as { totals: { written: number; unchanged: number }; imported: string[]; skipped: string[] };
    expect(doc.totals).toEqual({ written: 0, unchanged: 24, duplicates: 0 });
    expect(doc.skipped).toEqual(['in/notes.csv']);
  });

  it('an explicitly named file with an unknown header is an error listing the formats', async () => {
    const c = io();
    expect(await runCli(['data', 'import', 'in/notes.csv', '--db', 'm.db'], c)).toBe(2);
    expect(c.err()).toMatch(/unrecognised header 'something,else'; recognised formats:/);
    expect(c.err()).toMatch(/ercot-np6-905/);
  });

  it('a missing path is bad input', async () => {
    expect(await runCli(['data', 'import', 'nope.csv', '--db', 'm.db'], io())).toBe(2);
  });

  it('a FIFO is refused at once with exit 2, not waited on (it hung); the other files are imported', async () => {
    const fifo = path.join(tmp.dir, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    const c = io();
    expect(await runCli(['data', 'import', 'pipe.csv', 'in/net.csv', '--db', 'fifo.db'], c)).toBe(2);
    expect(c.err()).toMatch(/pipe\.csv: is a FIFO \(named pipe\); only regular files are read/);
    expect(c.err()).toMatch(/imported and committed: in\/net\.csv/);
  });

  it('SIGTERM during a file stops the import: that file rolled back, the ones before it kept, exit 1', async () => {
    const rows = [EIA];
    for (let i = 0; i < 2000; i++) {
      const ms = Date.parse('2024-01-02T06:00:00Z') + i * 15 * 60_000;
      rows.push(row(new Date(ms).toISOString().replace('.000Z', 'Z'), new Date(ms - 6 * 3_600_000).toISOString().slice(0, 19) + '-06:00', String(i)));
    }
    tmp.write('long_rt.csv', csv(...rows));
    const controller = new AbortController();
    const c = io();
    // Aborts as the second file starts, the way main.ts turns SIGTERM into the CLI's signal.
    const term: CapturedIo = { ...c, signal: controller.signal, stderr: (t) => {
      c.stderr(t);
      if (t.startsWith('[2/2]')) controller.abort(new Error('received SIGTERM'));
    } };
    expect(await runCli(['data', 'import', 'in/rt_hubs.csv', 'long_rt.csv', '--db', 'term.db'], term)).toBe(1);
    expect(c.err()).toMatch(/interrupted \(received SIGTERM\) during long_rt\.csv: its import was rolled back, nothing of it written; imported and committed before it: in\/rt_hubs\.csv/);
    const store = await openMarketStore(path.join(tmp.dir, 'term.db'));
    // rt_hubs.csv's three intervals, none of long_rt.csv's 2,000.
    expect(await store.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', fromMs: 0, toMs: Date.parse('2030-01-01T00:00:00Z') })).toHaveLength(3);
    await store.close();
  });

  it('shows coverage with units and gaps', async () => {
    const c = io();
    expect(await runCli(['data', 'status', '--db', 'm.db'], c)).toBe(0);
    const text = c.out();
    expect(text).toMatch(/series +unit +interval \(min\)/);
    expect(text).toMatch(/ERCOT HB_WEST RT 15min +USD\/MWh +15 +eia +2024-01-01 06:00 +2024-01-01 06:45 +3 +4 +1 +2024-01-01 06:30 ×1/);
    expect(text).toMatch(/BTC difficulty daily +difficulty +1440 +blockchain\.com +2024-04-15/);
    expect(text).toMatch(/official 4CP intervals: 1 months \(2023-08 → 2023-08; sources ercot\)/);
    const j = io();
    expect(await runCli(['data', 'status', '--db', 'm.db', '--json'], j)).toBe(0);
    const doc = JSON.parse(j.out()) as { series: { series: string; missing: number; firstUtc: string }[] };
    expect(doc.series.find((s) => s.series === 'ERCOT HB_WEST RT 15min')).toMatchObject({ missing: 1, firstUtc: '2024-01-01T06:00:00Z' });
  });

  it('status without a database says so instead of creating one', async () => {
    const c = io();
    expect(await runCli(['data', 'status', '--db', 'absent.db'], c)).toBe(1);
    expect(c.err()).toMatch(/does not exist; import market data first/);
    expect(existsSync(path.join(tmp.dir, 'absent.db'))).toBe(false);
  });

  it('lists the recognised formats', async () => {
    const c = io();
    expect(await runCli(['data', 'formats', '--json'], c)).toBe(0);
    const formats = JSON.parse(c.out()) as { id: string }[];
    expect(formats.map((f) => f.id)).toContain('ercot-np4-190');
  });
});
