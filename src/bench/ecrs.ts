/**
 * Grid deployment benchmark: an ECRS deployment of 50 MW on a simulated 10,000-miner site,
 * repeated N times, each measured as the agent measures it for the QSE's evidence — from the
 * deployment's receipt to the load reduced by 95 % / 100 % of the MW at the site meter — and
 * checked against the simulator's ground truth. Between deployments the agent recalls and the
 * fleet is restored (paced batches) and waits until every miner hashes again.
 *
 * The simulator (worker processes, real protocols on loopback, a Modbus site meter) runs hydro
 * machines by default (S21 XP Hyd on the Bitmain firmwares, M63S on Whatsminer: ~60 MW of
 * nameplate), so 50 MW is most of the site. Sleep takes effect at once in the simulator's physics
 * whatever its time scale; the scale (default 10) only shortens the 3-minute wake ramps between
 * deployments and power-target ramps (at most one marginal machine per decision).
 *
 *   node dist/bench/ecrs.js [--miners 10000] [--mw 50] [--deployments 10] [--time-scale 10]
 *        [--models s21xphyd:4,m63s:1] [--concurrency 512] [--restore-batch 2000]
 * prints one JSON document on stdout (progress on stderr).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { systemClock } from '../core/time.js';
import { SiteAgent } from '../fleet/agent/agent.js';
import type { AgentEvent } from '../fleet/agent/events.js';
import { minersFromInventory } from '../fleet/agent/fleet.js';
import { NameplateTarget } from '../fleet/agent/targets.js';
import { DEFAULT_DECIDE_CONFIG } from '../fleet/agent/types.js';
import { builtinCapabilities, defaultDriverRegistry } from '../fleet/drivers/index.js';
import { ModbusMeterReader } from '../fleet/meter/meter-reader.js';
import { FIRMWARE_PROFILES } from '../fleet/sim/firmware.js';
import { defaultListenersPerProcess, planFleet, SimFleet } from '../fleet/sim/fleet.js';
import { DEFAULT_HOST_OPTIONS } from '../fleet/sim/host.js';
import { simInventory } from '../fleet/sim/inventory-export.js';
import { ModbusMeterServer } from '../fleet/sim/meter-server.js';
import { DEFAULT_MINER_OPTIONS } from '../fleet/sim/miner.js';
import { parseFirmwareMix, parseModelMix } from '../fleet/sim/mix.js';
import { SqliteAgentStateStore } from '../fleet/state/store.js';
import { parseSite } from '../site/parse.js';
import { DEFAULT_FIRMWARE_MIX, percentile } from './stats.js';

export interface BenchEcrsOptions {
  miners: number;
  mw: number;
  deployments: number;
  timeScale: number;
  models?: string;
  mix?: string;
  concurrency?: number;
  restoreBatch?: number;
  log?: (line: string) => void;
}

const DEFAULT_MODELS = 's21xphyd:4,m63s:1';

const r3 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);
function stats(xs: readonly number[]): { n: number; p50: number | null; p99: number | null; min: number | null; max: number | null; mean: number | null } {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: r3(percentile(s, 50)), p99: r3(percentile(s, 99)), min: r3(s[0] ?? null), max: r3(s.at(-1) ?? null), mean: r3(s.length ? s.reduce((a, b) => a + b, 0) / s.length : null) };
}

async function until(pred: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (!(await pred())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return performance.now() - t0;
}

function nextEvent(agent: SiteAgent, pred: (e: AgentEvent) => boolean, timeoutMs: number, what: string): Promise<AgentEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const off = agent.subscribe((e) => {
      if (!pred(e)) return;
      clearTimeout(t);
      off();
      resolve(e);
    });
  });
}

export async function benchEcrs(o: BenchEcrsOptions): Promise<Record<string, unknown>> {
  const log = o.log ?? ((l: string) => void process.stderr.write(`bench ecrs: ${l}\n`));
  const n = o.miners;
  const cidr = n > 60_000 ? '127.41.0.0/15' : '127.41.0.0/16';
  const mix = parseFirmwareMix(o.mix ?? DEFAULT_FIRMWARE_MIX);
  const models = parseModelMix(o.models ?? DEFAULT_MODELS);
  const specs = planFleet({ miners: n, cidr, mix, models, seed: 1 });
  const listeners = specs.reduce((a, s) => a + FIRMWARE_PROFILES[s.firmware].ports.length, 0);
  const workers = Math.max(2, Math.ceil(listeners / defaultListenersPerProcess()));
  log(`starting the simulator: ${n} miners over ${workers} worker processes, time scale ${o.timeScale}`);
  const fleet = await SimFleet.start({ miners: n, cidr, mix, models, seed: 1, timeScale: o.timeScale, listenersPerProcess: Math.ceil(listeners / workers) + 2, aiLoadW: 0, host: { ...DEFAULT_HOST_OPTIONS }, miner: DEFAULT_MINER_OPTIONS });
  const meter = new ModbusMeterServer(fleet, { cacheMs: 200, wall: systemClock, sim: fleet.clocks.sim });
  const meterPort = (await meter.listen('127.0.0.1', 0)).port;
  const dir = mkdtempSync(path.join(tmpdir(), 'mullet-bench-ecrs-'));
  let agent: SiteAgent | undefined;
  const loop = new AbortController();
  let running: Promise<void> | undefined;
  try {
    const inventory = simInventory(fleet.miners, await fleet.truth(), systemClock.nowMs(), builtinCapabilities);
    const ratedMW = inventory.miners.reduce((a, m) => a + (m.ratedPowerW ?? 0), 0) / 1e6;
    if (o.mw >= ratedMW) throw new Error(`${o.mw} MW cannot be deployed from ${ratedMW.toFixed(1)} MW of miners: use more miners or larger models`);
    const site = parseSite(['name: bench-ecrs', 'market: { iso: ERCOT, settlementPoint: HB_WEST }', `interconnect: { importLimitMW: ${Math.ceil(ratedMW * 2)} }`, ''].join('\n'), { file: 'bench-site' });
    const miners = minersFromInventory(inventory, site, { registry: defaultDriverRegistry(), clock: systemClock, callTimeoutMs: 10_000, connectTimeoutMs: 5_000 });
    const store = SqliteAgentStateStore.open(path.join(dir, 'agent.db'), systemClock.nowMs());
    agent = await SiteAgent.create({
      siteName: site.name,
      miners,
      store,
      clock: systemClock,
      targets: new NameplateTarget(),
      meter: new ModbusMeterReader({ host: '127.0.0.1', port: meterPort, timeoutMs: 2_000 }),
      decide: { ...DEFAULT_DECIDE_CONFIG, importLimitMW: site.interconnect.importLimitMW, aiMW: 0, restoreBatchSize: o.restoreBatch ?? 2_000, confirmTimeoutMs: 10_000, minDwellMs: 0 },
      concurrency: o.concurrency ?? 512,
      callTimeoutMs: 10_000,
      tickMs: 60_000,
      verifyWaitMs: 10_000,
      verifyPollMs: 200,
      snapshotMaxAgeMs: 60_000,
      log: (l: string) => log(`agent: ${l}`),
    });
    const a = agent;
    const start = await a.tick('start');
    log(`${n} miners, ${ratedMW.toFixed(1)} MW nameplate; start-up read ${Math.round(start.durationMs)} ms`);
    running = a.run(loop.signal);
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < o.deployments; i++) {
      const allHashing = await until(async () => (await fleet.stateCounts()).mining >= n * 0.999, 900_000, 'every miner hashing');
      // One regular tick on the restored fleet: the next deployment's baseline is a fresh read.
      await a.tick('timer');
      const truthBeforeMW = (await fleet.sitePower()).minersW / 1e6;
      const id = `bench-ecrs-${i + 1}`;
      const reached = nextEvent(a, (e) => (e.type === 'grid.deployment' && e.phase === 'reached-100' && e.deployment.id === id) || (e.type === 'grid.deployment.missed' && e.id === id), 900_000, `${id} at 100 %`);
      const t0 = performance.now();
      await a.receiveDeployment({ id, product: 'ECRS', mw: o.mw }, 'bench');
      const ev = await reached;
      const wallMs = performance.now() - t0;
      const truthAfterMW = (await fleet.sitePower()).minersW / 1e6;
      const d = await a.getDeployment(id);
      if (!d) throw new Error(`${id} not on record`);
      const row = {
        id,
        result: ev.type === 'grid.deployment.missed' ? 'missed' : 'reached-100',
        secondsTo95: d.t95AtMs === null ? null : (d.t95AtMs - d.startMs) / 1000,
        secondsToFull: d.t100AtMs === null ? null : (d.t100AtMs - d.startMs) / 1000,
        secondsToFirstCommand: d.firstCommandAtMs === null ? null : (d.firstCommandAtMs - d.startMs) / 1000,
        wallSecondsToEvent: Math.round(wallMs) / 1000,
        measuredBy: d.measuredBy,
        meteredReductionMW: r3(d.lastReductionMW),
        groundTruthReductionMW: r3(truthBeforeMW - truthAfterMW),
        restoreWaitS: Math.round(allHashing) / 1000,
      };
      rows.push(row);
      log(`${id}: 95 % in ${row.secondsTo95 ?? '—'} s, 100 % in ${row.secondsToFull ?? '—'} s (meter ${row.meteredReductionMW} MW, truth ${row.groundTruthReductionMW} MW)`);
      await a.recallDeployment(id, 'bench');
    }
    await until(async () => (await fleet.stateCounts()).mining >= n * 0.999, 900_000, 'every miner hashing');
    const full = rows.flatMap((r) => (typeof r.secondsToFull === 'number' ? [r.secondsToFull] : []));
    const p95 = rows.flatMap((r) => (typeof r.secondsTo95 === 'number' ? [r.secondsTo95] : []));
    const evidence = await a.gridEvidence();
    return {
      miners: n,
      nameplateMW: r3(ratedMW),
      product: 'ECRS',
      mw: o.mw,
      deployments: o.deployments,
      timeScale: o.timeScale,
      models: o.models ?? DEFAULT_MODELS,
      mix: o.mix ?? DEFAULT_FIRMWARE_MIX,
      measuredBy: 'meter (Modbus, 200 ms cache)',
      secondsToFull: stats(full),
      secondsTo95: stats(p95),
      met: evidence.filter((e) => e.result === 'met' || e.result === 'not-judged').length,
      missed: evidence.filter((e) => e.result === 'missed').length,
      deadlineS: 600,
      perDeployment: rows,
    };
  } finally {
    loop.abort();
    await running;
    await agent?.close();
    await meter.close();
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Options from `--miners N --mw MW --deployments N --time-scale S --models … --mix … --concurrency N --restore-batch N`. */
export function benchEcrsArgs(argv: readonly string[]): BenchEcrsOptions {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string, dflt: number): number => {
    const v = get(name);
    if (v === undefined) return dflt;
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`--${name} must be a positive number, got '${v}'`);
    return x;
  };
  const o: BenchEcrsOptions = { miners: num('miners', 10_000), mw: num('mw', 50), deployments: Math.round(num('deployments', 10)), timeScale: num('time-scale', 10) };
  const models = get('models');
  const mix = get('mix');
  if (models !== undefined) o.models = models;
  if (mix !== undefined) o.mix = mix;
  if (get('concurrency') !== undefined) o.concurrency = num('concurrency', 512);
  if (get('restore-batch') !== undefined) o.restoreBatch = num('restore-batch', 2_000);
  return o;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.stdout.write(JSON.stringify(await benchEcrs(benchEcrsArgs(process.argv.slice(2))), null, 2) + '\n');
  } catch (err) {
    process.stderr.write(`bench ecrs: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
