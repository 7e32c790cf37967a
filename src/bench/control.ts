/**
 * `npm run bench -- control [--sites 3] [--miners 10000] [--rounds 3] [--partition-s 60] [--commands 5]`:
 * the NATS control plane on the local server (127.0.0.1:4222, a random prefix deleted afterwards)
 * with `--sites` sites of `--miners` simulated miners each (simulator in worker processes, the
 * sites' agents and links in this process, each site behind a loopback TCP proxy):
 *  1. fleet-wide curtail from the center (`Center.send` to every site) → every site's outcome
 *     'settled confirmed' back at the center: per-site and fleet-wide times, `--rounds` times
 *     (each followed by a restore, waited for until the sites took it, not timed);
 *  2. one site partitioned for `--partition-s` while the center sends it `--commands` commands and
 *     a desired state; then healed: time from heal to reconciled (link connected, desired revision
 *     applied, every command answered at the center, the site's backlog empty), messages replayed,
 *     commands lost (no outcome) and duplicated (acted on twice), event batches lost/duplicated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Center, type SiteOutcome } from '../control/center/center.js';
import { controlNames } from '../control/names.js';
import { deleteControlPlane } from '../control/setup.js';
import { ControlledTarget } from '../control/site/desired-target.js';
import { SiteLink } from '../control/site/site-link.js';
import { TcpProxy } from '../control/testing/tcp-proxy.js';
import { LOCAL_NATS } from '../control/testing/harness.js';
import { eventBatchSchema, parseMessage } from '../control/wire.js';
import { systemClock } from '../core/time.js';
import { SiteAgent } from '../fleet/agent/agent.js';
import { minersFromInventory } from '../fleet/agent/fleet.js';
import { NameplateTarget } from '../fleet/agent/targets.js';
import { DEFAULT_DECIDE_CONFIG } from '../fleet/agent/types.js';
import { builtinCapabilities, defaultDriverRegistry } from '../fleet/drivers/index.js';
import { FIRMWARE_PROFILES } from '../fleet/sim/firmware.js';
import { defaultListenersPerProcess, planFleet, SimFleet } from '../fleet/sim/fleet.js';
import { DEFAULT_HOST_OPTIONS } from '../fleet/sim/host.js';
import { simInventory } from '../fleet/sim/inventory-export.js';
import { DEFAULT_MINER_OPTIONS } from '../fleet/sim/miner.js';
import { parseFirmwareMix, parseModelMix } from '../fleet/sim/mix.js';
import { SqliteAgentStateStore } from '../fleet/state/store.js';
import { parseSite } from '../site/parse.js';
import { randomBytes } from 'node:crypto';
import { percentile } from './stats.js';

export interface BenchControlOptions {
  sites: number;
  miners: number;
  rounds: number;
  partitionS: number;
  commands: number;
  log?: (line: string) => void;
}

interface BenchSite {
  id: string;
  fleet: SimFleet;
  agent: SiteAgent;
  store: SqliteAgentStateStore;
  link: SiteLink;
  proxy: TcpProxy;
  stop: AbortController;
  loop: Promise<void>;
}

const stats = (xs: readonly number[]): { n: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null } => {
  const s = [...xs].sort((a, b) => a - b).map((x) => Math.round(x));
  return { n: s.length, p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), maxMs: s.at(-1) ?? null };
};

async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}

export async function benchControl(o: BenchControlOptions): Promise<Record<string, unknown>> {
  const log = o.log ?? ((l: string) => void process.stderr.write(`bench control: ${l}\n`));
  const prefix = `bench${randomBytes(3).toString('hex')}`;
  const names = controlNames(prefix);
  const ids = Array.from({ length: o.sites }, (_, i) => `site${i + 1}`);
  const center = await Center.connect({ servers: [LOCAL_NATS], prefix, env: {}, actor: 'bench', timeoutMs: 10_000 });
  await center.init(ids);
  const dir = mkdtempSync(path.join(tmpdir(), 'mullet-bench-control-'));
  const sites: BenchSite[] = [];
  const natsPort = Number(new URL(LOCAL_NATS).port);
  try {
    const mix = parseFirmwareMix('antminer-stock:45,luxos:25,braiins-legacy:10,whatsminer-v2:20');
    const models = parseModelMix('s19xp:1,s21:1,s21pro:1,s19jpro:1,m60s:1');
    const t0 = performance.now();
    for (const [i, id] of ids.entries()) {
      const cidr = `127.${60 + i}.0.0/16`;
      const specs = planFleet({ miners: o.miners, cidr, mix, models, seed: i + 1 });
      const listeners = specs.reduce((a, s) => a + FIRMWARE_PROFILES[s.firmware].ports.length, 0);
      // The simulator runs in worker processes (never in this one: it would share the agents' CPU).
      const workers = Math.max(2, Math.ceil(listeners / defaultListenersPerProcess()));
      const fleet = await SimFleet.start({ miners: o.miners, cidr, mix, models, seed: i + 1, timeScale: 1, listenersPerProcess: Math.ceil(listeners / workers) + 2, aiLoadW: 0, host: { ...DEFAULT_HOST_OPTIONS }, miner: DEFAULT_MINER_OPTIONS });
      const inventory = simInventory(fleet.miners, await fleet.truth(), systemClock.nowMs(), builtinCapabilities);
      const ratedMW = inventory.miners.reduce((a, m) => a + (m.ratedPowerW ?? 0), 0) / 1e6;
      const site = parseSite([`name: ${id}`, 'market: { iso: ERCOT, settlementPoint: HB_WEST }', `interconnect: { importLimitMW: ${Math.ceil(ratedMW * 2)} }`, ''].join('\n'), { file: id });
      const store = SqliteAgentStateStore.open(path.join(dir, `${id}.db`), systemClock.nowMs());
      const target = new ControlledTarget(new NameplateTarget(), { holdMs: 30_000, fallback: 'price-only' }, systemClock.nowMs());
      const agent = await SiteAgent.create({
        siteName: id,
        miners: minersFromInventory(inventory, site, { registry: defaultDriverRegistry(), clock: systemClock, callTimeoutMs: 10_000, connectTimeoutMs: 5_000 }),
        store,
        clock: systemClock,
        targets: target,
        decide: { ...DEFAULT_DECIDE_CONFIG, importLimitMW: site.interconnect.importLimitMW, aiMW: 0, restoreBatchSize: o.miners, restorePacingMs: 0, confirmTimeoutMs: 10_000, minDwellMs: 0 },
        concurrency: 256,
        callTimeoutMs: 10_000,
        tickMs: 60_000,
        verifyWaitMs: 10_000,
        verifyPollMs: 200,
        snapshotMaxAgeMs: 60_000,
        log: (l) => {
          if (/alert|failed/.test(l)) log(`${id}: ${l}`);
        },
      });
      const proxy = await TcpProxy.start('127.0.0.1', natsPort);
      const link = await SiteLink.start(agent, target, store, { siteId: id, names, servers: [proxy.url], env: {}, holdMs: 30_000, fallback: 'price-only', telemetryMs: 10_000, log: (l) => log(`${id}: ${l}`) });
      await agent.tick('start');
      const stop = new AbortController();
      sites.push({ id, fleet, agent, store, link, proxy, stop, loop: agent.run(stop.signal) });
      log(`${id}: ${o.miners} miners up (${fleet.workers} simulator workers)`);
    }
    const startupS = (performance.now() - t0) / 1000;
    await until(() => sites.every((s) => s.link.state().state === 'connected'), 30_000);

    // 1. Fleet-wide curtail → every site confirmed, `rounds` times.
    const perSite: number[] = [];
    const fleetWide: number[] = [];
    /** Center-seen time minus the agent's own receipt → confirmed time: what the control plane adds. */
    const overhead: number[] = [];
    const rounds: Record<string, unknown>[] = [];
    for (let r = 1; r <= o.rounds; r++) {
      const c = await center.send(ids, { action: 'curtail', all: true }, { id: `curtail-${r}`, until: 'settled', deadlineMs: 300_000 });
      const ok = c.filter((x) => x.outcome?.signal?.state === 'confirmed');
      for (const x of ok) {
        perSite.push(x.elapsedMs ?? 0);
        overhead.push((x.elapsedMs ?? 0) - (x.outcome?.signal?.elapsedMs ?? 0));
      }
      const asleep = (await Promise.all(sites.map((s) => s.fleet.stateCounts()))).reduce((a, s) => a + s.sleeping, 0);
      if (ok.length === ids.length) fleetWide.push(Math.max(...ok.map((x) => x.elapsedMs ?? 0)));
      rounds.push({ round: r, confirmedSites: ok.length, asleepInGroundTruth: asleep, perSiteMs: c.map((x: SiteOutcome) => Math.round(x.elapsedMs ?? -1)), agentElapsedMs: c.map((x) => x.outcome?.signal?.elapsedMs ?? null) });
      log(`round ${r}: ${ok.length}/${ids.length} sites confirmed, slowest ${Math.round(Math.max(...c.map((x) => x.elapsedMs ?? 0)))} ms; ${asleep}/${o.miners * o.sites} asleep`);
      // A restore settles when the woken machines hash (minutes of simulated boot): taken is enough here.
      const rr = await center.send(ids, { action: 'restore' }, { id: `restore-${r}`, until: 'received', deadlineMs: 300_000 });
      log(`restore ${r}: ${rr.filter((x) => x.done).length}/${ids.length} received`);
    }

    // 2. Partition one site; the center keeps steering it; heal; reconcile.
    const p = sites[0] as BenchSite;
    const out0 = p.link.outboxStats();
    const desiredBefore = p.link.state().desiredRevision;
    p.proxy.cut();
    log(`partition: ${p.id} cut for ${o.partitionS} s; ${o.commands} commands and a desired state sent meanwhile`);
    const tCut = performance.now();
    const cmdIds: string[] = [];
    for (let k = 1; k <= o.commands; k++) {
      const id = `during-partition-${k}`;
      cmdIds.push(id);
      await center.publishCommand(p.id, id, k % 2 === 1 ? { action: 'curtail', pct: 10 * k } : { action: 'restore' });
      await new Promise((r) => setTimeout(r, (o.partitionS * 1000) / (o.commands + 2)));
    }
    const desired = await center.setDesired(p.id, { mode: 'auto', capMW: 1_000, planRef: 'bench-partition' });
    const heard = new Map<string, { phase: string; duplicate: boolean }[]>();
    const sub = center.nc.subscribe(names.outcome(p.id));
    void (async () => {
      for await (const m of sub) {
        const x = JSON.parse(new TextDecoder().decode(m.data)) as { commandId: string; phase: string; duplicate: boolean };
        heard.set(x.commandId, [...(heard.get(x.commandId) ?? []), { phase: x.phase, duplicate: x.duplicate }]);
      }
    })();
    const left = o.partitionS * 1000 - (performance.now() - tCut);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    const stateAtHeal = p.link.state();
    const backlogAtHeal = stateAtHeal.backlog;
    p.proxy.heal();
    const tHeal = performance.now();
    // Answered: the site took it (a restore settles only once the woken machines hash, minutes of boot later).
    const settledOrRejected = (id: string): boolean => (heard.get(id) ?? []).length > 0;
    const reconciled = await until(() => p.link.state().state === 'connected' && p.link.state().desiredRevision === desired.revision && cmdIds.every(settledOrRejected) && p.link.outboxStats().backlog === 0, 300_000, 20);
    const healToReconciledMs = performance.now() - tHeal;
    sub.unsubscribe();
    const out1 = p.link.outboxStats();
    // Duplicates: a command given to the agent twice shows as two fresh 'received' outcomes for one id.
    // Separately, miners sent more than one non-retry command under one signal id: the agent's own
    // re-decisions (a miner woken by the restore before it, read still drawing), listed with the kinds.
    const agentRecommands: { signal: string; miners: number; kinds: string[] }[] = [];
    for (const id of cmdIds) {
      const per = new Map<string, string[]>();
      for (const c of await p.store.commands({ limit: 1_000_000 })) if (c.signalId === id && c.reason !== 'retry') per.set(c.minerId, [...(per.get(c.minerId) ?? []), `${c.kind}/${c.reason}`]);
      const twice = [...per.values()].filter((k) => k.length > 1);
      if (twice.length > 0) agentRecommands.push({ signal: id, miners: twice.length, kinds: [...new Set(twice.map((k) => k.join('+')))].slice(0, 5) });
    }
    const received = cmdIds.map((id) => (heard.get(id) ?? []).filter((h) => h.phase === 'received' && !h.duplicate).length);
    const duplicatedCommands = received.filter((n) => n > 1).length;
    // Event batches of this boot in the stream: every seq once.
    const seqs: number[] = [];
    const cons = await center.js.consumers.get(names.streams.events, { filter_subjects: names.events(p.id) });
    for (;;) {
      const batch = await cons.fetch({ max_messages: 500, expires: 2_000 });
      let n = 0;
      for await (const m of batch) {
        n++;
        const e = parseMessage(eventBatchSchema, m.data);
        if (e.ok) seqs.push(e.value.seq);
      }
      if (n === 0) break;
    }
    const distinct = new Set(seqs);
    const maxSeq = Math.max(0, ...seqs);
    log(`healed: reconciled=${reconciled} in ${Math.round(healToReconciledMs)} ms; ${o.commands} commands delivered once each: ${received.every((n) => n === 1)}`);
    return {
      natsServer: LOCAL_NATS,
      sites: o.sites,
      minersPerSite: o.miners,
      totalMiners: o.sites * o.miners,
      startupS: Math.round(startupS),
      fleetWideCurtail: {
        rounds: o.rounds,
        perSiteConfirmed: stats(perSite),
        allSitesConfirmed: stats(fleetWide),
        controlPlaneOverhead: stats(overhead),
        detail: rounds,
        note: 'publish at the center → the site’s settled outcome (every miner confirmed asleep by a read) back at the center; center clock',
      },
      partition: {
        site: p.id,
        partitionS: o.partitionS,
        commandsSentWhilePartitioned: o.commands,
        desiredStateWhilePartitioned: { revision: desired.revision, before: desiredBefore },
        linkAtHeal: stateAtHeal.state,
        reconciled,
        healToReconciledMs: Math.round(healToReconciledMs),
        replayed: {
          commands: o.commands,
          desiredStates: 1,
          outboxMessagesAfterHeal: out1.stored - out0.stored,
          backlogAtHeal,
        },
        lostCommands: cmdIds.filter((id) => !settledOrRejected(id)).length,
        duplicatedCommands,
        agentRecommands,
        commandsReceivedOnce: received.every((n) => n === 1),
        eventBatches: { stored: seqs.length, distinct: distinct.size, lost: maxSeq - distinct.size, duplicated: seqs.length - distinct.size },
        telemetryDropped: out1.telemetryDropped,
      },
    };
  } finally {
    const tc = performance.now();
    const lap = (what: string): void => log(`closing: ${what} at ${Math.round(performance.now() - tc)} ms`);
    for (const s of sites) {
      await s.link.close();
      lap(`${s.id} link`);
      s.stop.abort();
      await s.loop;
      lap(`${s.id} loop`);
      await s.agent.close();
      lap(`${s.id} agent`);
      await s.proxy.close();
      await s.fleet.close();
      lap(`${s.id} fleet`);
    }
    await deleteControlPlane(center.jsm, names);
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Options from `--sites N --miners N --rounds N --partition-s S --commands N`. */
export function benchControlArgs(argv: readonly string[]): BenchControlOptions {
  const num = (name: string, dflt: number): number => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return dflt;
    const x = Number(argv[i + 1]);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`--${name} must be a positive number, got '${argv[i + 1] ?? ''}'`);
    return x;
  };
  return { sites: num('sites', 3), miners: num('miners', 10_000), rounds: num('rounds', 3), partitionS: num('partition-s', 60), commands: num('commands', 5) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchControl(benchControlArgs(process.argv.slice(2)));
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
