import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyBatch, type BtcDay } from '../../market/types.js';
import { openMarketStore } from '../../store/sqlite-store.js';
import { captureIo, runCapture } from '../../testing/cli.js';

describe('mullet network what-if', () => {
  it('--json: slower blocks, one retarget, stayers earn more', async () => {
    const r = await runCapture(['network', 'what-if', '--exit-ehs', '100', '--over-days', '0', '--from', '2026-02-01', '--days', '20', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { retargets: unknown[]; summary: { maxBlockTimeS: number; stayerHashpriceVsBaselinePct: number; difficultyChangePct: number }; days: unknown[]; startState: { source: string } };
    expect(j.days).toHaveLength(20);
    expect(j.summary.maxBlockTimeS).toBeGreaterThan(640);
    expect(j.retargets.length).toBeGreaterThanOrEqual(1);
    expect(j.summary.difficultyChangePct).toBeLessThan(-5);
    expect(j.summary.stayerHashpriceVsBaselinePct).toBeGreaterThan(5);
    expect(j.startState.source).toContain('built-in state');
    expect((JSON.parse(r.out) as { startState: { defaults: string[] } }).startState.defaults[0]).toMatch(/every input: built-in state of 2025-12-29 \(DEFAULT/);
  });

  it('human output and bad input', async () => {
    const r = await runCapture(['network', 'what-if', '--exit-ehs', '50', '--over-days', '30']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('50.0 EH/s leave over 30 days');
    const bad = await runCapture(['network', 'what-if', '--exit-ehs', '100000', '--over-days', '1']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--exit-ehs');
    const neg = await runCapture(['network', 'what-if', '--exit-ehs', '10', '--over-days', '-1']);
    expect(neg.code).toBe(2);
  });

  it.each([
    [['--exit-ehs', '10', '--over-days', '5', '--exit-profile', '2026-01-01:5'], /give only one of --exit-ehs, --exit-profile/],
    [['--exit-profile', '2026-01-01:5', '--over-days', '5'], /--over-days: goes with --exit-ehs only/],
    [['--exit-profile', '2026-01-01:x'], /--exit-profile: expected DATE:EH\/s, got '2026-01-01:x'/],
    [['--exit-profile', '2026-01-03:5,2026-01-05:0,2026-01-04:1'], /dates must be in order/],
    [['--from', '2026-02-01', '--exit-profile', '2026-01-01:5'], /2026-01-01 is before the start \(2026-02-01\)/],
    [['--exit-ehs', '10', '--over-days', '5', '--history'], /--history: needs --db/],
    [[], /give --exit-ehs with --over-days, --exit-profile or --exit-profile-csv/],
  ])('bad input %j → exit 2', async (argv, message) => {
    const r = await runCapture(['network', 'what-if', ...argv]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('a temporary exit profile from a CSV starts on its first date and returns', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mullet-net-'));
    try {
      writeFileSync(path.join(dir, 'p.csv'), 'date_utc,exit_ehs\n2026-02-01,0\n2026-02-02,200\n2026-02-04,200\n2026-02-05,0\n');
      const r = await runCapture(['network', 'what-if', '--exit-profile-csv', 'p.csv', '--days', '8', '--json'], captureIo(dir));
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out) as { start: { dateUtc: string }; days: { exitEhs: number; blockTimeS: number }[] };
      expect(j.start.dateUtc).toBe('2026-02-01');
      expect(j.days.map((d) => Math.round(d.exitEhs))).toEqual([100, 200, 200, 100, 0, 0, 0, 0]);
      // Slow while 200 EH/s are away, then back to the pace of the difficulty.
      expect(j.days[2]?.blockTimeS).toBeGreaterThan(700);
      expect(j.days[5]?.blockTimeS).toBeLessThanOrEqual(600.001);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mullet network what-if --db (measured start)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mullet-net-db-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // 30 days to 2025-12-29 with every input, then prices only (as the shared data after Coin Metrics ends).
  const D = 148.26e12;
  const rows: BtcDay[] = [];
  for (let i = 0; i < 60; i++) {
    const date = new Date(Date.parse('2025-11-30T00:00:00Z') + i * 86_400_000).toISOString().slice(0, 10);
    rows.push(date <= '2025-12-29' ? { dateUtc: date, priceUsd: 87_000, difficulty: D, blocks: 144, feesBtc: 2.88, heightEndOfDay: 925_000 + 144 * i } : { dateUtc: date, priceUsd: 99_000 });
  }
  beforeAll(async () => {
    const store = await openMarketStore(path.join(dir, 'm.db'));
    await store.ingest('b.csv', { ...emptyBatch('t'), provider: 'test', btcDays: rows });
    await store.close();
  });

  it('without --from, starts the day after the last day with every input observed (not at the last price)', async () => {
    const r = await runCapture(['network', 'what-if', '--exit-ehs', '100', '--over-days', '10', '--db', 'm.db', '--json'], captureIo(dir));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { start: { dateUtc: string; height: number; hashrateEhs: number }; startState: { btcPriceUsd: number; feesBtcPerBlock: number; sources: Record<string, string>; warnings: string[] } };
    expect(j.start.dateUtc).toBe('2025-12-30');
    expect(j.start.height).toBe(925_000 + 144 * 29);
    expect(j.startState.btcPriceUsd).toBe(87_000);
    expect(j.startState.feesBtcPerBlock).toBeCloseTo(0.02, 12);
    expect(j.start.hashrateEhs).toBeCloseTo((144 * D * 2 ** 32) / 86_400 / 1e18, 6);
    expect(j.startState.sources.hashrate).toMatch(/blocks found × difficulty over the 14 days before/);
    expect(j.startState.warnings).toEqual([]);
  });

  it('warns when --from is past the data: extrapolated height, stale difficulty', async () => {
    const r = await runCapture(['network', 'what-if', '--exit-ehs', '100', '--over-days', '10', '--db', 'm.db', '--from', '2026-01-20'], captureIo(dir));
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: difficulty is STALE: the store's last observation is 2025-12-29/);
    expect(r.err).toMatch(/warning: height 932,200 is extrapolated 21 days past the store's last known height \(2025-12-29\)/);
    expect(r.out).toMatch(/BTC 99,000 USD \(close of 2026-01-19/);
  });
});
