import { describe, expect, it } from 'vitest';
import { expectedTipHeight } from '../../bitcoin/halving.js';
import { runCapture } from '../../testing/cli.js';

const run = runCapture;

describe('mullet chain retarget', () => {
  it('prints only the next bits on stdout (Core pow_tests get_next_work)', async () => {
    const r = await run(['chain', 'retarget', '--bits', '1d00ffff', '--first-time', '1261130161', '--last-time', '1262152739']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('0x1d00d86a\n');
    expect(r.err).toContain('not clamped');
  });

  it('--json gives bits, difficulty, the inputs and the clamp (real Sep 2024 window)', async () => {
    const r = await run(['chain', 'retarget', '--bits', '0x1703255b', '--first-time', '1724855515', '--last-time', '1726023352', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    expect(j).toMatchObject({
      bits: '0x1703098c',
      previousBits: '0x1703255b',
      firstBlockTimeS: 1724855515,
      lastBlockTimeS: 1726023352,
      actualTimespanS: 1167837,
      timespanUsedS: 1167837,
      clamped: false,
      cappedAtPowLimit: false,
    });
    expect(j.difficulty).toBeCloseTo(92_671_576_265_161.06, -3);
    expect(j.difficultyChangePct).toBeCloseTo((1_209_600 / 1_167_837 - 1) * 100, 2);
  });

  it('reports the clamp (Core get_next_work_lower_limit_actual)', async () => {
    const r = await run(['chain', 'retarget', '--bits', '1c05a3f4', '--first-time', '1279008237', '--last-time', '1279297671', '--json']);
    const j = JSON.parse(r.out) as { bits: string; clamped: boolean; timespanUsedS: number };
    expect(j).toMatchObject({ bits: '0x1c0168fd', clamped: true, timespanUsedS: 302400 });
  });

  it.each([
    [['--bits', 'xyz'], /--bits: expected compact bits/],
    [['--bits', '0x'], /--bits: expected compact bits/],
    [['--bits', '123456789'], /--bits: expected compact bits/],
    [['--bits', '04923456'], /--bits: 0x04923456 has the sign bit/],
    [['--bits', 'ff123456'], /--bits: 0xff123456 encodes a target above 2\^256/],
    [['--bits', '01003456'], /--bits: 0x01003456 encodes a zero target/],
  ])('bad bits %j → exit 2 with a clear message', async (bitsArgs, message) => {
    const r = await run(['chain', 'retarget', ...bitsArgs, '--first-time', '1', '--last-time', '2']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
  });

  it('rejects missing or out-of-range times with exit 2', async () => {
    expect((await run(['chain', 'retarget', '--bits', '1d00ffff', '--first-time', '1'])).code).toBe(2);
    const neg = await run(['chain', 'retarget', '--bits', '1d00ffff', '--first-time=-5', '--last-time', '2']);
    expect(neg.code).toBe(2);
    expect(neg.err).toContain('--first-time');
    const big = await run(['chain', 'retarget', '--bits', '1d00ffff', '--first-time', '1', '--last-time', '4294967296']);
    expect(big.code).toBe(2);
    expect(big.err).toContain('--last-time');
  });
});

describe('mullet chain halving', () => {
  it('estimates from block 840,000 at its real time', async () => {
    const r = await run(['chain', 'halving', '--height', '840000', '--from', '2024-04-20T00:09:27Z', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      height: 840000,
      nextHalvingHeight: 1050000,
      blocksLeft: 210000,
      blockTimeS: 600,
      fromUtc: '2024-04-20T00:09:27.000Z',
      estimatedAtUtc: '2028-04-17T08:09:27.000Z',
      daysLeft: 210000 / 144,
      subsidyNowBtc: 3.125,
      subsidyAfterBtc: 1.5625,
      expectedTipHeight: 840000,
      warning: null,
    });
    expect(r.err).toBe('');
  });

  it('warns when the height cannot be the tip at the given time (or at the wall clock without --from)', async () => {
    // Block 840,000 was mined in April 2024: as "the tip" in May 2026 it is ~108,000 blocks behind.
    const r = await run(['chain', 'halving', '--height', '840000', '--from', '2026-05-01T00:00:00Z', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { warning: string | null; expectedTipHeight: number };
    expect(j.expectedTipHeight).toBe(840000 + Math.floor((Date.parse('2026-05-01T00:00:00Z') - Date.parse('2024-04-20T00:09:27Z')) / 600_000));
    expect(j.warning).toMatch(/^height 840000 is [\d,]+ blocks \(~\d+ days\) behind the expected tip at 2026-05-01T00:00:00.000Z/);
    expect(r.err).toMatch(/^warning: height 840000 is/);
    const now = await run(['chain', 'halving', '--height', '100000']);
    expect(now.err).toMatch(/behind the expected tip .*the current time \(no --from\): give the time the chain was at that height with --from/);
    // Within tolerance (a week off in 2020): no warning.
    const close = await run(['chain', 'halving', '--height', '630000', '--from', '2020-05-18T00:00:00Z']);
    expect(close.err).toBe('');
  });

  it('expected tips follow the halving anchors', () => {
    expect(expectedTipHeight(Date.parse('2016-07-09T16:46:13Z')).height).toBe(420000);
    const mid = expectedTipHeight(Date.parse('2018-06-09T00:00:00Z'));
    expect(mid.height).toBeGreaterThan(520000);
    expect(mid.height).toBeLessThan(530000);
    expect(expectedTipHeight(Date.parse('2008-01-01T00:00:00Z')).height).toBe(0);
  });

  it('accepts unix seconds and a block time; prints a human line', async () => {
    // 1,800,000,000 s = 2027-01-15T08:00:00Z; + 144 × 500 s = 20 h
    const r = await run(['chain', 'halving', '--height', '1049856', '--from', '1800000000', '--block-time-s', '500']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('next halving at height 1050000 in 144 blocks: ~2027-01-16T04:00:00.000Z');
  });

  it.each([['2024-02-30'], ['2024-04-20T00:00'], ['yesterday'], ['2024-04-20T25:00Z']])('bad --from %s → exit 2', async (from) => {
    const r = await run(['chain', 'halving', '--height', '1', '--from', from]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--from');
  });

  it('rejects a non-positive block time and a negative height', async () => {
    expect((await run(['chain', 'halving', '--height', '1', '--from', '0', '--block-time-s', '0'])).code).toBe(2);
    expect((await run(['chain', 'halving', '--height=-1', '--from', '0'])).code).toBe(2);
  });
});
