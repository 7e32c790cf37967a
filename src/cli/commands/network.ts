import path from 'node:path';
import { badInput } from '../../core/errors.js';
import { MS_PER_DAY, parseUtcDate, utcDate } from '../../core/time.js';
import { latestDifficulty } from '../../market/scenario/calibrate.js';
import { DEFAULT_SCENARIO_PARAMS } from '../../market/scenario/defaults.js';
import { networkWhatIf, type WhatIfInput } from '../../planner/whatif.js';
import { need, opt, type CommandSpec } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';
import { openExistingStore } from '../store-open.js';

interface StartState {
  dateUtc: string;
  difficulty: number;
  height: number;
  btcPriceUsd: number;
  feesBtcPerBlock: number;
  source: string;
}

/** The network on `from` from the store: last difficulty, height (extrapolated at 144/day), price and median fees of the 30 days before. */
async function stateFromStore(file: string, io: Parameters<CommandSpec['run']>[1], from: string | undefined): Promise<StartState> {
  const store = await openExistingStore(path.resolve(io.cwd, file));
  try {
    const cov = store.coverage({ topGaps: 0 }).find((c) => c.key.kind === 'btc' && c.key.field === 'priceUsd');
    const to = from ?? (cov ? utcDate(cov.lastMs) : undefined);
    if (to === undefined) throw badInput('the database has no BTC prices; import btc_price_daily.csv or omit --db', '--db');
    const days = store.btcDays('2009-01-03', to);
    const diff = latestDifficulty(store.epochs(), days, to);
    const withHeight = [...days].reverse().find((d) => d.heightEndOfDay !== undefined);
    const withPrice = [...days].reverse().find((d) => d.priceUsd !== undefined);
    if (!diff || !withHeight?.heightEndOfDay || !withPrice?.priceUsd) throw badInput(`the database lacks difficulty, height or price on or before ${to}`, '--db');
    const height = withHeight.heightEndOfDay + Math.round(((parseUtcDate(to) - parseUtcDate(withHeight.dateUtc)) / MS_PER_DAY) * 144);
    const recent = days.slice(-30).filter((d) => d.feesBtc !== undefined && d.blocks !== undefined && d.blocks > 0).map((d) => (d.feesBtc as number) / (d.blocks as number)).sort((a, b) => a - b);
    const fees = recent.length ? (recent[Math.floor(recent.length / 2)] as number) : DEFAULT_SCENARIO_PARAMS.btc.feesPerBlock.medianBtc;
    return { dateUtc: to, difficulty: diff.difficulty, height, btcPriceUsd: withPrice.priceUsd, feesBtcPerBlock: fees, source: `store ${file}: difficulty of ${diff.dateUtc}, height of ${withHeight.dateUtc}, price of ${withPrice.dateUtc}` };
  } finally {
    store.close();
  }
}

function stateFromDefaults(from: string | undefined): StartState {
  const s = DEFAULT_SCENARIO_PARAMS.btc.start;
  const date = from ?? utcDate(parseUtcDate(s.dateUtc) + MS_PER_DAY);
  const days = Math.round((parseUtcDate(date) - parseUtcDate(s.dateUtc)) / MS_PER_DAY);
  return {
    dateUtc: date,
    difficulty: s.difficulty,
    height: Math.max(0, s.heightEndOfDay + 144 * days),
    btcPriceUsd: s.priceUsd,
    feesBtcPerBlock: s.feesBtcPerBlock,
    source: `built-in state of ${s.dateUtc} (height moved ${days} days at 144 blocks/day); pass --db for real data`,
  };
}

const whatIf: CommandSpec = {
  path: ['network', 'what-if'],
  summary: 'block times, difficulty and hashprice for the miners who stay if X EH/s leaves mining (exact retarget rule)',
  description:
    'The exit is linear over --over-days (0 = all at once). Simulated day by day against a baseline where nobody\n' +
    'leaves; difficulty changes only at 2016-block boundaries by Bitcoin Core\'s rule. BTC price and fees are held.',
  options: {
    'exit-ehs': { type: 'number', value: 'X', unit: 'EH/s', description: 'hashrate that leaves mining', required: true },
    'over-days': { type: 'number', value: 'D', unit: 'days', description: 'days over which it leaves (linearly)', required: true },
    from: { type: 'string', value: 'YYYY-MM-DD', unit: 'UTC date', description: 'start date (default: last day in --db, else the built-in state)' },
    days: { type: 'int', value: 'N', unit: 'days', description: 'days to simulate (default: over-days + 45)' },
    db: { type: 'string', value: 'FILE', description: 'market database for the starting network state', env: 'MULLET_DB' },
    'hashrate-ehs': { type: 'number', value: 'H', unit: 'EH/s', description: 'network hashrate before the exit (default: 600-second blocks at the difficulty)' },
  },
  json: true,
  examples: ['mullet network what-if --exit-ehs 100 --over-days 30', 'mullet network what-if --exit-ehs 150 --over-days 90 --db mullet.db --from 2025-03-01 --json'],
  async run(args, io) {
    const exitEhs = need(opt.num(args, 'exit-ehs'), 'exit-ehs');
    if (exitEhs < 0) throw badInput(`must be >= 0, got ${exitEhs}`, '--exit-ehs');
    const overDays = need(opt.num(args, 'over-days'), 'over-days');
    if (overDays < 0 || overDays > 3650) throw badInput(`must be between 0 and 3650, got ${overDays}`, '--over-days');
    const from = opt.str(args, 'from');
    if (from !== undefined) {
      try {
        parseUtcDate(from);
      } catch (err) {
        throw badInput((err as Error).message, '--from');
      }
    }
    const days = opt.num(args, 'days') ?? Math.ceil(overDays) + 45;
    if (days < 1 || days > 3650) throw badInput(`must be between 1 and 3650, got ${days}`, '--days');
    const dbFile = opt.str(args, 'db');
    const state = dbFile !== undefined ? await stateFromStore(dbFile, io, from) : stateFromDefaults(from);
    const hashrate = opt.num(args, 'hashrate-ehs');
    if (hashrate !== undefined && hashrate <= 0) throw badInput(`must be > 0, got ${hashrate}`, '--hashrate-ehs');
    const input: WhatIfInput = {
      startMs: parseUtcDate(state.dateUtc),
      difficulty: state.difficulty,
      height: state.height,
      exitEhs,
      overDays,
      days,
      btcPriceUsd: state.btcPriceUsd,
      feesBtcPerBlock: state.feesBtcPerBlock,
      ...(hashrate !== undefined ? { hashrateHs: hashrate * 1e18 } : {}),
    };
    let r;
    try {
      r = networkWhatIf(input);
    } catch (err) {
      if (err instanceof RangeError) throw badInput(err.message, '--exit-ehs');
      throw err;
    }
    if (opt.bool(args, 'json')) {
      printJson(io, { ...r, startState: state });
      return;
    }
    const s = r.summary;
    const lines = [
      `start ${r.start.dateUtc}: height ${r.start.height}, difficulty ${fmt(r.start.difficulty / 1e12)} T, ${fmt(r.start.hashrateEhs, 1)} EH/s, hashprice ${fmt(r.start.hashpriceUsdPerPhDay)} USD/PH/day (${state.source})`,
      `${fmt(exitEhs, 1)} EH/s leave over ${fmt(overDays, 0)} days; BTC ${fmt(state.btcPriceUsd, 0)} USD and ${fmt(state.feesBtcPerBlock, 4)} BTC fees per block held`,
      `slowest day: ${fmt(s.maxBlockTimeS, 0)} s per block; first retarget ${s.firstRetargetDate ?? 'not within the period'}; ${fmt(s.blocksLostVsBaseline, 0)} fewer blocks than without the exit`,
      `difficulty ${fmt(s.difficultyChangePct, 2)} %; hashprice for those who stay ${fmt(s.stayerHashpriceChangePct, 2)} % vs the start, ${fmt(s.stayerHashpriceVsBaselinePct, 2)} % vs no exit`,
      '',
      r.retargets.length
        ? formatTable(
            ['retarget (UTC day)', 'window start height', 'difficulty before (T)', 'after (T)', 'change (%)'],
            r.retargets.map((x) => [x.dateUtc, x.height, fmt(x.difficultyBefore / 1e12), fmt(x.difficultyAfter / 1e12), fmt(x.changePct, 2)]),
          )
        : 'no retarget within the period\n',
    ];
    io.stdout(lines.join('\n'));
  },
};

export const networkCommands: readonly CommandSpec[] = [whatIf];
