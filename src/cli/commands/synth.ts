import { existsSync } from 'node:fs';
import path from 'node:path';
import { badInput } from '../../core/errors.js';
import { MS_PER_DAY, parseUtcDate, utcDate } from '../../core/time.js';
import { toParsedBatch } from '../../scenario/batch.js';
import { calibrate, defaultCalibrationWindow } from '../../scenario/calibrate.js';
import { DEFAULT_SCENARIO_PARAMS } from '../../scenario/defaults.js';
import { generateMarket } from '../../scenario/generate.js';
import { SYNTHETIC_LABEL, SYNTHETIC_MARKET, type ScenarioParams } from '../../scenario/params.js';
import { summarizeMarket } from '../../scenario/summary.js';
import type { MarketStore } from '../../market/store-port.js';
import { need, opt, type CliIo, type CommandSpec, type ParsedArgs } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';
import { isPostgresUrl } from '../../store/location.js';
import { openExistingStore, openStoreAt, resolveStoreLocation } from '../store-open.js';
import { LIMITS } from '../../core/limits.js';

function date(args: ParsedArgs, name: string): number | undefined {
  const v = opt.str(args, name);
  if (v === undefined) return undefined;
  try {
    return parseUtcDate(v);
  } catch (err) {
    throw badInput((err as Error).message, `--${name}`);
  }
}

/** The calibration window: the flags, else the two years that end at the store's last RT price for the point. */
async function calibrationWindow(store: MarketStore, sp: string, args: ParsedArgs): Promise<{ from: string; to: string }> {
  const fromMs = date(args, 'calibrate-start');
  const toMs = date(args, 'calibrate-end');
  const def = await defaultCalibrationWindow(store, sp);
  if (toMs === undefined && fromMs === undefined) return def;
  const endMs = toMs ?? parseUtcDate(def.to);
  const end = new Date(endMs);
  const startMs = fromMs ?? Date.UTC(end.getUTCFullYear() - 2, end.getUTCMonth(), end.getUTCDate() + 1);
  return { from: utcDate(startMs), to: utcDate(endMs) };
}

/** The default market store (MULLET_DB, else ./mullet.db) when it exists: real data there calibrates the generator. */
function defaultStore(io: CliIo): string | undefined {
  const file = io.env.MULLET_DB ?? './mullet.db';
  return isPostgresUrl(file) || existsSync(path.resolve(io.cwd, file)) ? file : undefined;
}

const synth: CommandSpec = {
  path: ['market', 'synth'],
  summary: 'generate a seeded SYNTHETIC market (RT/DA prices, load, BTC), calibrated from stored real data if given',
  description:
    'Every figure printed is synthetic and labelled so. Parameters are the built-in defaults (derived once from\n' +
    'ERCOT HB_WEST 2023-2024 and BTC 2022-2025; see src/scenario/README.md) or estimated from the real\n' +
    'series in a market store: --calibrate-from-db FILE, else the default store (MULLET_DB or ./mullet.db) when it\n' +
    'exists (--defaults skips that). --out-db stores the prices and load under market\n' +
    `${SYNTHETIC_MARKET}, never under ERCOT.`,
  options: {
    days: { type: 'int', min: 1, max: LIMITS.days, value: 'N', unit: 'days', description: 'days to generate', default: 365 },
    seed: { type: 'int', min: 0, max: LIMITS.seed, value: 'S', description: 'random seed (same seed and inputs give the same numbers)', default: 1 },
    from: { type: 'string', value: 'YYYY-MM-DD', unit: 'UTC date', description: 'first generated day (default: the day after the parameters\' start state)' },
    'calibrate-from-db': { type: 'string', value: 'FILE', description: 'SQLite market database with imported real data to calibrate from (default: MULLET_DB or ./mullet.db when it exists)' },
    defaults: { type: 'boolean', description: 'use the built-in parameters even when a market store exists' },
    'settlement-point': { type: 'string', value: 'NAME', description: 'ERCOT settlement point the prices describe', default: 'HB_WEST' },
    'calibrate-start': { type: 'string', value: 'YYYY-MM-DD', unit: 'UTC date', description: 'first day of the calibration window (default: two years before its end)' },
    'calibrate-end': { type: 'string', value: 'YYYY-MM-DD', unit: 'UTC date', description: 'last day of the calibration window (default: last stored RT price of the point)' },
    'out-db': { type: 'string', value: 'FILE', description: `write the synthetic prices and load into this database under market ${SYNTHETIC_MARKET}` },
  },
  json: true,
  examples: [
    'mullet market synth --days 30 --seed 7',
    'mullet market synth --days 365 --calibrate-from-db mullet.db --settlement-point HB_WEST --json',
    'mullet market synth --days 90 --out-db demo.db',
  ],
  async run(args, io) {
    const days = need(opt.num(args, 'days'), 'days');
    const seed = need(opt.num(args, 'seed'), 'seed');
    const sp = (opt.str(args, 'settlement-point') ?? 'HB_WEST').toUpperCase();
    let params: ScenarioParams = { ...DEFAULT_SCENARIO_PARAMS, settlementPoint: sp };
    const calibFile = opt.str(args, 'calibrate-from-db') ?? (opt.bool(args, 'defaults') ? undefined : defaultStore(io));
    if (calibFile !== undefined) {
      if (opt.str(args, 'calibrate-from-db') === undefined) io.stderr(`calibrating from the market store ${calibFile} (--defaults skips this)\n`);
      const store = await openExistingStore(resolveStoreLocation(io.cwd, calibFile));
      try {
        params = (await calibrate(store, { settlementPoint: sp, ...(await calibrationWindow(store, sp, args)) })).params;
      } finally {
        await store.close();
      }
    } else if (opt.str(args, 'calibrate-start') !== undefined || opt.str(args, 'calibrate-end') !== undefined) {
      throw badInput('needs --calibrate-from-db', opt.str(args, 'calibrate-start') !== undefined ? '--calibrate-start' : '--calibrate-end');
    }
    const startMs = date(args, 'from') ?? parseUtcDate(params.btc.start.dateUtc) + MS_PER_DAY;
    const market = generateMarket(params, { seed, startMs, days });
    const summary = summarizeMarket(market, params.power.spike.thresholdUsdPerMWh);
    let stored: { file: string; prices: number; loads: number } | undefined;
    const outFile = opt.str(args, 'out-db');
    if (outFile !== undefined) {
      const store = await openStoreAt(resolveStoreLocation(io.cwd, outFile));
      try {
        const report = await store.ingest(`synthetic seed ${seed}`, toParsedBatch(market));
        stored = { file: outFile, prices: report.inserted.prices, loads: report.inserted.loads };
      } finally {
        await store.close();
      }
    }
    if (opt.bool(args, 'json')) {
      printJson(io, { ...summary, ...(stored ? { stored } : {}) });
      return;
    }
    const s = summary;
    const lines = [
      `${SYNTHETIC_LABEL}`,
      `${s.days} days from ${s.fromDate}, seed ${String(s.seed)}, market ${s.market} ${s.settlementPoint}, parameters: ${s.paramsSource}`,
      ...s.notes.map((n) => `  note: ${n}`),
      '',
      formatTable(
        ['synthetic series', 'value'],
        [
          ['RT mean (USD/MWh)', fmt(s.rt.meanUsdPerMWh)],
          ['RT median (USD/MWh)', fmt(s.rt.p50UsdPerMWh)],
          ['RT p99 (USD/MWh)', fmt(s.rt.p99UsdPerMWh)],
          ['RT max (USD/MWh)', fmt(s.rt.maxUsdPerMWh)],
          ['RT min (USD/MWh)', fmt(s.rt.minUsdPerMWh)],
          [`spike intervals > $${s.rt.spikeThresholdUsdPerMWh}/MWh`, s.rt.spikeIntervals],
          ['spike events', s.rt.spikeEvents],
          ['negative intervals (%)', fmt(s.rt.negativeSharePct)],
          ['DA mean (USD/MWh)', fmt(s.da.meanUsdPerMWh)],
          ['system load mean (MW)', fmt(s.load.meanMW, 0)],
          ['system load max (MW)', fmt(s.load.maxMW, 0)],
          ['BTC start / end (USD)', `${fmt(s.btc.startPriceUsd, 0)} / ${fmt(s.btc.endPriceUsd, 0)}`],
          ['BTC realized vol (%/yr)', s.btc.realizedVolPerYear === null ? 'n/a (needs 3+ days)' : fmt(100 * s.btc.realizedVolPerYear, 1)],
          ['difficulty start / end (T)', `${fmt(s.btc.startDifficulty / 1e12)} / ${fmt(s.btc.endDifficulty / 1e12)}`],
          ['fees (BTC/day, mean)', fmt(s.btc.meanFeesBtcPerDay)],
          ['blocks per day (mean)', fmt(s.btc.meanBlocksPerDay, 1)],
          ['height at end', s.btc.heightEnd],
        ],
      ),
    ];
    if (stored) lines.push(`stored ${stored.prices} prices and ${stored.loads} load rows in ${stored.file} under market ${SYNTHETIC_MARKET} (BTC days are not stored)`);
    io.stdout(lines.join('\n') + '\n');
  },
};

export const synthCommands: readonly CommandSpec[] = [synth];
