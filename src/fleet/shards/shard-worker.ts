/**
 * One shard: a worker thread running an ordinary SiteAgent over its slice of the site's fleet,
 * its mining target the cap the coordinator sends (cap-target.ts). The agent's safety loop is the
 * shard's own: a silent coordinator means the last cap holds for `holdMs`, then the safe mode
 * (`curtail-all`) sheds what it can. The shard sees no meter and no AI: the coordinator owns the
 * site limit and hands each shard its share. Reports (zod, messages.ts) go after every tick and on
 * a heartbeat; the coordinator counts a shard whose reports stop at full nameplate.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../../core/errors.js';
import { systemClock } from '../../core/time.js';
import { SiteAgent } from '../agent/agent.js';
import { minersFromInventory } from '../agent/fleet.js';
import { DEFAULT_DECIDE_CONFIG } from '../agent/types.js';
import { defaultDriverRegistry } from '../drivers/index.js';
import { inventorySchema } from '../inventory.js';
import { MemoryAgentStateStore } from '../state/memory-store.js';
import { SqliteAgentStateStore } from '../state/store.js';
import { parseSite } from '../../site/parse.js';
import { CoordinatorCapTarget } from './cap-target.js';
import { SHARD_PROTOCOL_VERSION, shardInitSchema, toShardSchema, type FromShard, type ShardInit, type ShardReportMsg } from './messages.js';

const v = SHARD_PROTOCOL_VERSION;

async function main(port: NonNullable<typeof parentPort>, init: ShardInit): Promise<void> {
  const send = (m: FromShard): void => port.postMessage(m);
  const log = (line: string): void => send({ v, type: 'log', shardId: init.shardId, line });
  const site = parseSite(init.siteYaml, { file: init.siteFile });
  const inventory = inventorySchema.parse(init.inventory);
  const clock = systemClock;
  const miners = minersFromInventory(inventory, site, { registry: defaultDriverRegistry(), clock, callTimeoutMs: init.callTimeoutMs, connectTimeoutMs: Math.min(5000, init.callTimeoutMs) }, `inventory (shard ${init.shardId})`);
  const nameplateMW = miners.reduce((a, m) => a + (m.ratedPowerW * m.pue) / 1e6, 0);
  const target = new CoordinatorCapTarget(init.initialCapMW, init.holdMs, clock);
  const store = init.dbPath === null ? new MemoryAgentStateStore() : SqliteAgentStateStore.open(init.dbPath, clock.nowMs());
  const hardStop = new AbortController();
  const agent = await SiteAgent.create({
    siteName: `${site.name}/${init.shardId}`,
    miners,
    store,
    clock,
    targets: target,
    // The shard's import limit is its whole nameplate (never binding): the coordinator's cap,
    // computed from the site limit, AI and every other shard, is the bound that matters.
    decide: { ...DEFAULT_DECIDE_CONFIG, importLimitMW: nameplateMW * 2 + 1, aiMW: 0, safeMode: 'curtail-all', ...init.decide },
    concurrency: init.concurrency,
    callTimeoutMs: init.callTimeoutMs,
    tickMs: init.tickMs,
    verifyWaitMs: init.verifyWaitMs,
    snapshotMaxAgeMs: init.snapshotMaxAgeMs,
    hardStop: hardStop.signal,
    log,
  });

  let tickSeq = 0;
  let lastTickMs: number | null = null;
  let lastFullReadMs: number | null = null;
  let capSeqOfTick = -1;
  /** The figures of the last tick, built once per tick: a heartbeat re-sends them (agent.status() walks every miner). */
  let body: ShardReportMsg | null = null;
  const build = (): ShardReportMsg => {
    const st = agent.status();
    const d = st.lastTick?.decision;
    if (st.lastTick?.fullRead) lastFullReadMs = st.lastTick.phasesMs.read;
    const by = d?.byStateMW ?? {};
    const minMW = (by.unknown ?? 0) + (by.failed ?? 0) + (by.unreachable ?? 0) + (by.sleeping ?? 0);
    return {
      v,
      type: 'report',
      shardId: init.shardId,
      capSeq: capSeqOfTick,
      capMW: target.cap.capMW,
      // The agent's own count after its last round (commands in flight at their level within the
      // grace, as it judges its own limit); before the first tick nothing is known: nameplate.
      currentMiningMW: Math.max(0, d ? d.projectedMiningMW : nameplateMW),
      nameplateMW,
      minMW: d ? Math.min(minMW, nameplateMW) : nameplateMW,
      wantMW: nameplateMW,
      miners: miners.length,
      minersByState: st.minersByState,
      pending: d?.pending ?? 0,
      tickSeq,
      lastTickMs,
      lastFullReadMs,
      limitedBy: d?.limitedBy ?? null,
      fallback: false,
      ...(init.withMetrics ? { metricsText: agent.metricsText() } : {}),
    };
  };
  const report = (): void => {
    // Before the first tick: alive, knows nothing (tickSeq 0: the coordinator counts it at nameplate).
    const b = body ?? { v, type: 'report' as const, shardId: init.shardId, capSeq: -1, capMW: target.cap.capMW, currentMiningMW: nameplateMW, nameplateMW, minMW: nameplateMW, wantMW: nameplateMW, miners: miners.length, minersByState: {}, pending: 0, tickSeq: 0, lastTickMs: null, lastFullReadMs: null, limitedBy: null, fallback: false };
    send({ ...b, capMW: target.cap.capMW, fallback: target.expired(clock.nowMs()) });
  };
  agent.subscribe((e) => {
    if (e.type !== 'tick') return;
    const capSeq = target.lastSeqUsed;
    // After the tick has been recorded (the event comes from inside it): one report carries one tick's figures.
    setImmediate(() => {
      tickSeq = e.seq;
      lastTickMs = e.durationMs;
      capSeqOfTick = capSeq;
      body = build();
      report();
    });
  });

  const loop = new AbortController();
  port.on('message', (raw: unknown) => {
    const m = toShardSchema.safeParse(raw);
    if (!m.success) {
      log(`refused a message from the coordinator: ${m.error.issues[0]?.message ?? 'invalid'}`);
      return;
    }
    if (m.data.type === 'cap') {
      if (target.set(m.data.seq, m.data.capMW)) agent.requestTick();
    } else loop.abort();
  });
  const heartbeat = setInterval(report, init.reportEveryMs);
  try {
    const first = await agent.tick('start');
    // The start-up read of the whole slice (the tick event's report may not say it was full).
    if (first.fullRead) lastFullReadMs = first.phasesMs.read;
    await agent.run(loop.signal);
  } finally {
    clearInterval(heartbeat);
    await agent.close();
    send({ v, type: 'stopped', shardId: init.shardId });
    port.close();
  }
}

if (parentPort) {
  const port = parentPort;
  const init = shardInitSchema.safeParse(workerData);
  if (!init.success) {
    port.postMessage({ v, type: 'fatal', shardId: '?', error: `bad shard init: ${init.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` } satisfies FromShard);
  } else {
    main(port, init.data).catch((err: unknown) => {
      port.postMessage({ v, type: 'fatal', shardId: init.data.shardId, error: describeError(err) } satisfies FromShard);
    });
  }
}
