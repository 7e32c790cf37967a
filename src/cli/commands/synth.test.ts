import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDataFile } from '../../market/importers/registry.js';
import { SYNTHETIC_LABEL, SYNTHETIC_MARKET } from '../../scenario/params.js';
import { openMarketStore } from '../../store/sqlite-store.js';
import { captureIo, runCapture } from '../../testing/cli.js';
import { sharedFile, skipWithoutSharedData } from '../../testing/data.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mullet-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Summary {
  synthetic: boolean;
  label: string;
  market: string;
  fromDate: string;
  days: number;
  paramsSource: string;
  notes: string[];
  rt: { meanUsdPerMWh: number; spikeEvents: number };
  btc: { heightEnd: number };
  stored?: { prices: number; loads: number };
}

describe('mullet market synth', () => {
  it('--json prints one labelled synthetic summary; same seed, same numbers', async () => {
    const a = await runCapture(['market', 'synth', '--days', '5', '--seed', '3', '--json']);
    const b = await runCapture(['market', 'synth', '--days', '5', '--seed', '3', '--json']);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    const j = JSON.parse(a.out) as Summary;
    expect(j.synthetic).toBe(true);
    expect(j.label).toBe(SYNTHETIC_LABEL);
    expect(j.market).toBe(SYNTHETIC_MARKET);
    expect(j.fromDate).toBe('2025-12-30'); // the day after the built-in start state
    expect(j.paramsSource).toBe('defaults');
  });

  it('human output starts with the synthetic label', async () => {
    const r = await runCapture(['market', 'synth', '--days', '2', '--from', '2026-06-01']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(SYNTHETIC_LABEL);
    expect(r.out).toContain('2 days from 2026-06-01');
  });

  it('bad input exits 2 and names the flag', async () => {
    const r = await runCapture(['market', 'synth', '--days', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--days');
    const s = await runCapture(['market', 'synth', '--from', '2026-02-30']);
    expect(s.code).toBe(2);
    expect(s.err).toContain('--from');
    const t = await runCapture(['market', 'synth', '--calibrate-from-db', path.join(dir, 'missing.db')]);
    expect(t.code).toBe(1);
    expect(t.err).toContain('does not exist');
  });

  it('--out-db stores prices and load under SYNTH-ERCOT only', async () => {
    const db = path.join(dir, 'out.db');
    const r = await runCapture(['market', 'synth', '--days', '2', '--from', '2026-01-01', '--out-db', db, '--json'], captureIo(dir));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Summary;
    expect(j.stored).toEqual({ file: db, prices: 2 * 96 + 2 * 24, loads: 48 });
    const store = await openMarketStore(db);
    const from = Date.parse('2026-01-01');
    const to = from + 2 * 86_400_000;
    expect(await store.prices({ market: SYNTHETIC_MARKET, settlementPoint: 'HB_WEST', kind: 'RT', fromMs: from, toMs: to })).toHaveLength(192);
    expect(await store.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', fromMs: from, toMs: to })).toHaveLength(0);
    expect(await store.btcDays('2026-01-01', '2026-01-02')).toHaveLength(0);
    await store.close();
  });
});

describe.skipIf(skipWithoutSharedData)('mullet market synth --calibrate-from-db (real data)', () => {
  it('calibrates from a store built from the real files and says so', async () => {
    const db = path.join(dir, 'real.db');
    const store = await openMarketStore(db);
    for (const f of ['ercot_rt_15min_hubs_2023.csv', 'ercot_rt_15min_hubs_2024.csv', 'ercot_load_hourly_2020_2025.csv', 'btc_price_daily.csv', 'btc_difficulty_epochs_2020_2025.csv', 'btc_fees_daily_coinmetrics_2023_2025.csv', 'btc_blocks_per_day.csv']) {
      await store.ingest(f, (await parseDataFile(sharedFile(f))).batch);
    }
    await store.close();
    const r = await runCapture(['market', 'synth', '--days', '365', '--seed', '2', '--calibrate-from-db', db, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Summary;
    expect(j.synthetic).toBe(true);
    expect(j.paramsSource).toBe('calibrated');
    // Window: the two years ending at the last stored HB_WEST RT price (2024-12-31).
    expect(j.notes.join('\n')).toContain('HB_WEST RT 2023-01-01..2024-12-31');
    expect(j.fromDate).toBe('2025-01-01');
    // HB_WEST RT 2023–2024 real mean is 38.4 USD/MWh.
    expect(j.rt.meanUsdPerMWh).toBeGreaterThan(38.4 * 0.8);
    expect(j.rt.meanUsdPerMWh).toBeLessThan(38.4 * 1.2);
  });
});

describe('mullet market synth: the default store', () => {
  it('calibrates from MULLET_DB when it exists, and --defaults skips it', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'mullet-synth-default-'));
    try {
      // A store holding a synthetic year stands in for imported data: calibration reads what is there.
      await runCapture(['market', 'synth', '--days', '2', '--out-db', 'm.db'], captureIo(work));
      const withStore = await runCapture(['market', 'synth', '--days', '2', '--json'], captureIo(work, { MULLET_DB: 'm.db' }));
      expect(withStore.code).toBe(0);
      expect(withStore.err).toContain('calibrating from the market store m.db');
      const skipped = await runCapture(['market', 'synth', '--days', '2', '--json', '--defaults'], captureIo(work, { MULLET_DB: 'm.db' }));
      expect(skipped.code).toBe(0);
      expect(skipped.err).not.toContain('calibrating');
      const none = await runCapture(['market', 'synth', '--days', '2', '--json'], captureIo(work));
      expect(none.err).not.toContain('calibrating');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
