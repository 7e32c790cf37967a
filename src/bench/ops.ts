/**
 * Ops benchmark (issue 12's figures): the whole live path — replay feed → live dispatcher → agent →
 * simulated site on real loopback sockets → live ledger — on virtual time (`speed: max`).
 *  - replayMonth:     a month of 15-minute intervals on 2,000 miners (two fleets), a capped GPU hall
 *                     (~0.5 MW IT on Redfish BMCs) and a firm tenant: wall time, the ledger vs the
 *                     back-test of the same window, metered vs settled energy, the import limit.
 *  - priceToTargets:  wall time from the dispatcher deciding an interval (its price known) to the end
 *                     of the first agent tick whose decision has nothing pending, at 10,000 miners;
 *                     only intervals whose decision changed the mining MW.
 *  - aiCurtail:       signal → confirmed cap on 100 simulated GPU servers (Redfish per BMC, then
 *                     feed-level targets through the manager), few miners so mining cannot give it.
 * Real 2023 HB_WEST (MULLET_DATA) when present, else the labelled synthetic market.
 *
 *   npm run bench -- ops [--days 30] [--miners 2000] [--ptt-miners 10000] [--ptt-intervals 96] [--ptt-from 2023-08-10]
 *        [--gpu-servers 100] [--rounds 20] [--only replayMonth,priceToTargets,aiCurtail]
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { captureIo } from '../cli/capture.js';
import { runCli } from '../cli/run.js';
import { MS_PER_DAY, parseUtcDate } from '../core/time.js';
import { SimSite } from '../fleet/agent/testing/sim-site.js';
import { freeLoopbackBlock } from '../fleet/sim/site-sim.js';
import { HGX_H100 } from '../fleet/sim/gpu/physics.js';
import { findModel } from '../fleet/sim/models.js';
import type { IntervalDecision } from '../ops/dispatcher.js';
import { startOps } from '../app/ops.js';
import { BACKTEST_2023_FILES } from './dispatch.js';
import { percentile } from './stats.js';

export interface BenchOpsOptions {
  dataDir: string;
  /** replayMonth window, days from 2023-08-01 (2025-08-01 synthetic). */
  days: number;
  miners: number;
  pttMiners: number;
  /** priceToTargets: stop after this many decided intervals. */
  pttIntervals: number;
  /** priceToTargets: first day (default: the replayMonth window's). */
  pttFrom?: string;
  gpuServers: number;
  rounds: number;
  only: readonly string[];
  log?: (line: string) => void;
}

export const OPS_FIGURES = ['replayMonth', 'priceToTargets', 'aiCurtail'] as const;

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;


function stats(ms: readonly number[]): { n: number; p50Ms: number | null; p90Ms: number | null; p99Ms: number | null; maxMs: number | null } {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number | null) => (x === null ? null : round(x, 1));
  return { n: s.length, p50Ms: r(percentile(s, 50)), p90Ms: r(percentile(s, 90)), p99Ms: r(percentile(s, 99)), maxMs: r(s.at(-1) ?? null) };
}

// The hall is sized by the simulator to whole HGX H100 servers (10.2 kW): 49 of them ≈ 0.5 MW IT.
const HALL_SERVERS = 49;
const HALL_IT_MW = (HALL_SERVERS * HGX_H100.maxW) / 1e6;
const TENANT_IT_MW = 0.3;
const AI_PUE = 1.3;
const MINING_PUE = 1.05;

/**
 * Two fleets (half Antminer S21, half S19 XP), a firm tenant and a capped GPU-cloud hall; the import
 * limit sits 5 % under the site at full power, so it binds whenever the plan mines everything.
 */
function siteYaml(miners: number): { text: string; importLimitMW: number; fullSiteMW: number } {
  const s21 = Math.ceil(miners / 2);
  const s19 = miners - s21;
  const miningMW = (s21 * findModel('Antminer S21').ratedPowerW + s19 * findModel('Antminer S19 XP').ratedPowerW) / 1e6;
  const fullSiteMW = miningMW * MINING_PUE + (TENANT_IT_MW + HALL_IT_MW) * AI_PUE;
  const importLimitMW = round(fullSiteMW * 0.95, 3);
  const text = [
    `name: bench-ops-${miners}`,
    'market: { iso: ERCOT, settlementPoint: HB_WEST }',
    `interconnect: { importLimitMW: ${importLimitMW} }`,
    'transmission:',
    '  coincidentPeak: { months: [6, 7, 8, 9], usdPerKwYear: 60, alerts: { localHours: [14, 19], riskPct: 95 } }',
    'ai:',
    `  - { name: tenant, kind: firm, itMW: ${TENANT_IT_MW}, pue: ${AI_PUE}, usdPerKwMonth: 150 }`,
    `  - { name: cloud, kind: capped, itMW: ${HALL_IT_MW}, pue: ${AI_PUE}, usdPerKwMonth: 400, maxReductionPct: 30, maxHoursPerYear: 400, usdPerMWhReduced: 250 }`,
    'fleets:',
    `  - { name: s21, model: "Antminer S21", count: ${s21}, poolFeePct: 2, pue: ${MINING_PUE} }`,
    `  - { name: s19xp, model: "Antminer S19 XP", count: ${s19}, poolFeePct: 2, pue: ${MINING_PUE} }`,
    'dispatch:',
    '  strike: { sleepAfterIntervals: 1, wakeAfterIntervals: 2 }',
    '  rolling: { horizonHours: 24, stepMinutes: 60 }',
    '',
  ].join('\n');
  return { text, importLimitMW, fullSiteMW: round(fullSiteMW, 3) };
}

interface Market {
  data: 'store' | 'synthetic';
  db?: string;
  from: string;
}

const addDays = (day: string, n: number): string => new Date(parseUtcDate(day) + n * MS_PER_DAY).toISOString().slice(0, 10);

/** Writes the site and an ops config (speed max, the GPU hall on Redfish BMCs) into dir. */
function opsConfig(dir: string, miners: number, m: Market, days: number, seed: number): { file: string; importLimitMW: number; fullSiteMW: number; window: { from: string; to: string } } {
  const site = siteYaml(miners);
  writeFileSync(path.join(dir, `site-${miners}.yaml`), site.text);
  const to = addDays(m.from, days - 1);
  const file = path.join(dir, `ops-${miners}.yaml`);
  writeFileSync(
    file,
    [
      `site: site-${miners}.yaml`,
      'policy: rolling',
      `market: { replay: { from: ${m.from}, to: ${to}, speed: max, data: ${m.data}${m.data === 'synthetic' ? ', seed: 1' : ''} } }`,
      `fleet: { simulator: { seed: ${seed}, gpus: { load: cloud, manager: false } } }`,
      'listen: 127.0.0.1:0',
      '',
    ].join('\n'),
  );
  return { file, importLimitMW: site.importLimitMW, fullSiteMW: site.fullSiteMW, window: { from: m.from, to } };
}

/** Real 2023 history imported into a temp store when MULLET_DATA has it, else the synthetic market. */
async function market(dir: string, dataDir: string, log: (l: string) => void): Promise<Market> {
  const files = BACKTEST_2023_FILES.map((f) => path.join(dataDir, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    log(`no real data (${missing.length} file(s) missing under ${dataDir}): data: synthetic`);
    return { data: 'synthetic', from: '2025-08-01' };
  }
  const db = path.join(dir, 'market.db');
  const t0 = performance.now();
  const code = await runCli(['data', 'import', ...files, '--db', db, '--json'], captureIo(process.cwd()));
  if (code !== 0) throw new Error(`data import exited ${code}`);
  log(`imported 2023 history in ${round((performance.now() - t0) / 1000)} s`);
  return { data: 'store', db, from: '2023-08-01' };
}

async function replayMonth(o: BenchOpsOptions, dir: string, m: Market, log: (l: string) => void): Promise<Record<string, unknown>> {
  const cfg = opsConfig(dir, o.miners, m, o.days, 7);
  log(`replayMonth: ${o.miners} miners + ${HALL_SERVERS} GPU servers, ${cfg.window.from}..${cfg.window.to} (${m.data})`);
  const t0 = performance.now();
  const ops = await startOps({ configFile: cfg.file, cwd: dir, ...(m.db ? { dbFile: m.db } : {}), log: (l) => log(`ops: ${l}`) });
  const startupS = (performance.now() - t0) / 1000;
  try {
    const out = await ops.run(new AbortController().signal);
    if (out.mode !== 'replay') throw new Error('the ops bench replays: expected a replay outcome');
    const monthDays = 30;
    const res: Record<string, unknown> = {
      data: m.data === 'store' ? 'real HB_WEST 2023 (MULLET_DATA)' : 'synthetic',
      window: out.window,
      days: o.days,
      miners: o.miners,
      gpuServers: HALL_SERVERS,
      aiItMW: { tenantFirm: TENANT_IT_MW, cloudCapped: round(HALL_IT_MW, 4) },
      startupS: round(startupS),
      wallSeconds: out.wallSeconds,
      intervals: out.live.intervals,
      decided: out.dispatch.intervals,
      safeFallbacks: out.dispatch.safeFallbacks,
      liveNetUsd: round(out.live.netUsd, 2),
      backtestNetUsd: round(out.backtest.netUsd, 2),
      netGapPct: out.netGapPct,
      gapByStreamUsd: out.gapByStreamUsd,
      meteredMWh: out.meteredMWh,
      settledMWh: out.settledMWh,
      maxMeteredMW: out.maxMeteredMW,
      importLimitMW: cfg.importLimitMW,
      fullSiteMW: cfg.fullSiteMW,
      clockJumps: out.clockJumps,
      notes: out.notes,
    };
    if (o.days < monthDays) {
      res['extrapolatedMonthWallSeconds'] = round((out.wallSeconds * monthDays) / o.days);
      res['extrapolation'] = `measured ${o.days} day(s); month wall time = wallSeconds × ${monthDays}/${o.days} (linear: the agent's work per interval does not grow with the window)`;
    }
    return res;
  } finally {
    await ops.close();
  }
}

async function priceToTargets(o: BenchOpsOptions, dir: string, m: Market, log: (l: string) => void): Promise<Record<string, unknown>> {
  const days = Math.max(1, Math.ceil(o.pttIntervals / 96));
  const cfg = opsConfig(dir, o.pttMiners, o.pttFrom ? { ...m, from: o.pttFrom } : m, days, 11);
  log(`priceToTargets: ${o.pttMiners} miners, ${o.pttIntervals} intervals from ${cfg.window.from} (${m.data})`);
  const stop = new AbortController();
  let prevMW: number | null = null;
  let open: { index: number; t0: number } | null = null;
  const latencies: number[] = [];
  let changed = 0;
  let supersededOpen = 0;
  let decided = 0;
  const onDecision = (d: IntervalDecision): void => {
    decided++;
    const mw = d.fleetMW.reduce((a, b) => a + b, 0);
    if (prevMW !== null && Math.abs(mw - prevMW) > 1e-6) {
      if (open) supersededOpen++;
      open = { index: d.index, t0: performance.now() };
      changed++;
    }
    prevMW = mw;
    if (decided > o.pttIntervals && open === null) stop.abort();
  };
  const ops = await startOps({ configFile: cfg.file, cwd: dir, ...(m.db ? { dbFile: m.db } : {}), log: (l) => log(`ops: ${l}`), onDecision });
  const agent = ops.agent.agent;
  const unsubscribe = agent.subscribe((e) => {
    if (e.type !== 'tick' || open === null) return;
    const tick = agent.status().lastTick;
    if (!tick || tick.target.stale || tick.decision.pending > 0) return;
    latencies.push(performance.now() - open.t0);
    open = null;
    if (decided >= o.pttIntervals) stop.abort();
  });
  try {
    const out = await ops.run(stop.signal);
    if (out.mode !== 'replay') throw new Error('the ops bench replays: expected a replay outcome');
    return {
      data: m.data === 'store' ? 'real HB_WEST 2023 (MULLET_DATA)' : 'synthetic',
      window: out.window,
      miners: o.pttMiners,
      gpuServers: HALL_SERVERS,
      intervalsDecided: out.dispatch.intervals,
      intervalsChangingMiningMW: changed,
      confirmed: latencies.length,
      unconfirmedBeforeNextChange: supersededOpen,
      latency: stats(latencies),
      wallSeconds: out.wallSeconds,
      clockJumps: out.clockJumps,
      measures: 'WALL ms from LiveDispatcher.onDecision (interval decided, its price known) to the end of the first agent tick whose decision has nothing pending (every command sent and read back in effect); the simulated machines boot on virtual time, so this is the software path, not machine boot time',
    };
  } finally {
    unsubscribe();
    await ops.close();
  }
}

/** Curtail/restore cycles on a hall of `servers` capped GPU servers (manager: feed-level targets). */
async function aiCurtailOnce(servers: number, manager: boolean, rounds: number, log: (l: string) => void): Promise<Record<string, unknown>> {
  const cidr = await freeLoopbackBlock(2, 4028, manager ? 21 : 17);
  const gpuCidr = await freeLoopbackBlock(servers, 8000, manager ? 23 : 19);
  // Two miners against ~400 kW of curtailable AI: mining cannot give the MW. They are put to sleep
  // once, and a dwell of a day keeps them asleep through the restores: every round times the AI alone.
  const s = await SimSite.start({ miners: 2, cidr, models: 's21:1', mix: 'luxos:1', aiItMW: 0.1, gpus: { servers, cidr: gpuCidr, kind: 'capped', maxReductionPct: 40, manager } });
  const { agent } = await s.agent({ decide: { minDwellMs: MS_PER_DAY } });
  const ac = new AbortController();
  let loop: Promise<void> | undefined;
  try {
    await agent.tick('start');
    loop = agent.run(ac.signal);
    const hallMW = (s.hall?.powerW() ?? 0) / 1e6;
    const tag = manager ? 'm' : 'r';
    const warm = await agent.receiveSignal({ kind: 'curtail', all: true }, `bench-ai-${tag}-miners`, 'bench');
    await agent.waitForSignal(warm.record.id, 120_000);
    // Well inside the contract (40 %), so a hall still ramping back up can give it.
    const askMW = round(hallMW * 0.15, 3);
    const elapsed: number[] = [];
    const wall: number[] = [];
    const states: Record<string, number> = {};
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const { record } = await agent.receiveSignal({ kind: 'curtail', mw: askMW }, `bench-ai-${tag}-${i}`, 'bench');
      const done = await agent.waitForSignal(record.id, 60_000);
      const w = performance.now() - t0;
      const state = done?.state ?? 'timeout';
      states[state] = (states[state] ?? 0) + 1;
      if (state === 'confirmed' && done && done.confirmedAtMs !== null) {
        elapsed.push(done.confirmedAtMs - done.receivedAtMs);
        wall.push(w);
      }
      // Restore, then wait until every cap is lifted and the hall is back near full, so the next
      // curtail commands afresh from a full hall.
      await agent.receiveSignal({ kind: 'restore' }, `bench-ai-${tag}-${i}-restore`, 'bench');
      for (let k = 0; k < 400 && (s.hall?.truth().some((t) => t.capW !== null) || (s.hall?.powerW() ?? 0) / 1e6 < hallMW * 0.97); k++) await new Promise((r) => setTimeout(r, 50));
    }
    log(`aiCurtail (${manager ? 'manager feed targets' : 'Redfish per BMC'}): ${elapsed.length}/${rounds} confirmed`);
    return {
      servers,
      via: manager ? 'GPU manager: feed-level power targets' : 'Redfish: a power limit per BMC',
      hallMW: round(hallMW, 3),
      askMW,
      minersAsleepBeforeRounds: true,
      rounds,
      states,
      signalToConfirmed: stats(elapsed),
      wallAroundCall: stats(wall),
      measures: "signal record's confirmedAtMs − receivedAtMs (agent clock = wall; the simulated caps settle on real time, CAP_TAU 2 s)",
    };
  } finally {
    ac.abort();
    await loop;
    await agent.close();
    await s.close();
  }
}

export async function benchOps(o: BenchOpsOptions): Promise<Record<string, unknown>> {
  const log = o.log ?? ((l: string) => void process.stderr.write(`bench ops: ${l}\n`));
  const dir = mkdtempSync(path.join(tmpdir(), 'mullet-bench-ops-'));
  const res: Record<string, unknown> = {};
  try {
    const needMarket = o.only.includes('replayMonth') || o.only.includes('priceToTargets');
    const m = needMarket ? await market(dir, o.dataDir, log) : null;
    if (m && o.only.includes('replayMonth')) res['replayMonth'] = await replayMonth(o, dir, m, log);
    if (m && o.only.includes('priceToTargets')) res['priceToTargets'] = await priceToTargets(o, dir, m, log);
    if (o.only.includes('aiCurtail')) {
      res['aiCurtail'] = {
        redfish: await aiCurtailOnce(o.gpuServers, false, o.rounds, log),
        manager: await aiCurtailOnce(o.gpuServers, true, o.rounds, log),
      };
    }
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Options from `--days N --miners N --ptt-miners N --ptt-intervals N --ptt-from DAY --gpu-servers N --rounds N --only a,b`. */
export function benchOpsArgs(argv: readonly string[], dataDir: string): BenchOpsOptions {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, dflt: number): number => {
    const v = get(name);
    if (v === undefined) return dflt;
    const x = Number(v);
    if (!Number.isInteger(x) || x <= 0) throw new Error(`--${name} must be a positive integer, got '${v}'`);
    return x;
  };
  const only = (get('only') ?? OPS_FIGURES.join(',')).split(',').filter((s) => s !== '');
  const unknown = only.filter((s) => !(OPS_FIGURES as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`--only: unknown figure(s) ${unknown.join(', ')}; known: ${OPS_FIGURES.join(', ')}`);
  const pttFrom = get('ptt-from');
  if (pttFrom !== undefined) parseUtcDate(pttFrom);
  return {
    ...(pttFrom !== undefined ? { pttFrom } : {}),
    dataDir,
    days: int('days', 30),
    miners: int('miners', 2_000),
    pttMiners: int('ptt-miners', 10_000),
    pttIntervals: int('ptt-intervals', 96),
    gpuServers: int('gpu-servers', 100),
    rounds: int('rounds', 20),
    only,
  };
}
