import { decodeCompact, formatBits, formatTarget, parseBitsHex } from '../../bitcoin/compact.js';
import { coreGetDifficulty } from '../../bitcoin/difficulty.js';
import { estimateNextHalving, expectedTipHeight, TARGET_BLOCK_TIME_S } from '../../bitcoin/halving.js';
import { calculateNextWorkRequired } from '../../bitcoin/retarget.js';
import { blockSubsidyBtc, blockSubsidySats } from '../../bitcoin/subsidy.js';
import { badInput } from '../../core/errors.js';
import { MS_PER_DAY, parseUtcDate, systemClock } from '../../core/time.js';
import { opt, need, type CommandSpec } from '../command.js';
import { fmt, printJson } from '../output.js';
import { LIMITS } from '../../core/limits.js';

const subsidy: CommandSpec = {
  path: ['chain', 'subsidy'],
  summary: 'block subsidy at a height, in BTC and satoshis (consensus-exact)',
  options: {
    height: { type: 'int', min: 0, max: LIMITS.blockHeight, value: 'N', unit: 'blocks', description: 'block height', required: true },
  },
  json: true,
  examples: ['mullet chain subsidy --height 840000 --json'],
  run(args, io) {
    const height = need(opt.num(args, 'height'), 'height');
    const sats = blockSubsidySats(height);
    const result = { height, subsidySats: Number(sats), subsidyBtc: blockSubsidyBtc(height) };
    if (opt.bool(args, 'json')) printJson(io, result);
    else io.stdout(`height ${height}: subsidy ${result.subsidyBtc} BTC (${result.subsidySats} sats)\n`);
    return Promise.resolve();
  },
};

/** A block header's nTime is a uint32 (the options' bounds): anything else cannot be a real block time. */
function headerTime(args: Parameters<CommandSpec['run']>[0], name: string): number {
  return need(opt.num(args, name), name);
}

const retarget: CommandSpec = {
  path: ['chain', 'retarget'],
  summary: 'next difficulty (compact bits) after a 2016-block window, exactly as Bitcoin Core',
  description:
    'Applies CalculateNextWorkRequired (mainnet): timespan = last − first block time of the window\n' +
    '(2015 intervals, Core\'s off-by-one), clamped to [3.5 days, 8 weeks], target × timespan / 2 weeks,\n' +
    'capped at the proof-of-work limit. Prints the new bits; --json adds difficulty and the timespan.',
  options: {
    bits: { type: 'string', value: 'HEX', description: 'compact bits of the window, hex with or without 0x', required: true },
    'first-time': {
      type: 'int',
      min: 0, max: 0xffffffff,
      value: 'UNIX',
      unit: 'unix seconds',
      description: 'timestamp of the first block of the window (height divisible by 2016)',
      required: true,
    },
    'last-time': {
      type: 'int',
      min: 0, max: 0xffffffff,
      value: 'UNIX',
      unit: 'unix seconds',
      description: 'timestamp of the last block of the window (height ≡ 2015 mod 2016)',
      required: true,
    },
  },
  json: true,
  examples: [
    'mullet chain retarget --bits 1d00ffff --first-time 1261130161 --last-time 1262152739',
    'mullet chain retarget --bits 0x1703255b --first-time 1724855515 --last-time 1726023352 --json',
  ],
  run(args, io) {
    const text = need(opt.str(args, 'bits'), 'bits');
    const bits = parseBitsHex(text);
    if (bits === undefined) throw badInput(`expected compact bits as 1-8 hex digits, e.g. 1d00ffff or 0x1d00ffff; got '${text}'`, '--bits');
    const decoded = decodeCompact(bits);
    if (decoded.negative) throw badInput(`${formatBits(bits)} has the sign bit (0x00800000) set: a negative target no block can have`, '--bits');
    if (decoded.overflow) throw badInput(`${formatBits(bits)} encodes a target above 2^256`, '--bits');
    if (decoded.target === 0n) throw badInput(`${formatBits(bits)} encodes a zero target`, '--bits');
    const firstBlockTimeS = headerTime(args, 'first-time');
    const lastBlockTimeS = headerTime(args, 'last-time');

    const r = calculateNextWorkRequired({ bits, firstBlockTimeS, lastBlockTimeS });
    const previousDifficulty = coreGetDifficulty(bits);
    const difficulty = coreGetDifficulty(r.bits);
    const difficultyChangePct = (difficulty / previousDifficulty - 1) * 100;
    if (opt.bool(args, 'json')) {
      printJson(io, {
        bits: formatBits(r.bits),
        difficulty,
        target: formatTarget(decodeCompact(r.bits).target),
        previousBits: formatBits(bits),
        previousDifficulty,
        difficultyChangePct,
        firstBlockTimeS,
        lastBlockTimeS,
        actualTimespanS: r.actualTimespanS,
        timespanUsedS: r.timespanUsedS,
        clamped: r.clamped,
        cappedAtPowLimit: r.cappedAtPowLimit,
      });
    } else {
      io.stdout(formatBits(r.bits) + '\n');
      const notes = [r.clamped ? `clamped to ${fmt(r.timespanUsedS, 0)} s` : 'not clamped', ...(r.cappedAtPowLimit ? ['capped at the pow limit'] : [])];
      io.stderr(
        `difficulty ${fmt(previousDifficulty)} → ${fmt(difficulty)} (${difficultyChangePct >= 0 ? '+' : ''}${fmt(difficultyChangePct)} %); ` +
          `window took ${fmt(r.actualTimespanS, 0)} s (${notes.join(', ')})\n`,
      );
    }
    return Promise.resolve();
  },
};

/** Unix seconds (all digits) or an ISO date/date-time with an explicit zone; UTC ms out. */
function parseFrom(text: string): number {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const m = /^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(text);
  let ms = NaN;
  if (m?.[1] !== undefined) {
    try {
      // parseUtcDate rejects impossible calendar dates, which Date.parse silently rolls over.
      const dayMs = parseUtcDate(m[1]);
      ms = m[2] === undefined ? dayMs : Date.parse(text);
    } catch {
      ms = NaN;
    }
  }
  if (!Number.isFinite(ms)) {
    throw badInput(`expected unix seconds or an ISO date/time with a zone (2024-04-20, 2024-04-20T00:09:27Z); got '${text}'`, '--from');
  }
  return ms;
}

const halving: CommandSpec = {
  path: ['chain', 'halving'],
  summary: 'next halving height, blocks left and estimated date from a height',
  options: {
    height: { type: 'int', min: 0, max: LIMITS.blockHeight, value: 'N', unit: 'blocks', description: 'current chain height', required: true },
    'block-time-s': {
      type: 'number',
      gt: 0, max: LIMITS.periodS,
      value: 'S',
      unit: 's',
      description: 'average block interval assumed for the estimate',
      default: TARGET_BLOCK_TIME_S,
    },
    from: { type: 'string', value: 'UNIX|ISO', description: 'time at which the chain was at --height (default: now; a warning says when the height cannot be the tip then)' },
  },
  json: true,
  examples: ['mullet chain halving --height 840000 --from 2024-04-20T00:09:27Z', 'mullet chain halving --height 900000 --block-time-s 590 --json'],
  run(args, io) {
    const height = need(opt.num(args, 'height'), 'height');
    const blockTimeS = need(opt.num(args, 'block-time-s'), 'block-time-s');
    const fromText = opt.str(args, 'from');
    const fromMs = fromText === undefined ? systemClock.nowMs() : parseFrom(fromText);
    const e = estimateNextHalving(height, fromMs, blockTimeS);
    const daysLeft = (e.estimatedAtMs - fromMs) / MS_PER_DAY;
    const estimatedAtUtc = new Date(e.estimatedAtMs).toISOString();
    // The estimate takes --height as the tip at --from (the wall clock without it): say when that cannot be.
    const tip = expectedTipHeight(fromMs);
    const off = height - tip.height;
    const warning =
      Math.abs(off) > tip.toleranceBlocks
        ? `height ${height} is ${fmt(Math.abs(off), 0)} blocks (~${fmt((Math.abs(off) * TARGET_BLOCK_TIME_S) / 86_400, 0)} days) ${off > 0 ? 'ahead of' : 'behind'} the expected tip at ${new Date(fromMs).toISOString()} (~${fmt(tip.height, 0)}: ${tip.basis}); ` +
          `the estimate treats --height as the tip at ${fromText === undefined ? 'the current time (no --from)' : '--from'}: give the time the chain was at that height with --from`
        : null;
    if (warning !== null) io.stderr(`warning: ${warning}\n`);
    if (opt.bool(args, 'json')) {
      printJson(io, {
        height,
        nextHalvingHeight: e.nextHalvingHeight,
        blocksLeft: e.blocksLeft,
        blockTimeS,
        fromUtc: new Date(fromMs).toISOString(),
        estimatedAtUtc,
        daysLeft,
        subsidyNowBtc: e.subsidyNowBtc,
        subsidyAfterBtc: e.subsidyAfterBtc,
        expectedTipHeight: tip.height,
        warning,
      });
    } else {
      io.stdout(
        `next halving at height ${e.nextHalvingHeight} in ${fmt(e.blocksLeft, 0)} blocks: ~${estimatedAtUtc} ` +
          `(${fmt(daysLeft, 1)} days at ${blockTimeS} s/block); subsidy ${e.subsidyNowBtc} → ${e.subsidyAfterBtc} BTC\n`,
      );
    }
    return Promise.resolve();
  },
};

export const chainCommands: readonly CommandSpec[] = [subsidy, retarget, halving];
