/**
 * Fleet control benchmark: the simulator (worker processes, real protocols on loopback) with
 * 10,000 miners (50,000 when asked), the site agent in this process, a curtail --all signal timed
 * from receipt to every miner confirmed asleep (checked against the simulator's ground truth), then
 * a restore in paced batches; per-command latency percentiles, agent CPU and memory.
 *
 *   node dist/bench/fleet.js --miners 10000 [--mix antminer-stock:45,...] [--concurrency 512]
 *        [--restore-batch 500] [--restore-pacing-s 2] [--workers N] [--skip-restore]
 * prints one JSON document on stdout (progress on stderr).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { systemClock } from '../core/time.js';
import { SiteAgent } from '../fleet/agent/agent.js';
import { minersFromInventory } from '../fleet/agent/fleet.js';
import { NameplateTarget } from '../fleet/agent/targets.js';
import { DEFAULT_DECIDE_CONFIG } from '../fleet/agent/types.js';
import { builtinCapabilities, defaultDriverRegistry } from '../fleet/drivers/index.js';
import { FIRMWARE_PROFILES } from '../fleet/sim/firmware.js';
import { SimFleet, planFleet, defaultListenersPerProcess } from '../fleet/sim/fleet.js';
import { DEFAULT_HOST_OPTIONS } from '../fleet/sim/host.js';
import { simInventory } from '../fleet/sim/inventory-export.js';
import { DEFAULT_MINER_OPTIONS } from '../fleet/sim/miner.js';
import { parseFirmwareMix, parseModelMix } from '../fleet/sim/mix.js';
import { parseSite } from '../site/parse.js';
import type { Site } from '../site/types.js';
import { SqliteAgentStateStore } from '../fleet/state/store.js';
import { DEFAULT_FIRMWARE_MIX, percentile } from './stats.js';

export interface BenchFleetOptions {
  miners: number;
  cidr?: string;
  mix?: string;
  models?: string;
  seed?: number;
  /** Agent device calls in flight. */
  concurrency?: number;
  restoreBatch?: number;
  restorePacingS?: number;
  /** Simulator worker processes (default: 2, or more when the descriptor budget needs them). */
  workers?: number;
  skipRestore?: boolean;
  log?: (line: string) => void;
}

const DEFAULT_MODELS = 's19xp:1,s21:1,s21pro:1,s19jpro:1,m60s:1';


function round(x: number | null, d = 1): number | null {
  if (x === null) return null;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function latencyStats(ms: number[]): { n: number; p50Ms: number | null; p90Ms: number | null; p99Ms: number | null; maxMs: number | null } {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50Ms: round(percentile(s, 50), 2), p90Ms: round(percentile(s, 90), 2), p99Ms: round(percentile(s, 99), 2), maxMs: round(s.at(-1) ?? null, 2) };
}

/** CPU seconds (user + system) of this process between two cpuUsage() readings. */
function cpuS(a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number {
  return (b.user - a.user + (b.system - a.system)) / 1e6;
}

export async function benchFleet(o: BenchFleetOptions): Promise<Record<string, unknown>> {
  const log = o.log ?? ((l: string) => void process.stderr.write(`bench fleet: ${l}\n`));
  const n = o.miners;
  const cidr = o.cidr ?? (n > 60_000 ? '127.40.0.0/15' : '127.40.0.0/16');
  const mix = parseFirmwareMix(o.mix ?? DEFAULT_FIRMWARE_MIX);
  const models = parseModelMix(o.models ?? DEFAULT_MODELS);
  const seed = o.seed ?? 1;
  const concurrency = o.concurrency ?? 512;
  const restoreBatch = o.restoreBatch ?? 500;
  const restorePacingS = o.restorePacingS ?? 2;

  // Spread the simulator over worker processes (never in this process: it would share the agent's CPU).
  const specs = planFleet({ miners: n, cidr, mix, models, seed });
  const listeners = specs.reduce((a, s) => a + FIRMWARE_PROFILES[s.firmware].ports.length, 0);
  const budget = defaultListenersPerProcess();
  const workers = Math.max(o.workers ?? 2, Math.ceil(listeners / budget), 2);
  const perProcess = Math.ceil(listeners / workers) + 2;
  log(`starting the simulator: ${n} miners, ${listeners} listeners over ${workers} worker processes`);
  const t0 = performance.now();
  const fleet = await SimFleet.start({
    miners: n,
    cidr,
    mix,
    models,
    seed,
    timeScale: 1,
    listenersPerProcess: perProcess,
    aiLoadW: 0,
    host: { ...DEFAULT_HOST_OPTIONS },
    miner: DEFAULT_MINER_OPTIONS,
  });
  const simStartS = (performance.now() - t0) / 1000;
  const dir = mkdtempSync(path.join(tmpdir(), 'mullet-bench-fleet-'));
  let agent: SiteAgent | undefined;
  const loop = new AbortController();
  let running: Promise<void> | undefined;
  try {
    log(`simulator up in ${simStartS.toFixed(1)} s (${fleet.workers} workers)`);
    const inventory = simInventory(fleet.miners, await fleet.truth(), systemClock.nowMs(), builtinCapabilities);
    const ratedMW = inventory.miners.reduce((a, m) => a + (m.ratedPowerW ?? 0), 0) / 1e6;
    // Through the site parser, so every default is the site model's own.
    const site: Site = parseSite(['name: bench', 'market: { iso: ERCOT, settlementPoint: HB_WEST }', `interconnect: { importLimitMW: ${Math.ceil(ratedMW * 2)} }`, ''].join('\n'), { file: 'bench-site' });
    const miners = minersFromInventory(inventory, site, { registry: defaultDriverRegistry(), clock: systemClock, callTimeoutMs: 10_000, connectTimeoutMs: 5_000 });
    const store = SqliteAgentStateStore.open(path.join(dir, 'agent.db'), systemClock.nowMs());
    agent = await SiteAgent.create({
      siteName: site.name,
      miners,
      store,
      clock: systemClock,
      targets: new NameplateTarget(),
      decide: { ...DEFAULT_DECIDE_CONFIG, importLimitMW: site.interconnect.importLimitMW, aiMW: 0, restoreBatchSize: restoreBatch, restorePacingMs: restorePacingS * 1000, confirmTimeoutMs: 10_000, minDwellMs: 0 },
      concurrency,
      callTimeoutMs: 10_000,
      // As `mullet agent --tick-s 60` configures it: a snapshot is trusted for one tick period.
      tickMs: 60_000,
      verifyWaitMs: 10_000,
      verifyPollMs: 200,
      snapshotMaxAgeMs: 60_000,
      log: (l: string) => log(`agent: ${l}`),
    });
    const a = agent;
    let peakRss = process.memoryUsage.rss();
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
    rssTimer.unref();

    // 1. Start-up tick: full read of the fleet (what every regular tick does).
    const cpu0 = process.cpuUsage();
    const start = await a.tick('start');
    const cpu1 = process.cpuUsage();
    log(`start-up read of ${n} miners: ${Math.round(start.durationMs)} ms, ${start.readFailures} failures`);
    running = a.run(loop.signal);

    // 2. curtail --all: signal → every miner confirmed asleep.
    const tSignal = performance.now();
    const { record } = await a.receiveSignal({ kind: 'curtail', all: true }, 'bench-curtail', 'bench');
    const curtailed = await a.waitForSignal(record.id, 600_000);
    const curtailWallMs = performance.now() - tSignal;
    const cpu2 = process.cpuUsage();
    const afterCurtail = await fleet.stateCounts();
    log(`curtail --all: ${Math.round(curtailWallMs)} ms, ${afterCurtail.sleeping}/${n} asleep in the ground truth`);
    const curtailCmds = (await store.commands({})).filter((c) => c.signalId === 'bench-curtail');

    // 3. restore in paced batches.
    let restore: Record<string, unknown> | null = null;
    if (!o.skipRestore) {
      const tRestore = performance.now();
      const cpu3 = process.cpuUsage();
      const r = await a.receiveSignal({ kind: 'restore' }, 'bench-restore', 'bench');
      const restored = await a.waitForSignal(r.record.id, 1_800_000);
      const restoreWallMs = performance.now() - tRestore;
      const cpu4 = process.cpuUsage();
      const afterRestore = await fleet.stateCounts();
      const wakes = (await store.commands({})).filter((c) => c.signalId === 'bench-restore' && c.kind === 'wake');
      const times = wakes.map((c) => c.sentAtMs).sort((x, y) => x - y);
      const batches: number[] = [];
      for (const t of times) if (batches.length === 0 || t - (batches[batches.length - 1] as number) >= restorePacingS * 1000 * 0.5) batches.push(t);
      log(`restore: ${Math.round(restoreWallMs)} ms, ${batches.length} batches`);
      restore = {
        state: restored?.state ?? null,
        wallMs: Math.round(restoreWallMs),
        agentElapsedMs: restored?.confirmedAtMs !== null && restored ? restored.confirmedAtMs - restored.receivedAtMs : null,
        // Wakes acknowledged (every batch sent and read back 'waking'); agentElapsedMs adds the boots (woken miners hashing).
        agentAcknowledgedMs: restored?.acknowledgedAtMs != null ? restored.acknowledgedAtMs - restored.receivedAtMs : null,
        batchSize: restoreBatch,
        pacingS: restorePacingS,
        batches: batches.length,
        expectedMinMs: Math.max(0, Math.ceil(n / restoreBatch) - 1) * restorePacingS * 1000,
        commandsSent: restored?.commandsSent ?? null,
        minersConfirmed: restored?.minersConfirmed ?? null,
        minersFailed: restored?.minersFailed ?? null,
        groundTruth: { waking: afterRestore.waking, mining: afterRestore.mining, sleeping: afterRestore.sleeping, other: n - afterRestore.waking - afterRestore.mining - afterRestore.sleeping },
        wakeLatency: latencyStats(wakes.map((c) => c.latencyMs)),
        agentCpuS: round(cpuS(cpu3, cpu4), 2),
      };
    }
    clearInterval(rssTimer);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const byFirmware: Record<string, ReturnType<typeof latencyStats>> = {};
    for (const fw of Object.keys(FIRMWARE_PROFILES)) {
      const ms = curtailCmds.filter((c) => c.minerId.startsWith(`${fw}@`)).map((c) => c.latencyMs);
      if (ms.length) byFirmware[fw] = latencyStats(ms);
    }
    return {
      miners: n,
      mix: o.mix ?? DEFAULT_FIRMWARE_MIX,
      simulator: { workers: fleet.workers, listeners: fleet.listeners, startupS: round(simStartS, 1) },
      agent: { concurrency, callTimeoutMs: 10_000 },
      startupRead: { ms: Math.round(start.durationMs), readFailures: start.readFailures, agentCpuS: round(cpuS(cpu0, cpu1), 2) },
      curtailAll: {
        state: curtailed?.state ?? null,
        signalToConfirmedMs: Math.round(curtailWallMs),
        agentElapsedMs: curtailed?.confirmedAtMs !== null && curtailed ? curtailed.confirmedAtMs - curtailed.receivedAtMs : null,
        targetMs: n <= 10_000 ? 5_000 : 30_000,
        commandsSent: curtailed?.commandsSent ?? null,
        commandsFailed: curtailCmds.filter((c) => !c.ok).length,
        minersConfirmed: curtailed?.minersConfirmed ?? null,
        minersFailed: curtailed?.minersFailed ?? null,
        groundTruthAsleep: afterCurtail.sleeping,
        allAsleepInGroundTruth: afterCurtail.sleeping === n,
        sleepLatency: latencyStats(curtailCmds.map((c) => c.latencyMs)),
        sleepLatencyByFirmware: byFirmware,
        agentCpuS: round(cpuS(cpu1, cpu2), 2),
      },
      restore,
      agentPeakRssMb: Math.round(peakRss / 2 ** 20),
    };
  } finally {
    loop.abort();
    await running;
    await agent?.close();
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Options from `--miners N --mix … --concurrency N --restore-batch N --restore-pacing-s S --workers N --skip-restore`. */
export function benchFleetArgs(argv: readonly string[]): BenchFleetOptions {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`--${name} must be a positive number, got '${v}'`);
    return x;
  };
  const o: BenchFleetOptions = { miners: num('miners') ?? 10_000 };
  const mix = get('mix');
  const concurrency = num('concurrency');
  const restoreBatch = num('restore-batch');
  const restorePacingS = num('restore-pacing-s');
  const workers = num('workers');
  if (mix !== undefined) o.mix = mix;
  if (concurrency !== undefined) o.concurrency = concurrency;
  if (restoreBatch !== undefined) o.restoreBatch = restoreBatch;
  if (restorePacingS !== undefined) o.restorePacingS = restorePacingS;
  if (workers !== undefined) o.workers = workers;
  if (argv.includes('--skip-restore')) o.skipRestore = true;
  return o;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const result = await benchFleet(benchFleetArgs(process.argv.slice(2)));
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } catch (err) {
    process.stderr.write(`bench fleet: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
