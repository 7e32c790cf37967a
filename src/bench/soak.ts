/**
 * Fault-injection soak: the site agent against the simulator for thousands of ticks while a seeded
 * schedule makes devices lie and misbehave and signals flap, judged against the simulator's ground
 * truth (the site's true power), never the agent's own belief.
 *
 *   npm run bench -- soak [--ticks 10000] [--miners 40] [--seed 1]
 *
 * Faults (each drawn every ~0.5 s by a seeded PRNG): sleeps acknowledged and ignored; a summary
 * channel that says 0 while hashing; implausible readings (10¹² W, negative hashrate); reboots
 * (machines come back waking); refused connections; devices that report asleep in every read
 * while hashing (fake-sleep: no read can tell, only the meter); signals flapping between curtail
 * (MW, %, all) and restore. The site limit leaves room for ~70 % of the fleet, so the agent must
 * curtail throughout; the agent keeps a safety margin of 1 % of the mining nameplate.
 *
 * Judged every 100 ms:
 *  - overLimit: samples whose true site power (miners + AI, what the meter reads) exceeds the
 *    import limit; worst excess kW and the longest run in seconds, split into those inside a
 *    fake-sleep episode (detectable by the meter only) and the rest (goal 0 after the first tick);
 *  - falseConfirmations: a miner the agent holds as confirmed asleep (intent confirmed, read
 *    asleep) while the truth is hashing, split the same way (goal 0 outside fake-sleep), counted two
 *    ways: `afterRead` — the agent has completed two reads of the miner since the truth started
 *    hashing (the second necessarily began after it: that read should have seen it) and still holds
 *    it asleep: a belief the agent's own evidence contradicts; `byTime` — the contradiction lasted
 *    longer than `judgeGraceMs` of wall time, whether or not a read came in between (on a loaded box
 *    reads of 40 miners with refused connections can be further apart than that).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../core/time.js';
import { SiteAgent } from '../fleet/agent/agent.js';
import { minersFromInventory } from '../fleet/agent/fleet.js';
import { NameplateTarget } from '../fleet/agent/targets.js';
import { DEFAULT_DECIDE_CONFIG } from '../fleet/agent/types.js';
import { builtinCapabilities, defaultDriverRegistry } from '../fleet/drivers/index.js';
import { ModbusMeterReader } from '../fleet/meter/meter-reader.js';
import type { FaultSpec } from '../fleet/sim/faults.js';
import { SimFleet } from '../fleet/sim/fleet.js';
import { DEFAULT_HOST_OPTIONS } from '../fleet/sim/host.js';
import { simInventory } from '../fleet/sim/inventory-export.js';
import { ModbusMeterServer } from '../fleet/sim/meter-server.js';
import { DEFAULT_MINER_OPTIONS } from '../fleet/sim/miner.js';
import { parseFirmwareMix, parseModelMix } from '../fleet/sim/mix.js';
import { Rng } from '../fleet/sim/rng.js';
import { SqliteAgentStateStore } from '../fleet/state/store.js';

export interface SoakOptions {
  ticks: number;
  miners: number;
  seed: number;
  /** A confirmed sleep contradicted by the truth for longer than this is a false confirmation, ms. */
  judgeGraceMs: number;
  log?: (line: string) => void;
}

export function soakArgs(argv: readonly string[]): SoakOptions {
  const num = (name: string, dflt: number): number => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
    return v;
  };
  return { ticks: num('ticks', 10_000), miners: num('miners', 40), seed: num('seed', 1), judgeGraceMs: num('judge-grace-ms', 2_000) };
}

const AI_LOAD_MW = 2.5;
const SAMPLE_MS = 100;

interface Run {
  samples: number;
  runMs: number;
  worstKW: number;
  longestMs: number;
}

function newRun(): Run {
  return { samples: 0, runMs: 0, worstKW: 0, longestMs: 0 };
}

export async function benchSoak(o: SoakOptions): Promise<Record<string, unknown>> {
  const log = o.log ?? ((l: string) => void process.stderr.write(`bench soak: ${l}\n`));
  const rng = new Rng(o.seed);
  const fleet = await SimFleet.start({
    miners: o.miners,
    cidr: '127.44.0.0/24',
    mix: parseFirmwareMix('antminer-stock:1,luxos:1,braiins-legacy:1,whatsminer-v2:1'),
    models: parseModelMix('s19xp:1,s21:1,s21pro:1,m60s:1'),
    seed: o.seed,
    // Device time 10× the wall: wake ramps and reboots play out within the run.
    timeScale: 10,
    listenersPerProcess: 100_000,
    aiLoadW: AI_LOAD_MW * 1e6,
    host: { ...DEFAULT_HOST_OPTIONS, maintainEveryMs: 100 },
    miner: DEFAULT_MINER_OPTIONS,
  });
  const meterServer = new ModbusMeterServer(fleet, { cacheMs: 0, wall: systemClock, sim: fleet.clocks.sim });
  const meterPort = (await meterServer.listen('127.0.0.1', 0)).port;
  const dir = mkdtempSync(path.join(tmpdir(), 'mullet-bench-soak-'));
  const inventory = simInventory(fleet.miners, await fleet.truth(), systemClock.nowMs(), builtinCapabilities);
  const ratedMW = inventory.miners.reduce((a, m) => a + (m.ratedPowerW ?? 0), 0) / 1e6;
  const importLimitMW = AI_LOAD_MW + 0.7 * ratedMW;
  const { parseSite } = await import('../site/parse.js');
  const site = parseSite([`name: soak`, 'market: { iso: ERCOT, settlementPoint: HB_WEST }', `interconnect: { importLimitMW: ${importLimitMW.toFixed(6)} }`, 'ai:', `  - { kind: firm, name: gpu, itMW: 2, pue: 1.25, usdPerKwMonth: 150 }`, ''].join('\n'), { file: 'soak-site' });
  const miners = minersFromInventory(inventory, site, { registry: defaultDriverRegistry(), clock: systemClock, callTimeoutMs: 1_000, connectTimeoutMs: 500 });
  const store = SqliteAgentStateStore.open(path.join(dir, 'agent.db'), systemClock.nowMs());
  const events: Record<string, number> = {};
  const agent = await SiteAgent.create({
    siteName: site.name,
    miners,
    store,
    clock: systemClock,
    targets: new NameplateTarget(),
    meter: new ModbusMeterReader({ host: '127.0.0.1', port: meterPort, timeoutMs: 500 }),
    // A margin of 1 % of the mining nameplate, as an operator would set (--margin-mw): machines
    // that report no power are counted at nameplate while they really draw it ±0.4 %.
    decide: { ...DEFAULT_DECIDE_CONFIG, importLimitMW, aiMW: AI_LOAD_MW, safetyMarginMW: 0.01 * ratedMW, confirmTimeoutMs: 3_000, commandGraceMs: 1_000, minDwellMs: 5_000, meterLagMs: 500, restorePacingMs: 500, restoreBatchSize: 10, failedRetryMs: 20_000, relapseWindowMs: 60_000 },
    concurrency: 64,
    callTimeoutMs: 1_000,
    tickMs: 20,
    pendingTickMs: 20,
    verifyWaitMs: 1_500,
    verifyPollMs: 100,
    snapshotMaxAgeMs: 0,
    meterPollMs: 20,
    log: () => undefined,
  });
  agent.events.subscribe((e) => {
    if (e.type === 'alert') events[e.kind] = (events[e.kind] ?? 0) + 1;
  });
  const ips = fleet.miners.map((m) => m.ip);
  const byHost = new Map(miners.map((m) => [m.host, m.id]));
  /** Active fake-sleep episodes: miner ip → until wall ms (a lie only the meter can see). */
  const fakeSleep = new Map<string, number>();
  const injected: Record<string, number> = {};
  let signals = 0;
  const inject = async (ip: string, spec: FaultSpec): Promise<void> => {
    await fleet.addFault(ip, spec);
    injected[spec.kind] = (injected[spec.kind] ?? 0) + 1;
    if (spec.kind === 'fake-sleep') fakeSleep.set(ip, Date.now() + (spec.durationMs ?? 0));
  };
  const chaos = async (): Promise<void> => {
    const ip = ips[Math.floor(rng.next() * ips.length)] as string;
    const x = rng.next();
    if (x < 0.25) await inject(ip, { kind: 'ignore-sleep', count: 1 + Math.floor(rng.next() * 3) });
    else if (x < 0.35) await inject(ip, { kind: 'lie-summary', durationMs: 5_000 });
    else if (x < 0.45) await inject(ip, { kind: 'implausible', durationMs: 2_000 + rng.next() * 8_000 });
    else if (x < 0.52) await inject(ip, { kind: 'reboot', rebootMs: 20_000 });
    else if (x < 0.58) await inject(ip, { kind: 'refused', durationMs: 1_000 + rng.next() * 3_000 });
    else if (x < 0.63) await inject(ip, { kind: 'fake-sleep', durationMs: 2_000 + rng.next() * 4_000 });
    // Signals flap: curtail by MW, by percent or all, and restore.
    const y = rng.next();
    if (y < 0.5) {
      signals++;
      const id = `soak-${signals}`;
      if (y < 0.15) await agent.receiveSignal({ kind: 'curtail', mw: 0.002 + rng.next() * 0.02 }, id, 'soak');
      else if (y < 0.25) await agent.receiveSignal({ kind: 'curtail', pct: 10 + rng.next() * 60 }, id, 'soak');
      else if (y < 0.3) await agent.receiveSignal({ kind: 'curtail', all: true }, id, 'soak');
      else await agent.receiveSignal({ kind: 'restore' }, id, 'soak');
    }
  };

  // --- the judge ---------------------------------------------------------------------------
  const over = { detectable: newRun(), meterOnly: newRun() };
  // miner id → since when the belief contradicts the truth, and the agent's reads of it since
  const contradicted = new Map<string, { sinceMs: number; lastReadAtMs: number; reads: number; countedByTime: boolean; countedAfterRead: boolean }>();
  const falseConfirmations = { detectable: 0, meterOnly: 0 };
  const falseAfterRead = { detectable: 0, meterOnly: 0 };
  let samples = 0;
  let judging = false;
  let firstTickDone = false;
  const judge = async (): Promise<void> => {
    if (judging || !firstTickDone) return;
    judging = true;
    try {
      const now = Date.now();
      for (const [ip, until] of fakeSleep) if (until < now - 2_000) fakeSleep.delete(ip);
      const [power, truth] = await Promise.all([fleet.sitePower(), fleet.truth()]);
      samples++;
      const excessKW = (power.totalW / 1e6 - importLimitMW) * 1000;
      const lying = fakeSleep.size > 0;
      for (const [k, r] of Object.entries(over) as [keyof typeof over, Run][]) {
        const mine = k === 'meterOnly' ? lying : !lying;
        if (excessKW > 0 && mine) {
          r.samples++;
          r.runMs += SAMPLE_MS;
          r.worstKW = Math.max(r.worstKW, excessKW);
          r.longestMs = Math.max(r.longestMs, r.runMs);
        } else if (mine || excessKW <= 0) r.runMs = 0;
      }
      const truthBy = new Map(truth.map((t) => [byHost.get(t.ip), t]));
      if (excessKW > 0 && process.env.SOAK_DEBUG) {
        const beliefs = agent.minerStates();
        const diff = beliefs
          .map((b) => ({ b, t: truthBy.get(b.id) }))
          .filter(({ b, t }) => t && (t.state === 'mining' || t.state === 'waking' || t.state === 'tuning') !== (b.state !== 'sleeping'))
          .map(({ b, t }) => `${b.id}: agent ${b.state} (${b.intent?.kind ?? '-'}/${b.intent?.status ?? '-'}) truth ${t?.state ?? '?'} ${Math.round(t?.powerW ?? 0)} W faults ${JSON.stringify(t?.faults.map((f) => f.kind))}`);
        log(`over by ${excessKW.toFixed(2)} kW: ${diff.join('; ') || 'beliefs match truth'}; allowed ${JSON.stringify((agent.status().lastTick as { decision?: unknown } | null)?.decision ?? null).slice(0, 300)}`);
      }
      for (const b of agent.minerStates()) {
        const t = truthBy.get(b.id);
        const believedAsleep = b.intent?.kind === 'sleep' && b.intent.status === 'confirmed' && b.state === 'sleeping';
        const hashing = t !== undefined && t.hashrateThs > 0.01 * (miners.find((m) => m.id === b.id)?.ratedHashrateThs ?? 0);
        if (believedAsleep && hashing) {
          let c = contradicted.get(b.id);
          if (!c) {
            c = { sinceMs: now, lastReadAtMs: b.readAtMs, reads: 0, countedByTime: false, countedAfterRead: false };
            contradicted.set(b.id, c);
          }
          if (b.readAtMs > c.lastReadAtMs) {
            c.lastReadAtMs = b.readAtMs;
            c.reads++;
          }
          const kind = fakeSleep.has(t.ip) ? 'meterOnly' : 'detectable';
          // One count per episode and rule.
          if (!c.countedByTime && now - c.sinceMs >= o.judgeGraceMs) {
            c.countedByTime = true;
            falseConfirmations[kind]++;
          }
          if (!c.countedAfterRead && c.reads >= 2) {
            c.countedAfterRead = true;
            falseAfterRead[kind]++;
            if (process.env.SOAK_DEBUG) log(`false confirmation after ${c.reads} reads: ${b.id} agent ${b.state} (${b.intent?.kind ?? '-'}/${b.intent?.status ?? '-'}) truth ${t.state} ${Math.round(t.powerW)} W faults ${JSON.stringify(t.faults.map((f) => f.kind))}`);
          }
        } else contradicted.delete(b.id);
      }
    } finally {
      judging = false;
    }
  };

  const t0 = performance.now();
  const loop = new AbortController();
  const first = await agent.tick('start');
  firstTickDone = true;
  log(`${o.miners} miners, import limit ${importLimitMW.toFixed(3)} MW (AI ${AI_LOAD_MW} MW + 70 % of ${ratedMW.toFixed(3)} MW mining); first tick ${Math.round(first.durationMs)} ms; running ${o.ticks} ticks`);
  const running = agent.run(loop.signal);
  const judgeTimer = setInterval(() => void judge(), SAMPLE_MS);
  const chaosTimer = setInterval(() => void chaos(), 500);
  let lastLog = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const ticks = (agent.status().lastTick as { seq: number } | null)?.seq ?? 0;
    if (performance.now() - lastLog > 15_000) {
      lastLog = performance.now();
      log(`${ticks} ticks, ${samples} samples, over the limit ${over.detectable.samples} (+${over.meterOnly.samples} during meter-only lies)`);
    }
    if (ticks >= o.ticks) break;
  }
  clearInterval(chaosTimer);
  clearInterval(judgeTimer);
  loop.abort();
  await running;
  const wallS = (performance.now() - t0) / 1000;
  const ticks = (agent.status().lastTick as { seq: number } | null)?.seq ?? 0;
  await agent.close();
  await meterServer.close();
  await fleet.close();
  rmSync(dir, { recursive: true, force: true });
  const fmt = (r: Run): Record<string, number> => ({ samples: r.samples, seconds: (r.samples * SAMPLE_MS) / 1000, worstExcessKW: Math.round(r.worstKW * 10) / 10, longestSeconds: r.longestMs / 1000 });
  return {
    miners: o.miners,
    seed: o.seed,
    ticks,
    wallS: Math.round(wallS * 10) / 10,
    importLimitMW: Math.round(importLimitMW * 1e6) / 1e6,
    sampleMs: SAMPLE_MS,
    samples,
    signals,
    faultsInjected: injected,
    overLimit: { excludingMeterOnlyLies: fmt(over.detectable), duringMeterOnlyLies: fmt(over.meterOnly) },
    falseConfirmations: {
      afterRead: { excludingMeterOnlyLies: falseAfterRead.detectable, duringMeterOnlyLies: falseAfterRead.meterOnly },
      byTime: { excludingMeterOnlyLies: falseConfirmations.detectable, duringMeterOnlyLies: falseConfirmations.meterOnly, judgeGraceMs: o.judgeGraceMs },
    },
    agentEvents: events,
  };
}
