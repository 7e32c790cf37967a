import { hashprice, type HashpriceInputs } from '../../bitcoin/hashprice.js';
import { blockSubsidyBtc } from '../../bitcoin/subsidy.js';
import { parseUtcDate } from '../../core/time.js';
import { badInput, isMulletError, MulletError } from '../../core/errors.js';
import { DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT, hashpriceInputsForDate, readBtcDayView, type DerivedInput } from '../../market/hashprice-inputs.js';
import type { MarketStore } from '../../market/store-port.js';
import { opt, need, type CommandSpec } from '../command.js';
import { fmt, printJson } from '../output.js';
import { DB_OPTION, openExistingStore, resolveStoreLocation } from '../store-open.js';
import { LIMITS } from '../../core/limits.js';

/** What the --date path needs from a store; tests inject a fake. */
export type HashpriceStore = Pick<MarketStore, 'btcDays' | 'close'>;
export type OpenStore = (file: string) => Promise<HashpriceStore>;

const openSqliteStore: OpenStore = openExistingStore;

const EXPLICIT = ['btc-usd', 'difficulty', 'fees-btc-per-block', 'height'] as const;


/** Shared by `hashprice` and `econ compare`: fees assumed on days the store has none. */
export const FEE_SHARE_OPTION = {
  type: 'number',
  min: 0,
  max: 1000,
  value: 'PCT',
  unit: '% of subsidy',
  description: 'with --date: on a day without fee data (before 2022-12-30 in the shared data), assume fees per block = PCT % of the subsidy, and say so',
} as const;

export function feeShareOption(args: Parameters<CommandSpec['run']>[0]): number | undefined {
  return opt.num(args, 'fee-share-of-subsidy-pct');
}

/** Runs a store read; a day without fees gets a hint to the assumption flag. */
export function readInputs<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (isMulletError(err) && err.code === 'NO_DATA' && err.message.includes('(feesBtc)')) {
      const hint = `; or assume fees with --fee-share-of-subsidy-pct (e.g. ${DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT}, the planner's default)`;
      throw new MulletError('NO_DATA', err.message + hint, { ...(err.where === undefined ? {} : { where: err.where }), cause: err });
    }
    throw err;
  }
}

/** The `mullet hashprice` command; `openStore` is replaceable for tests. */
export function makeHashpriceCommand(openStore: OpenStore = openSqliteStore): CommandSpec {
  return {
    path: ['hashprice'],
    summary: 'hashprice (USD and BTC per PH/s per day) from explicit inputs or a day in the market store',
    description:
      'HP = (subsidy + fees per block) × BTC price × 1e15 × 86400 / (difficulty × 2^32).\n' +
      'Give all of --btc-usd, --difficulty, --fees-btc-per-block and --height (subsidy from height),\n' +
      'or --date to read that UTC day from the market store (--db).',
    options: {
      'btc-usd': { type: 'number', min: 0, max: LIMITS.btcPriceUsd, value: 'X', unit: 'USD/BTC', description: 'BTC price' },
      difficulty: { type: 'number', gt: 0, max: LIMITS.difficulty, value: 'X', description: 'network difficulty (e.g. 86388558925171)' },
      'fees-btc-per-block': { type: 'number', min: 0, max: 10_000, value: 'X', unit: 'BTC/block', description: 'average transaction fees per block' },
      height: { type: 'int', min: 0, max: LIMITS.blockHeight, value: 'N', unit: 'blocks', description: 'block height; sets the subsidy' },
      date: { type: 'string', value: 'YYYY-MM-DD', description: 'UTC day to read all inputs from the market store' },
      'fee-share-of-subsidy-pct': FEE_SHARE_OPTION,
      db: { ...DB_OPTION, description: 'market store (SQLite file or postgres:// URL) for --date' },
    },
    json: true,
    examples: [
      'mullet hashprice --btc-usd 64000 --difficulty 86388558925171 --fees-btc-per-block 0 --height 840000',
      'mullet hashprice --date 2025-11-22 --db mullet.db --json',
    ],
    async run(args, io) {
      const date = opt.str(args, 'date');
      let inputs: HashpriceInputs & { height: number };
      let fromStore: Record<string, unknown> = {};
      let derived: DerivedInput[] = [];
      let warnings: string[] = [];
      if (date !== undefined) {
        const given = EXPLICIT.filter((f) => args.options[f] !== undefined);
        if (given.length > 0) throw badInput(`use either --date or explicit inputs, not both (also given: ${given.map((f) => `--${f}`).join(', ')})`, '--date');
        try {
          parseUtcDate(date);
        } catch (err) {
          throw badInput(err instanceof Error ? err.message : String(err), '--date', err);
        }
        const file = resolveStoreLocation(io.cwd, need(opt.str(args, 'db'), 'db'));
        const feeShare = feeShareOption(args);
        const store = await openStore(file);
        try {
          const btcView = await readBtcDayView(store, date, date);
          const r = readInputs(() => hashpriceInputsForDate(btcView, date, feeShare === undefined ? {} : { feeShareOfSubsidyPct: feeShare }));
          inputs = r;
          derived = r.derived;
          warnings = r.warnings;
          fromStore = {
            date: r.dateUtc,
            db: file,
            heightDateUtc: r.heightDateUtc,
            difficultyDateUtc: r.difficultyDateUtc,
            feesBtc: r.feesBtc,
            blocks: r.blocks,
            derived: r.derived,
            warnings: r.warnings,
          };
        } finally {
          await store.close();
        }
      } else {
        if (args.options['fee-share-of-subsidy-pct'] !== undefined) throw badInput('applies to --date only (give --fees-btc-per-block with explicit inputs)', '--fee-share-of-subsidy-pct');
        const missing = EXPLICIT.filter((f) => args.options[f] === undefined);
        if (missing.length > 0) {
          throw badInput(`give --date, or all of --btc-usd, --difficulty, --fees-btc-per-block, --height (missing: ${missing.map((f) => `--${f}`).join(', ')})`, `--${missing[0] ?? 'date'}`);
        }
        const height = need(opt.num(args, 'height'), 'height');
        inputs = {
          btcPriceUsd: need(opt.num(args, 'btc-usd'), 'btc-usd'),
          difficulty: need(opt.num(args, 'difficulty'), 'difficulty'),
          feesBtcPerBlock: need(opt.num(args, 'fees-btc-per-block'), 'fees-btc-per-block'),
          height,
          subsidyBtc: blockSubsidyBtc(height),
        };
      }
      const hp = hashprice(inputs);
      const result = {
        hashpriceUsdPerPhDay: hp.hashpriceUsdPerPhDay,
        hashpriceBtcPerPhDay: hp.hashpriceBtcPerPhDay,
        btcPriceUsd: inputs.btcPriceUsd,
        difficulty: inputs.difficulty,
        feesBtcPerBlock: inputs.feesBtcPerBlock,
        height: inputs.height,
        subsidyBtc: inputs.subsidyBtc,
        blocksPerPhDay: hp.blocksPerPhDay,
        source: date === undefined ? 'flags' : 'store',
        ...fromStore,
      };
      if (opt.bool(args, 'json')) {
        printJson(io, result);
      } else {
        io.stdout(
          `${date === undefined ? 'hashprice' : `hashprice ${date}`} $${fmt(hp.hashpriceUsdPerPhDay)}/PH/day (${hp.hashpriceBtcPerPhDay.toPrecision(6)} BTC/PH/day)\n` +
            `  BTC $${fmt(inputs.btcPriceUsd)} · difficulty ${fmt(inputs.difficulty / 1e12)} T · ` +
            `subsidy ${inputs.subsidyBtc} BTC (height ${inputs.height}) + fees ${fmt(inputs.feesBtcPerBlock, 4)} BTC/block\n` +
            derived.map((d) => `  derived ${d.input}: ${d.how}\n`).join(''),
        );
        for (const w of warnings) io.stderr(`warning: ${w}\n`);
      }
    },
  };
}

export const hashpriceCommands: readonly CommandSpec[] = [makeHashpriceCommand()];
