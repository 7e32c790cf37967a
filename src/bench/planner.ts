/**
 * Planner benchmark: 10,000 paths × 10 years (monthly steps) × 5 sites, on worker threads.
 * Reports wall and CPU time of the Monte Carlo alone (the figure) and of the whole plan
 * (search + Monte Carlo + sensitivity), and the accumulator size to show memory is flat in paths.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_SCENARIO_PARAMS } from '../scenario/defaults.js';
import { runMonteCarlo } from '../planner/montecarlo.js';
import { runPlan } from '../planner/plan.js';
import { workerRunner } from '../planner/pool.js';
import { PortfolioSchema } from '../planner/portfolio.js';
import { resolvePortfolio } from '../planner/resolve.js';
import { NO_CONVERSION, type Schedule } from '../planner/schedule.js';

const lease = { name: 'lease', kind: 'lease', usdPerKwMonth: 140, termYears: 15, escalatorPct: 3, rampMonths: 6 };
const cloud = { name: 'cloud', kind: 'gpu-cloud', gpu: 'H100 SXM', usdPerGpuHour: 1.6, utilizationPct: 75, termYears: 5, escalatorPct: -15, usdPerGpu: 38000 };

function site(i: number) {
  const market = i % 2 === 0;
  return {
    name: `site-${i + 1}`,
    settlementPoint: i % 3 === 0 ? 'HB_WEST' : 'HB_NORTH',
    interconnectMW: 200,
    power: market ? { kind: 'market', adderUsdPerMWh: 6 } : { kind: 'fixed', usdPerMWh: 33, resale: true },
    mining: {
      opexUsdPerMWYear: 45000,
      fleets: [
        { model: 'Antminer S21', count: 20000 },
        { model: 'Antminer S19 XP', count: 20000 },
        { model: 'Antminer S19j Pro', count: 10000 },
      ],
      refresh: [{ replaces: 'Antminer S19j Pro', model: 'Antminer S21 XP', usdPerTh: 14, year: 2028 }],
    },
    ai: { convertibleItMW: 120, stepItMW: 40, pue: 1.25, capexUsdPerMW: 9_500_000, leadTimeMonths: 18, opexUsdPerMWYear: 90_000, contracts: [lease, cloud] },
  };
}

export const BENCH_PORTFOLIO = {
  name: 'bench: five Texas sites',
  finance: { startDate: '2026-01-01', horizonYears: 10, discountRatePct: 10, taxRatePct: 21 },
  sites: [0, 1, 2, 3, 4].map(site),
};

export interface PlannerBench {
  paths: number;
  years: number;
  sites: number;
  threads: number;
  /** Monte Carlo of one schedule and the no-conversion baseline (the figure). */
  monteCarloWallS: number;
  monteCarloCpuS: number;
  pathsPerSecond: number;
  /** Whole plan: search (400 paths), Monte Carlo of 3 schedules plus the start-year / size grid (NPV only), sensitivity (200 paths × 11). */
  planWallS: number;
  planCpuS: number;
  /** Accumulator size (bytes of typed arrays) at 1,000 and 10,000 paths: flat. */
  accumulatorBytes1k: number;
  accumulatorBytes10k: number;
  npvMeanUsd: number;
  underFiveSeconds: boolean;
}

function accumulatorBytes(acc: { sums: Float64Array; sumSquares: Float64Array; counts: Float64Array; hists: ({ counts: Float64Array; sums: Float64Array; squares: Float64Array; totals: Float64Array } | null)[] }): number {
  let b = acc.sums.byteLength + acc.sumSquares.byteLength + acc.counts.byteLength;
  for (const h of acc.hists) if (h) b += h.counts.byteLength + h.sums.byteLength + h.squares.byteLength + h.totals.byteLength;
  return b;
}

/** Runs the planner benchmark. */
export async function benchPlanner(paths = 10_000, threads = availableParallelism()): Promise<PlannerBench> {
  const model = resolvePortfolio(PortfolioSchema.parse(BENCH_PORTFOLIO), { paramsFor: (sp) => ({ ...DEFAULT_SCENARIO_PARAMS, settlementPoint: sp }), seed: 1 });
  const schedule: Schedule = model.sites.map((_, i) => (i % 2 === 0 ? { itMW: 80, startMonth: 12, contract: 0, refreshMask: 0 } : NO_CONVERSION));
  const baseline: Schedule = model.sites.map(() => NO_CONVERSION);
  const runner = workerRunner(threads);
  const small = await runMonteCarlo(model, 1, [schedule, baseline], 1000, { runner });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const mc = await runMonteCarlo(model, 1, [schedule, baseline], paths, { runner });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const c1 = process.cpuUsage();
  const t1 = performance.now();
  await runPlan(model, { paths, seed: 1, runner });
  const planWall = (performance.now() - t1) / 1000;
  const planCpu = process.cpuUsage(c1);
  return {
    paths,
    years: 10,
    sites: model.sites.length,
    threads,
    monteCarloWallS: wall,
    monteCarloCpuS: (cpu.user + cpu.system) / 1e6,
    pathsPerSecond: paths / wall,
    planWallS: planWall,
    planCpuS: (planCpu.user + planCpu.system) / 1e6,
    accumulatorBytes1k: accumulatorBytes(small.acc),
    accumulatorBytes10k: accumulatorBytes(mc.acc),
    npvMeanUsd: (mc.acc.sums[0] as number) / (mc.acc.counts[0] as number),
    underFiveSeconds: wall < 5,
  };
}
