/**
 * Very large site benchmark: the simulator (worker processes, real protocols on loopback) with
 * 100,000 miners by default, one site split over N agent shards (worker threads of this process)
 * under a shard coordinator. Times (1) the start-up: every shard's full read of its slice, in
 * parallel, (2) a site curtail --all from the signal to every shard reporting every miner asleep
 * (checked against the simulator's ground truth). Agent CPU is this process's (all shards).
 *
 *   npm run bench -- shards [--miners 100000 --shards 4 --concurrency 512 --workers N]
 * prints one JSON document on stdout (progress on stderr).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../core/time.js';
import { builtinCapabilities } from '../fleet/drivers/index.js';
import { FIRMWARE_PROFILES } from '../fleet/sim/firmware.js';
import { SimFleet, defaultListenersPerProcess, planFleet } from '../fleet/sim/fleet.js';
import { DEFAULT_HOST_OPTIONS } from '../fleet/sim/host.js';
import { simInventory } from '../fleet/sim/inventory-export.js';
import { DEFAULT_MINER_OPTIONS } from '../fleet/sim/miner.js';
import { parseFirmwareMix, parseModelMix } from '../fleet/sim/mix.js';
import { ShardCoordinator } from '../fleet/shards/coordinator.js';

export interface BenchShardsOptions {
  miners: number;
  shards: number;
  concurrency?: number;
  workers?: number;
  log?: (line: string) => void;
}

const DEFAULT_MIX = 'antminer-stock:45,luxos:25,braiins-legacy:10,whatsminer-v2:20';
const DEFAULT_MODELS = 's19xp:1,s21:1,s21pro:1,s19jpro:1,m60s:1';

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const cpuS = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number => (b.user - a.user + (b.system - a.system)) / 1e6;

export async function benchShards(o: BenchShardsOptions): Promise<Record<string, unknown>> {
  const log = o.log ?? ((l: string) => void process.stderr.write(`bench shards: ${l}\n`));
  const n = o.miners;
  const cidr = n > 60_000 ? '127.40.0.0/15' : '127.40.0.0/16';
  const mix = parseFirmwareMix(DEFAULT_MIX);
  const models = parseModelMix(DEFAULT_MODELS);
  const specs = planFleet({ miners: n, cidr, mix, models, seed: 1 });
  const listeners = specs.reduce((a, s) => a + FIRMWARE_PROFILES[s.firmware].ports.length, 0);
  const workers = Math.max(o.workers ?? 2, Math.ceil(listeners / defaultListenersPerProcess()), 2);
  log(`starting the simulator: ${n} miners, ${listeners} listeners over ${workers} worker processes`);
  const t0 = performance.now();
  const fleet = await SimFleet.start({ miners: n, cidr, mix, models, seed: 1, timeScale: 1, listenersPerProcess: Math.ceil(listeners / workers) + 2, aiLoadW: 0, host: { ...DEFAULT_HOST_OPTIONS }, miner: DEFAULT_MINER_OPTIONS });
  const simStartS = (performance.now() - t0) / 1000;
  const dir = mkdtempSync(path.join(tmpdir(), 'mullet-bench-shards-'));
  let c: ShardCoordinator | undefined;
  try {
    log(`simulator up in ${simStartS.toFixed(1)} s`);
    const inventory = simInventory(fleet.miners, await fleet.truth(), systemClock.nowMs(), builtinCapabilities);
    const ratedMW = inventory.miners.reduce((a, m) => a + (m.ratedPowerW ?? 0), 0) / 1e6;
    const siteYaml = ['name: bench-shards', 'market: { iso: ERCOT, settlementPoint: HB_WEST }', `interconnect: { importLimitMW: ${Math.ceil(ratedMW * 2)} }`, ''].join('\n');
    const siteFile = path.join(dir, 'site.yaml');
    writeFileSync(siteFile, siteYaml);
    let peakRss = process.memoryUsage.rss();
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 200);
    rssTimer.unref();
    const cpu0 = process.cpuUsage();
    const tStart = performance.now();
    c = ShardCoordinator.start({
      siteYaml,
      siteFile,
      inventory,
      shards: o.shards,
      importLimitMW: Math.ceil(ratedMW * 2),
      aiMW: 0,
      clock: systemClock,
      tickMs: 1000,
      reportEveryMs: 1000,
      // A shard busy reading tens of thousands of miners still answers its heartbeat; 15 s of silence is a dead one.
      silentAfterMs: 15_000,
      holdMs: 300_000,
      // As the fleet bench: a tick period of 60 s, a snapshot trusted for one period.
      shard: { tickMs: 60_000, snapshotMaxAgeMs: 60_000, concurrency: o.concurrency ?? 512, callTimeoutMs: 10_000, verifyWaitMs: 10_000, decide: { minDwellMs: 0, confirmTimeoutMs: 10_000 } },
      log: (l) => log(l),
    });
    const ready = await c.waitReady(1_800_000);
    const startupWallMs = performance.now() - tStart;
    const cpu1 = process.cpuUsage();
    const st = c.status();
    log(`start-up: every shard read its slice in ${Math.round(startupWallMs)} ms (ready: ${ready})`);

    const tSignal = performance.now();
    const { allocSeq } = c.signal({ kind: 'curtail', all: true });
    const settled = await c.waitSettled(allocSeq, 1_800_000, true);
    const curtailWallMs = performance.now() - tSignal;
    const cpu2 = process.cpuUsage();
    const after = await fleet.stateCounts();
    log(`curtail --all: ${Math.round(curtailWallMs)} ms, ${after.sleeping}/${n} asleep in the ground truth`);
    clearInterval(rssTimer);
    const end = c.status();
    return {
      miners: n,
      shards: o.shards,
      mix: DEFAULT_MIX,
      simulator: { workers: fleet.workers, listeners: fleet.listeners, startupS: round(simStartS) },
      fullRead: {
        ready,
        allShardsWallMs: Math.round(startupWallMs),
        perShardReadMs: st.shards.map((s) => (s.lastFullReadMs === null ? null : Math.round(s.lastFullReadMs))),
        agentCpuS: round(cpuS(cpu0, cpu1), 2),
      },
      curtailAll: {
        confirmed: settled,
        signalToAllAsleepMs: Math.round(curtailWallMs),
        groundTruthAsleep: after.sleeping,
        allAsleepInGroundTruth: after.sleeping === n,
        perShardTickMs: end.shards.map((s) => (s.lastTickMs === null ? null : Math.round(s.lastTickMs))),
        // What the shards believe after the curtail: unknown / unreachable miners cannot be put to sleep until read.
        agentMinersByState: end.minersByState,
        groundTruth: after,
        agentCpuS: round(cpuS(cpu1, cpu2), 2),
      },
      agentPeakRssMb: Math.round(peakRss / 2 ** 20),
    };
  } finally {
    await c?.close(60_000);
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `--miners N --shards N --concurrency N --workers N`. */
export function benchShardsArgs(argv: readonly string[]): BenchShardsOptions {
  const num = (name: string): number | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const x = Number(argv[i + 1]);
    if (!Number.isInteger(x) || x <= 0) throw new Error(`--${name} must be a positive integer, got '${argv[i + 1] ?? ''}'`);
    return x;
  };
  const o: BenchShardsOptions = { miners: num('miners') ?? 100_000, shards: num('shards') ?? 4 };
  const concurrency = num('concurrency');
  const workers = num('workers');
  if (concurrency !== undefined) o.concurrency = concurrency;
  if (workers !== undefined) o.workers = workers;
  return o;
}
