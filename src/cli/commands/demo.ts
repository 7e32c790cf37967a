import { revenueUsdPerMWh } from '../../bitcoin/asic.js';
import { findAsic } from '../../catalog/catalog.js';
import { valueContract } from '../../compute/contract.js';
import { gpuCloudEconomics } from '../../compute/gpu-cloud.js';
import { usdPerMWhMeterFromUsdPerKwMonth } from '../../compute/lease.js';
import { badInput } from '../../core/errors.js';
import { MS_PER_DAY, parseUtcDate } from '../../core/time.js';
import { DEFAULT_SCENARIO_PARAMS } from '../../scenario/defaults.js';
import { generateMarket, syntheticDailyHashprice as dailyHashprice, type SyntheticMarket } from '../../scenario/generate.js';
import { SYNTHETIC_LABEL } from '../../scenario/params.js';
import { summarizeMarket } from '../../scenario/summary.js';
import { need, opt, type CommandSpec } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';
import { LIMITS } from '../../core/limits.js';

const DEMO_MODELS = ['Antminer S21 XP', 'Antminer S21', 'Antminer S19 XP', 'Antminer S19j Pro'] as const;
const POOL_FEE_PCT = 2;
const MINING_PUE = 1.05;
const AI_PUE = 1.3;

/**
 * For one machine: the share of RT intervals priced above its break-even (when a strike rule
 * sleeps it), and mining margin per MW-day always-on vs. sleeping above break-even.
 */
function strikeStats(m: SyntheticMarket, hp: readonly number[], efficiencyJPerTh: number) {
  const rt = m.rtPrice.values;
  const perDay = rt.length / m.days;
  const hours = m.rtPrice.intervalMinutes / 60;
  let above = 0;
  let alwaysOnUsd = 0;
  let strikeUsd = 0;
  let breakEvenSum = 0;
  for (let d = 0; d < m.days; d++) {
    const be = revenueUsdPerMWh(hp[d] ?? 0, efficiencyJPerTh, POOL_FEE_PCT, MINING_PUE);
    breakEvenSum += be;
    for (let i = d * perDay; i < (d + 1) * perDay; i++) {
      const margin = (be - (rt[i] as number)) * hours; // USD per MW for this interval
      alwaysOnUsd += margin;
      if (margin > 0) strikeUsd += margin;
      else above++;
    }
  }
  return {
    meanBreakEvenUsdPerMWh: breakEvenSum / m.days,
    intervalsAboveBreakEvenPct: (100 * above) / rt.length,
    alwaysOnMarginUsdPerMwDay: alwaysOnUsd / m.days,
    strikeMarginUsdPerMwDay: strikeUsd / m.days,
  };
}

const demo: CommandSpec = {
  path: ['demo'],
  summary: 'the economics on a SYNTHETIC market (works offline, no data needed), and how to use real data',
  description:
    'Generates a seeded synthetic ERCOT-like market (built-in parameters, clearly labelled), then shows\n' +
    'hashprice, each sample miner\'s break-even power price and what a strike rule earns, against AI lease\n' +
    'and GPU-cloud revenue per MWh, and one published AI contract valued.',
  options: {
    seed: { type: 'int', min: 0, max: LIMITS.seed, value: 'S', description: 'random seed of the synthetic market', default: 1 },
    days: { type: 'int', min: 1, max: 3660, value: 'N', unit: 'days', description: 'days of synthetic market', default: 30 },
    from: { type: 'string', value: 'YYYY-MM-DD', unit: 'UTC date', description: 'first synthetic day (default: the day after the built-in parameters\' start state)' },
  },
  json: true,
  examples: ['mullet demo', 'mullet demo --days 90 --seed 7 --json'],
  run(args, io) {
    const days = need(opt.num(args, 'days'), 'days');
    const seed = need(opt.num(args, 'seed'), 'seed');
    const fromText = opt.str(args, 'from');
    let startMs: number;
    try {
      startMs = fromText === undefined ? parseUtcDate(DEFAULT_SCENARIO_PARAMS.btc.start.dateUtc) + MS_PER_DAY : parseUtcDate(fromText);
    } catch (err) {
      throw badInput((err as Error).message, '--from');
    }
    const market = generateMarket(DEFAULT_SCENARIO_PARAMS, { seed, startMs, days });
    const summary = summarizeMarket(market, DEFAULT_SCENARIO_PARAMS.power.spike.thresholdUsdPerMWh);
    const hp = dailyHashprice(market);
    const meanHp = hp.reduce((a, b) => a + b, 0) / hp.length;
    const mining = DEMO_MODELS.map((name) => {
      const a = findAsic(name);
      return { model: a.model, efficiencyJPerTh: a.efficiencyJPerTh, ...strikeStats(market, hp, a.efficiencyJPerTh) };
    });
    const ai = [
      { use: 'ai-lease', what: 'lease 150 USD/kW-month', revenueUsdPerMWh: usdPerMWhMeterFromUsdPerKwMonth(150, AI_PUE) },
      { use: 'gpu-cloud', what: 'H100 SXM at 2 USD/GPU-hour', revenueUsdPerMWh: gpuCloudEconomics({ usdPerGpuHour: 2, gpuCount: 1, pue: AI_PUE }).revenueUsdPerMWhAtMeter },
    ];
    const iren = valueContract({ itMW: 200, termYears: 5, totalValueUsd: 9.7e9, prepayPct: 20, discountRatePerYear: 0.08 });
    const result = {
      synthetic: true,
      label: SYNTHETIC_LABEL,
      market: summary,
      hashpriceUsdPerPhDay: { mean: meanHp, min: Math.min(...hp), max: Math.max(...hp) },
      assumptions: { poolFeePct: POOL_FEE_PCT, miningPue: MINING_PUE, aiPue: AI_PUE },
      mining,
      ai,
      contractExample: {
        name: 'IREN–Microsoft (published: 200 MW IT, 5 years, 9.7B USD, 20% prepaid), discounted at 8%/yr',
        usdPerKwMonth: iren.usdPerKwMonth,
        annualRevenueUsd: iren.annualRevenueUsd,
        npvUsd: iren.npvUsd,
      },
      nextSteps: [
        'mullet data import ../shared/data            # or your own ERCOT / BTC files (mullet data formats)',
        'mullet data status',
        'mullet econ compare --date 2025-11-22',
        'mullet hashprice --date 2024-04-19',
      ],
    };
    if (opt.bool(args, 'json')) {
      printJson(io, result);
      return Promise.resolve();
    }
    const s = summary;
    const out = [
      `*** ${SYNTHETIC_LABEL} ***`,
      `${s.days} synthetic days from ${s.fromDate} (seed ${seed}); RT mean ${fmt(s.rt.meanUsdPerMWh)} USD/MWh, p99 ${fmt(s.rt.p99UsdPerMWh)}, max ${fmt(s.rt.maxUsdPerMWh)}, ` +
        `${fmt(s.rt.negativeSharePct, 1)}% of intervals negative`,
      `synthetic hashprice ${fmt(meanHp)} USD/PH/day (range ${fmt(result.hashpriceUsdPerPhDay.min)}–${fmt(result.hashpriceUsdPerPhDay.max)}); BTC ${fmt(s.btc.startPriceUsd, 0)} → ${fmt(s.btc.endPriceUsd, 0)} USD`,
      '',
      'Mining (synthetic): break-even power price and what sleeping above it is worth',
      formatTable(
        ['model', 'J/TH', 'break-even USD/MWh', 'intervals above BE %', 'always-on USD/MW-day', 'strike USD/MW-day'],
        mining.map((r) => [r.model, fmt(r.efficiencyJPerTh, 1), fmt(r.meanBreakEvenUsdPerMWh), fmt(r.intervalsAboveBreakEvenPct, 1), fmt(r.alwaysOnMarginUsdPerMwDay), fmt(r.strikeMarginUsdPerMwDay)]),
      ),
      'AI compute (no market input: contract prices)',
      formatTable(['use', 'what', 'USD/MWh at meter'], ai.map((r) => [r.use, r.what, fmt(r.revenueUsdPerMWh)])),
      `Contract: ${result.contractExample.name}: ${fmt(iren.usdPerKwMonth)} USD/kW-month, ${fmt(iren.annualRevenueUsd / 1e9, 2)}B USD a year, NPV ${fmt(iren.npvUsd / 1e9, 2)}B USD`,
      '',
      'Use real data instead of the synthetic market:',
      ...result.nextSteps.map((l) => `  ${l}`),
      '',
    ];
    io.stdout(out.join('\n'));
    return Promise.resolve();
  },
};

export const demoCommands: readonly CommandSpec[] = [demo];
