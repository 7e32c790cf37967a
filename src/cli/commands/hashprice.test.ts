import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { captureIo, runCapture } from '../../testing/cli.js';
import { afterAll, describe, expect, it } from 'vitest';
import { MulletError } from '../../core/errors.js';
import { emptyBatch, type BtcDay } from '../../market/types.js';
import { openMarketStore } from '../../store/sqlite-store.js';
import { parseArgs } from '../command.js';
import { exitCodeFor } from '../exit.js';
import { makeHashpriceCommand, type HashpriceStore } from './hashprice.js';

const run = runCapture;

const EXPLICIT = ['hashprice', '--btc-usd', '64000', '--difficulty', '86388558925171.02', '--fees-btc-per-block', '0', '--height', '840000'];

describe('mullet hashprice (explicit inputs)', () => {
  it('--json has both hashprices and every input used', async () => {
    const r = await run([...EXPLICIT, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Record<string, number | string>;
    expect(j.hashpriceUsdPerPhDay).toBeCloseTo(46.5723, 4); // hand computation in bitcoin/hashprice.test.ts
    expect(j.hashpriceBtcPerPhDay).toBeCloseTo(7.276921223e-4, 12);
    expect(j).toMatchObject({
      btcPriceUsd: 64000,
      difficulty: 86388558925171.02,
      feesBtcPerBlock: 0,
      height: 840000,
      subsidyBtc: 3.125,
      source: 'flags',
    });
  });

  it('takes the subsidy from the height (pre-halving height doubles the subsidy part)', async () => {
    const r = await run(['hashprice', '--btc-usd', '64000', '--difficulty', '86388558925171.02', '--fees-btc-per-block', '0', '--height', '839999', '--json']);
    const j = JSON.parse(r.out) as { subsidyBtc: number; hashpriceUsdPerPhDay: number };
    expect(j.subsidyBtc).toBe(6.25);
    expect(j.hashpriceUsdPerPhDay).toBeCloseTo(2 * 46.5723, 3);
  });

  it('prints a human summary without --json', async () => {
    const r = await run(EXPLICIT);
    expect(r.code).toBe(0);
    expect(r.out).toContain('hashprice $46.57/PH/day');
    expect(r.out).toContain('difficulty 86.39 T');
  });

  it.each([
    [['hashprice', '--btc-usd', '64000'], /missing: --difficulty, --fees-btc-per-block, --height/],
    [['hashprice'], /give --date, or all of/],
    [['hashprice', '--btc-usd', '64000', '--difficulty', '0', '--fees-btc-per-block', '0', '--height', '840000'], /--difficulty: must be > 0/],
    [['hashprice', '--btc-usd=-1', ...EXPLICIT.slice(3)], /--btc-usd: must be within 0\.\.100,000,000 USD\/BTC, got -1/],
    [[...EXPLICIT.slice(0, 5), '--fees-btc-per-block=-0.1', ...EXPLICIT.slice(7)], /--fees-btc-per-block: must be within 0\.\.10,000 BTC\/block, got -0\.1/],
    [[...EXPLICIT, '--date', '2024-04-20'], /use either --date or explicit inputs/],
    [['hashprice', '--date', '2024-02-30'], /--date: not a calendar date/],
    [['hashprice', '--btc-usd', 'abc'], /--btc-usd: expected a number/],
  ])('bad input %j → exit 2', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
  });
});

const DAY: BtcDay = { dateUtc: '2025-11-22', priceUsd: 84_000, difficulty: 152_000_000_000_000, feesBtc: 3.5, blocks: 140, heightEndOfDay: 925_000 };

describe('mullet hashprice --date (injected store)', () => {
  function commandWith(days: BtcDay[]): { cmd: ReturnType<typeof makeHashpriceCommand>; opened: string[]; closed: () => number } {
    const opened: string[] = [];
    let closed = 0;
    const store: HashpriceStore = {
      btcDays: (from, to) => Promise.resolve(days.filter((d) => d.dateUtc >= from && d.dateUtc <= to)),
      close: () => {
        closed++;
        return Promise.resolve();
      },
    };
    const cmd = makeHashpriceCommand((file) => {
      opened.push(file);
      return Promise.resolve(store);
    });
    return { cmd, opened, closed: () => closed };
  }

  it('reads inputs from the store at --db (resolved against cwd) and closes it', async () => {
    const { cmd, opened, closed } = commandWith([DAY]);
    const io = captureIo('/work/site');
    await cmd.run(parseArgs(cmd, ['--date', '2025-11-22', '--db', 'data/m.db', '--json'], io.env), io);
    const j = JSON.parse(io.out()) as Record<string, unknown>;
    expect(opened).toEqual(['/work/site/data/m.db']);
    expect(closed()).toBe(1);
    expect(j).toMatchObject({ source: 'store', date: '2025-11-22', btcPriceUsd: 84_000, height: 925_000, subsidyBtc: 3.125, feesBtcPerBlock: 0.025 });
    expect(j.hashpriceUsdPerPhDay).toBeCloseTo(((3.125 + 0.025) * 1e15 * 86_400) / (152e12 * 2 ** 32) * 84_000, 10);
  });

  it('uses MULLET_DB when --db is absent', async () => {
    const { cmd, opened } = commandWith([DAY]);
    const io = captureIo('/work/site', { MULLET_DB: '/data/mullet.db' });
    await cmd.run(parseArgs(cmd, ['--date', '2025-11-22'], io.env), io);
    expect(opened).toEqual(['/data/mullet.db']);
    expect(io.out()).toContain('hashprice 2025-11-22 $');
  });

  it('rebuilds a missing height from block counts and says so; warns when the difficulty is past the last observation', async () => {
    const days: BtcDay[] = [
      { dateUtc: '2025-11-20', difficulty: 152e12, blocks: 144, heightEndOfDay: 924_700 },
      { dateUtc: '2025-11-21', blocks: 150 },
      { dateUtc: '2025-11-22', priceUsd: 84_000, feesBtc: 3.5, blocks: 140 },
    ];
    const { cmd } = commandWith(days);
    const io = captureIo('/work/site');
    await cmd.run(parseArgs(cmd, ['--date', '2025-11-22', '--db', 'm.db'], io.env), io);
    expect(io.out()).toContain('subsidy 3.125 BTC (height 924990)');
    expect(io.out()).toContain('derived height: 924,990 = 924,700 at the end of 2025-11-20 + 290 blocks mined since (daily block counts)');
    expect(io.out()).toContain('derived difficulty: carried from 2025-11-20 (2 days before)');
    expect(io.err()).toContain("warning: difficulty is STALE: 2025-11-22 is 2 days past the store's last difficulty observation (2025-11-20)");
    const j = captureIo('/work/site');
    await cmd.run(parseArgs(cmd, ['--date', '2025-11-22', '--db', 'm.db', '--json'], j.env), j);
    expect((JSON.parse(j.out()) as { derived: { input: string }[] }).derived.map((d) => d.input)).toEqual(['height', 'difficulty']);
  });

  it('assumes fees only with --fee-share-of-subsidy-pct, and points to it when fees are missing', async () => {
    const noFees: BtcDay = { dateUtc: '2021-05-14', priceUsd: 49_948, difficulty: 25.05e12, blocks: 150, heightEndOfDay: 683_658 };
    const { cmd } = commandWith([noFees]);
    const io = captureIo();
    const err = await cmd.run(parseArgs(cmd, ['--date', '2021-05-14', '--db', 'm.db'], io.env), io).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as MulletError).message).toMatch(/total fees \(feesBtc\).*--fee-share-of-subsidy-pct/);
    const ok = captureIo();
    await cmd.run(parseArgs(cmd, ['--date', '2021-05-14', '--db', 'm.db', '--fee-share-of-subsidy-pct', '8.8'], ok.env), ok);
    expect(ok.out()).toContain('fees 0.5500 BTC/block');
    expect(ok.out()).toContain('derived fees: ASSUMED 8.8 % of the 6.25 BTC subsidy = 0.5500 BTC/block');
  });

  it('fails with NO_DATA (exit 1) naming what is missing, and still closes the store', async () => {
    const { cmd, closed } = commandWith([{ dateUtc: '2025-11-22', priceUsd: 84_000 }]);
    const io = captureIo();
    const err = await cmd.run(parseArgs(cmd, ['--date', '2025-11-22'], io.env), io).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MulletError);
    expect((err as MulletError).code).toBe('NO_DATA');
    expect((err as MulletError).message).toContain('2025-11-22');
    expect(exitCodeFor(err)).toBe(1);
    expect(closed()).toBe(1);
  });
});

describe('mullet hashprice --date (SQLite store, through runCli)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mullet-hashprice-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a day written by the real store', async () => {
    const file = path.join(dir, 'm.db');
    const store = await openMarketStore(file);
    try {
      await store.ingest('test.csv', { ...emptyBatch('test'), btcDays: [{ ...DAY, source: 'test' }] });
    } finally {
      await store.close();
    }
    const r = await run(['hashprice', '--date', '2025-11-22', '--db', 'm.db', '--json'], captureIo(dir));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ source: 'store', btcPriceUsd: 84_000, difficulty: 152e12, feesBtcPerBlock: 0.025, height: 925_000 });
  });

  it('a missing database file is NOT_FOUND (exit 1), not a new empty store', async () => {
    const r = await run(['hashprice', '--date', '2025-11-22', '--db', 'absent.db'], captureIo(dir));
    expect(r.code).toBe(1);
    expect(r.err).toContain('does not exist');
  });

  it('a day absent from the store is NO_DATA (exit 1)', async () => {
    const r = await run(['hashprice', '--date', '2020-01-01', '--db', 'm.db'], captureIo(dir));
    expect(r.code).toBe(1);
    expect(r.err).toContain('no Bitcoin data at all for 2020-01-01');
  });
});
