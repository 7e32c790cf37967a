/**
 * Dispatch benchmark (issue figures): one year (2023, 35,040 15-minute intervals) of HB_WEST with
 * four fleets and binding ramp limits: `optimal` (target < 5 s, < 1.5 GB), `rolling` (< 60 s),
 * `strike` (< 0.5 s), each in its own process, timed end to end from the store. Also the
 * riot-style example in August 2023: resale credits and strike/rolling vs optimal.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCli } from '../cli/run.js';
import { captureIo } from '../cli/capture.js';

const run = promisify(execFile);

/** The real data files a 2023 back-test needs (prices, DA, load, BTC daily); the CLI test uses them too. */
export const BACKTEST_2023_FILES = [
  'ercot_rt_15min_hubs_2023.csv',
  'ercot_dam_spp_hubs_lz_hourly_2021_2025.csv',
  'ercot_load_hourly_2020_2025.csv',
  'btc_price_daily.csv',
  'btc_network_daily_blockchaincom.csv',
  'btc_fees_daily_coinmetrics_2023_2025.csv',
  'btc_blocks_per_day.csv',
  'ercot_4cp/official_intervals_2022_2025.csv',
];

/** Four fleets (≈ 200 MW), ramp limits that bind within an interval, an interconnect that binds. */
export const BENCH_SITE = `name: bench-four-fleets
market: { iso: ERCOT, settlementPoint: HB_WEST }
interconnect: { importLimitMW: 180 }
fleets:
  - { name: s21, model: "Antminer S21", count: 20000, poolFeePct: 2, pue: 1.05, rampMWPerMinute: 2 }
  - { name: s19xp, model: "Antminer S19 XP", count: 15000, poolFeePct: 2, pue: 1.05, rampMWPerMinute: 1.5 }
  - { name: s19jpro, model: "Antminer S19j Pro", count: 15000, poolFeePct: 2, pue: 1.05, rampMWPerMinute: 1 }
  - { name: s19, model: "Antminer S19", count: 10000, poolFeePct: 2, pue: 1.05, rampMWPerMinute: 0.5 }
`;

async function child(db: string, site: string, policy: string, from: string, to: string): Promise<unknown> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dispatch-child.js');
  const { stdout } = await run(process.execPath, [script, db, site, policy, from, to], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as unknown;
}

export async function benchDispatch(dataDir: string, repoRoot = process.cwd()): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mullet-bench-dispatch-'));
  try {
    const db = path.join(dir, 'market.db');
    const imp = await runCli(['data', 'import', ...BACKTEST_2023_FILES.map((f) => path.join(dataDir, f)), '--db', db, '--json'], captureIo(process.cwd()));
    if (imp !== 0) throw new Error(`data import exited ${imp}`);
    const site = path.join(dir, 'bench-site.yaml');
    writeFileSync(site, BENCH_SITE);
    const year: Record<string, unknown> = {};
    for (const policy of ['strike', 'optimal', 'rolling']) {
      process.stderr.write(`bench dispatch: ${policy} over 2023 ...\n`);
      year[policy] = await child(db, site, policy, '2023-01-01', '2023-12-31');
    }
    process.stderr.write('bench dispatch: riot-style example, August 2023 ...\n');
    const io = captureIo(process.cwd());
    const code = await runCli(['backtest', '--site', path.join(repoRoot, 'examples', 'riot-style-miner.yaml'), '--from', '2023-08-01', '--to', '2023-08-31', '--compare', 'strike,rolling', '--db', db, '--json'], io);
    if (code !== 0) throw new Error(`riot-style back-test exited ${code}`);
    const j = JSON.parse(io.out()) as { compare: { policy: string; netUsd: number; revenueUsd: { powerResale: number; mining: number }; regretVsOptimalUsd: number; regretVsOptimalPct: number }[] };
    const riot = j.compare.map((c) => ({ policy: c.policy, netUsd: c.netUsd, resaleCreditsUsd: c.revenueUsd.powerResale, miningUsd: c.revenueUsd.mining, regretVsOptimalUsd: c.regretVsOptimalUsd, regretVsOptimalPct: c.regretVsOptimalPct }));
    return {
      yearHbWest2023FourFleets: year,
      targets: { optimalWallS: 5, optimalMaxRssMB: 1536, rollingWallS: 60, strikeWallS: 0.5 },
      riotStyleAugust2023: riot,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
