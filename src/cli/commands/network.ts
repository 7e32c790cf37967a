import { badInput } from '../../core/errors.js';
import { MS_PER_DAY, parseUtcDate, utcDate } from '../../core/time.js';
import { DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT, HEIGHT_REBUILD_MAX_DAYS } from '../../market/hashprice-inputs.js';
import { lastCompleteDay, measuredNetworkState } from '../../market/network-state.js';
import { DEFAULT_SCENARIO_PARAMS } from '../../scenario/defaults.js';
import { equilibriumHashrateHs } from '../../planner/network.js';
import { compareWithHistory, linearExit, networkWhatIf, type ExitPoint, type HistoryComparison, type RealEpoch, type WhatIfInput } from '../../planner/whatif.js';
import type { MarketStore } from '../../market/store-port.js';
import { need, opt, type CliIo, type CommandSpec, type ParsedArgs } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';
import { openExistingStore, resolveStoreLocation } from '../store-open.js';
import { LIMITS } from '../../core/limits.js';
import { readFlagFile } from '../flag-file.js';

/** The network at 00:00 UTC of `dateUtc`, each input with where it came from. */
interface StartState {
  dateUtc: string;
  difficulty: number;
  height: number;
  hashrateHs: number;
  windowStartMs?: number;
  btcPriceUsd: number;
  feesBtcPerBlock: number;
  /** Input → where its value came from. */
  sources: { difficulty: string; height: string; hashrate: string; windowStart: string; btcPrice: string; fees: string };
  /** Inputs that fell back to a default (named). */
  defaults: string[];
  warnings: string[];
  source: string;
}

function dateFlag(value: string, flag: string): string {
  try {
    parseUtcDate(value);
  } catch (err) {
    throw badInput((err as Error).message, flag);
  }
  return value;
}

/**
 * The measured state from the store: on --from, else at the start of the day after the last day
 * whose inputs were all observed (so a price is never paired with an older difficulty or height).
 */
async function stateFromStore(store: MarketStore, file: string, from: string | undefined): Promise<StartState> {
  let date = from;
  if (date === undefined) {
    const last = lastCompleteDay(await store.btcDays('2009-01-03', '2200-01-01'));
    if (last === undefined) throw badInput('the database has no day with price, fees, block count, difficulty and height; import the Bitcoin files or pass --from', '--db');
    date = utcDate(parseUtcDate(last) + MS_PER_DAY);
  }
  const rows = await store.btcDays('2009-01-03', utcDate(parseUtcDate(date) + HEIGHT_REBUILD_MAX_DAYS * MS_PER_DAY));
  const m = measuredNetworkState(rows, await store.epochs(), date, { feeShareOfSubsidyPct: DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT });
  return {
    dateUtc: date,
    difficulty: m.difficulty,
    height: m.height,
    hashrateHs: m.hashrateHs,
    ...(m.windowStartMs === undefined ? {} : { windowStartMs: m.windowStartMs }),
    btcPriceUsd: m.btcPriceUsd,
    feesBtcPerBlock: m.feesBtcPerBlock,
    sources: { difficulty: m.difficultyHow, height: m.heightHow, hashrate: m.hashrateHow, windowStart: m.windowStartHow, btcPrice: m.priceHow, fees: m.feesHow },
    defaults: m.defaults,
    warnings: m.warnings,
    source: `store ${file}, measured at 00:00 UTC ${date}${from === undefined ? ' (the day after the last day with every input observed)' : ''}`,
  };
}

function stateFromDefaults(from: string | undefined): StartState {
  const s = DEFAULT_SCENARIO_PARAMS.btc.start;
  const date = from ?? utcDate(parseUtcDate(s.dateUtc) + MS_PER_DAY);
  const days = Math.round((parseUtcDate(date) - parseUtcDate(s.dateUtc)) / MS_PER_DAY) - 1;
  const height = Math.max(0, s.heightEndOfDay + 144 * days);
  const warnings = Math.abs(days) > 1 ? [`height ${height.toLocaleString('en-US')} is the built-in state's moved ${days} days at 144 blocks/day: pass --db for real data`] : [];
  const hashrateHs = equilibriumHashrateHs(s.difficulty);
  const builtIn = `built-in state of ${s.dateUtc} (DEFAULT; pass --db for measured data)`;
  return {
    dateUtc: date,
    difficulty: s.difficulty,
    height,
    hashrateHs,
    btcPriceUsd: s.priceUsd,
    feesBtcPerBlock: s.feesBtcPerBlock,
    sources: { difficulty: builtIn, height: `${builtIn}, moved ${days} days at 144 blocks/day`, hashrate: '600-second blocks at the difficulty (DEFAULT)', windowStart: 'assumed on schedule', btcPrice: builtIn, fees: builtIn },
    defaults: [`every input: ${builtIn}`],
    warnings,
    source: `built-in state of ${s.dateUtc} (height moved ${days} days at 144 blocks/day); pass --db for real data`,
  };
}

/** `DATE:EHS,DATE:EHS,...` → points (days after `start`). */
function parseProfileFlag(text: string, start: string): ExitPoint[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw badInput('expected DATE:EH/s pairs, e.g. 2022-12-23:0,2022-12-24:90,2022-12-25:0', '--exit-profile');
  return parts.map((p) => {
    const [d, v] = p.split(':');
    const ehs = Number(v);
    if (d === undefined || v === undefined || v.trim() === '' || !Number.isFinite(ehs) || ehs < 0 || ehs > LIMITS.networkEhs) {
      throw badInput(`expected DATE:EH/s, got '${p}' (EH/s within 0..${LIMITS.networkEhs.toLocaleString('en-US')})`, '--exit-profile');
    }
    return { dayOffset: offsetOf(dateFlag(d.trim(), '--exit-profile'), start, '--exit-profile'), exitEhs: ehs };
  });
}

/** A CSV `date_utc,exit_ehs` (header, then one row per date) → points. */
function parseProfileCsv(text: string, file: string, start: string): ExitPoint[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((c) => c.trim());
  if (header[0] !== 'date_utc' || header[1] !== 'exit_ehs') throw badInput(`expected the header 'date_utc,exit_ehs', got '${lines[0] ?? ''}'`, `${file}:1`);
  const points = lines.slice(1).map((line, i) => {
    const [d, v] = line.split(',').map((c) => c.trim());
    const where = `${file}:${i + 2}`;
    const ehs = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(ehs) || ehs < 0 || ehs > LIMITS.networkEhs) {
      throw badInput(`expected EH/s within 0..${LIMITS.networkEhs.toLocaleString('en-US')} in the second column, got '${v ?? ''}'`, where);
    }
    return { dayOffset: offsetOf(dateFlag(d ?? '', where), start, where), exitEhs: ehs };
  });
  if (points.length === 0) throw badInput('no rows after the header', file);
  return points;
}

function offsetOf(date: string, start: string, where: string): number {
  const days = Math.round((parseUtcDate(date) - parseUtcDate(start)) / MS_PER_DAY);
  if (days < 0) throw badInput(`${date} is before the start (${start}); the exit before the start is already in the measured hashrate`, where);
  return days;
}

function checkOrdered(points: ExitPoint[], where: string): ExitPoint[] {
  for (let k = 1; k < points.length; k++) if ((points[k] as ExitPoint).dayOffset < (points[k - 1] as ExitPoint).dayOffset) throw badInput(`dates must be in order (point ${k + 1})`, where);
  return points;
}

/** Real epochs (the one in force at the start and those after) and daily blocks over the simulated days. */
async function history(store: MarketStore, start: string, days: number): Promise<{ epochs: RealEpoch[]; blocks: Map<string, number> }> {
  const end = utcDate(parseUtcDate(start) + (days + 1) * MS_PER_DAY);
  const all = await store.epochs();
  const before = all.filter((e) => e.startDateUtc <= start).pop();
  const epochs = [...(before ? [before] : []), ...all.filter((e) => e.startDateUtc > start && e.startDateUtc <= end)].map((e) => ({ firstFullDayUtc: e.startDateUtc, difficulty: e.difficulty }));
  const blocks = new Map<string, number>();
  for (const d of await store.btcDays(start, end)) if (d.blocks !== undefined) blocks.set(d.dateUtc, d.blocks);
  return { epochs, blocks };
}

function historyLines(h: HistoryComparison): string[] {
  const rows = h.epochs.map((e) => [
    e.n,
    e.simulated?.dateUtc ?? '—',
    e.simulated ? fmt(e.simulated.changePct, 2) : '—',
    e.real?.retargetDayUtc ?? '—',
    e.real ? fmt(e.real.changePct, 2) : '—',
    e.dayDifference ?? '—',
    e.changeDifferencePctPoints === null ? '—' : fmt(e.changeDifferencePctPoints, 2),
  ]);
  return [
    '',
    'against history (the store): retarget by retarget',
    formatTable(['#', 'simulated day (UTC)', 'simulated change (%)', 'real day (UTC, ±1)', 'real change (%)', 'day difference (d)', 'change difference (pp)'], rows),
    `blocks over ${h.blocks.days} days with real counts: simulated ${fmt(h.blocks.simulated, 0)}, real ${fmt(h.blocks.real, 0)}` +
      (h.endDifficultyDifferencePct === null ? '' : `; difficulty at the end ${fmt(h.endDifficultyDifferencePct, 2)} % vs the real one`),
    '',
  ];
}


/** The exit profile from the flags: exactly one of --exit-ehs (with --over-days), --exit-profile, --exit-profile-csv. */
async function exitProfile(args: ParsedArgs, io: CliIo, start: string): Promise<{ points: ExitPoint[]; describe: string; tailDays: number }> {
  const given = (['exit-ehs', 'exit-profile', 'exit-profile-csv'] as const).filter((f) => args.options[f] !== undefined);
  if (given.length !== 1) throw badInput(given.length === 0 ? 'give --exit-ehs with --over-days, --exit-profile or --exit-profile-csv' : `give only one of ${given.map((f) => `--${f}`).join(', ')}`, `--${given[1] ?? 'exit-ehs'}`);
  if (given[0] === 'exit-ehs') {
    const exitEhs = need(opt.num(args, 'exit-ehs'), 'exit-ehs');
    const overDays = need(opt.num(args, 'over-days'), 'over-days');
    return { points: linearExit(exitEhs, overDays), describe: `${fmt(exitEhs, 1)} EH/s leave over ${fmt(overDays, 0)} days`, tailDays: Math.ceil(overDays) };
  }
  if (args.options['over-days'] !== undefined) throw badInput('goes with --exit-ehs only (a profile gives its own dates)', '--over-days');
  const points =
    given[0] === 'exit-profile'
      ? checkOrdered(parseProfileFlag(need(opt.str(args, 'exit-profile'), 'exit-profile'), start), '--exit-profile')
      : checkOrdered(parseProfileCsv(await readFlagFile(io, need(opt.str(args, 'exit-profile-csv'), 'exit-profile-csv'), '--exit-profile-csv'), need(opt.str(args, 'exit-profile-csv'), 'exit-profile-csv'), start), '--exit-profile-csv');
  const describe = `exit profile (EH/s gone, linear between dates): ${points.map((p) => `${utcDate(parseUtcDate(start) + p.dayOffset * MS_PER_DAY)} ${fmt(p.exitEhs, 1)}`).join(', ')}`;
  return { points, describe, tailDays: (points[points.length - 1] as ExitPoint).dayOffset };
}

/** First date of a profile given as a flag or file, for the default start. */
async function profileStart(args: ParsedArgs, io: CliIo): Promise<string | undefined> {
  const flag = opt.str(args, 'exit-profile');
  if (flag !== undefined) return dateFlag((flag.split(',')[0] ?? '').split(':')[0]?.trim() ?? '', '--exit-profile');
  const file = opt.str(args, 'exit-profile-csv');
  if (file !== undefined) {
    const second = (await readFlagFile(io, file, '--exit-profile-csv')).split(/\r?\n/)[1] ?? '';
    return dateFlag(second.split(',')[0]?.trim() ?? '', `${file}:2`);
  }
  return undefined;
}

const whatIf: CommandSpec = {
  path: ['network', 'what-if'],
  summary: 'block times, difficulty and hashprice for the miners who stay if hashrate leaves mining, permanently or for a while (exact retarget rule)',
  description:
    'The exit is --exit-ehs X over --over-days D (linear, permanent), or a profile of EH/s gone by date (--exit-profile\n' +
    '2022-12-23:0,2022-12-24:90,2022-12-26:0 or --exit-profile-csv with date_utc,exit_ehs): linear between dates, held\n' +
    'after the last, so an exit can return; negative = hashrate joining. Simulated day by day against a baseline where\n' +
    'nobody leaves; difficulty changes only at 2016-block boundaries by Bitcoin Core\'s rule. BTC price and fees are held.\n' +
    'With --db the start is MEASURED at 00:00 UTC of --from: hashrate = blocks found × difficulty over the 14 days before,\n' +
    'height, the current window\'s start, and the day before\'s price and fees; without --from, the day after the last day\n' +
    'with every input observed. --history prints the real retargets of the simulated period next to the simulated ones.',
  options: {
    'exit-ehs': { type: 'number', min: 0, max: LIMITS.networkEhs, value: 'X', unit: 'EH/s', description: 'hashrate that leaves mining (with --over-days)' },
    'over-days': { type: 'number', min: 0, max: 3650, value: 'D', unit: 'days', description: 'days over which it leaves (linearly; 0 = at once)' },
    'exit-profile': { type: 'string', value: 'DATE:EHS,...', unit: 'EH/s', description: 'hashrate gone by UTC date, linear between dates (temporary exits return)' },
    'exit-profile-csv': { type: 'string', value: 'FILE', description: 'the same as a CSV: header date_utc,exit_ehs' },
    from: { type: 'string', value: 'YYYY-MM-DD', unit: 'UTC date', description: 'start (00:00 UTC); default: the first profile date, else the day after the last complete day in --db, else the built-in state' },
    days: { type: 'int', min: 1, max: 3650, value: 'N', unit: 'days', description: 'days to simulate (default: the exit\'s last day + 45)' },
    db: { type: 'string', value: 'FILE', description: 'market database for the measured starting state', env: 'MULLET_DB' },
    'hashrate-ehs': { type: 'number', gt: 0, max: LIMITS.networkEhs, value: 'H', unit: 'EH/s', description: 'network hashrate before the exit (default: measured with --db, else 600-second blocks at the difficulty)' },
    'btc-usd': { type: 'number', gt: 0, max: LIMITS.btcPriceUsd, value: 'X', unit: 'USD/BTC', description: 'BTC price held over the period (default: the store\'s)' },
    'fees-btc-per-block': { type: 'number', min: 0, max: 10_000, value: 'X', unit: 'BTC/block', description: 'fees per block held over the period (default: the store\'s day before)' },
    history: { type: 'boolean', description: 'with --db: compare the simulated retargets and blocks with the real ones of the period' },
  },
  json: true,
  examples: [
    'mullet network what-if --exit-ehs 100 --over-days 30',
    'mullet network what-if --exit-ehs 150 --over-days 90 --db mullet.db --from 2025-03-01 --json',
    'mullet network what-if --db mullet.db --exit-profile 2022-12-23:0,2022-12-24:90,2022-12-25:0 --from 2022-12-20 --history',
  ],
  async run(args, io) {
    let from = opt.str(args, 'from');
    if (from !== undefined) dateFlag(from, '--from');
    from ??= await profileStart(args, io);
    const dbFile = opt.str(args, 'db');
    if (opt.bool(args, 'history') && dbFile === undefined) throw badInput('needs --db (the real retargets come from the store)', '--history');
    const store = dbFile !== undefined ? await openExistingStore(resolveStoreLocation(io.cwd, dbFile)) : undefined;
    try {
      const state = store && dbFile !== undefined ? await stateFromStore(store, dbFile, from) : stateFromDefaults(from);
      const profile = await exitProfile(args, io, state.dateUtc);
      const days = opt.num(args, 'days') ?? profile.tailDays + 45;
      if (days < 1 || days > 3650) throw badInput(`must be between 1 and 3650, got ${days}`, '--days');
      const hashrate = opt.num(args, 'hashrate-ehs');
      const price = opt.num(args, 'btc-usd');
      const fees = opt.num(args, 'fees-btc-per-block');
      if (hashrate !== undefined) state.sources.hashrate = '--hashrate-ehs';
      if (price !== undefined) state.sources.btcPrice = '--btc-usd';
      if (fees !== undefined) {
        state.sources.fees = '--fees-btc-per-block';
        state.defaults = state.defaults.filter((d) => !d.startsWith('fees:'));
      }
      const input: WhatIfInput = {
        startMs: parseUtcDate(state.dateUtc),
        difficulty: state.difficulty,
        height: state.height,
        hashrateHs: hashrate !== undefined ? hashrate * 1e18 : state.hashrateHs,
        ...(state.windowStartMs !== undefined ? { windowStartMs: state.windowStartMs } : {}),
        exit: profile.points,
        days,
        btcPriceUsd: price ?? state.btcPriceUsd,
        feesBtcPerBlock: fees ?? state.feesBtcPerBlock,
      };
      let r;
      try {
        r = networkWhatIf(input);
      } catch (err) {
        if (err instanceof RangeError) throw badInput(err.message, `--${(['exit-ehs', 'exit-profile', 'exit-profile-csv'] as const).find((f) => args.options[f] !== undefined) ?? 'exit-ehs'}`);
        throw err;
      }
      let hist: HistoryComparison | undefined;
      if (opt.bool(args, 'history') && store) {
        const real = await history(store, state.dateUtc, days);
        hist = compareWithHistory(r, real.epochs, real.blocks);
      }
      for (const w of state.warnings) io.stderr(`warning: ${w}\n`);
      if (opt.bool(args, 'json')) {
        printJson(io, { ...r, startState: { ...state, btcPriceUsd: input.btcPriceUsd, feesBtcPerBlock: input.feesBtcPerBlock, hashrateHs: input.hashrateHs }, ...(hist ? { history: hist } : {}) });
        return;
      }
      const s = r.summary;
      const lines = [
        `start ${r.start.dateUtc} 00:00 UTC: height ${r.start.height.toLocaleString('en-US')}, difficulty ${fmt(r.start.difficulty / 1e12)} T, ${fmt(r.start.hashrateEhs, 1)} EH/s, hashprice ${fmt(r.start.hashpriceUsdPerPhDay)} USD/PH/day (${state.source})`,
        `  hashrate: ${state.sources.hashrate}`,
        `  height: ${state.sources.height}; window start: ${state.sources.windowStart}`,
        `  difficulty: ${state.sources.difficulty}`,
        `${profile.describe}; BTC ${fmt(input.btcPriceUsd, 0)} USD (${state.sources.btcPrice}) and ${fmt(input.feesBtcPerBlock, 4)} BTC fees per block (${state.sources.fees}) held`,
        ...state.defaults.map((d) => `default: ${d}`),
        `slowest day: ${fmt(s.maxBlockTimeS, 0)} s per block; first retarget ${s.firstRetargetDate ?? 'not within the period'}; ${fmt(s.blocksLostVsBaseline, 0)} fewer blocks than without the exit`,
        `difficulty ${fmt(s.difficultyChangePct, 2)} %; hashprice for those who stay ${fmt(s.stayerHashpriceChangePct, 2)} % vs the start, ${fmt(s.stayerHashpriceVsBaselinePct, 2)} % vs no exit`,
        '',
        r.retargets.length
          ? formatTable(
              ['retarget (UTC day)', 'window start height', 'difficulty before (T)', 'after (T)', 'change (%)'],
              r.retargets.map((x) => [x.dateUtc, x.height, fmt(x.difficultyBefore / 1e12), fmt(x.difficultyAfter / 1e12), fmt(x.changePct, 2)]),
            )
          : 'no retarget within the period\n',
        ...(hist ? historyLines(hist) : []),
      ];
      io.stdout(lines.join('\n'));
    } finally {
      await store?.close();
    }
  },
};

export const networkCommands: readonly CommandSpec[] = [whatIf];
