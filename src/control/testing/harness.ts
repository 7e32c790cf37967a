/**
 * Test and bench harness for the control plane: a control plane under a random prefix on a NATS
 * server (deleted afterwards), and sites on the simulator whose agents run a SiteLink.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/time.js';
import { systemClock } from '../../core/time.js';
import type { SiteAgent } from '../../fleet/agent/agent.js';
import { NameplateTarget, type TargetProvider } from '../../fleet/agent/targets.js';
import type { SimSite } from '../../fleet/agent/testing/sim-site.js';
import type { SqliteAgentStateStore } from '../../fleet/state/store.js';
import { Center } from '../center/center.js';
import type { Fallback, NatsAuth } from '../connect.js';
import { controlNames, type ControlNames } from '../names.js';
import { deleteControlPlane } from '../setup.js';
import { ControlledTarget } from '../site/desired-target.js';
import { SiteLink } from '../site/site-link.js';

export const LOCAL_NATS = process.env.MULLET_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface TestPlane {
  prefix: string;
  names: ControlNames;
  center: Center;
  close(): Promise<void>;
}

/** A fresh control plane (random prefix) with its center connected; `close` deletes it. */
export async function testPlane(servers: readonly string[] = [LOCAL_NATS], o: { auth?: NatsAuth; env?: Record<string, string | undefined>; sites?: readonly string[] } = {}): Promise<TestPlane> {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const center = await Center.connect({ servers, prefix, env: o.env ?? {}, actor: 'test-center', ...(o.auth ? { auth: o.auth } : {}) });
  await center.init(o.sites ?? []);
  return {
    prefix,
    names: controlNames(prefix),
    center,
    close: async () => {
      await deleteControlPlane(center.jsm, center.names);
      await center.close();
    },
  };
}

export interface LinkedSite {
  siteId: string;
  agent: SiteAgent;
  store: SqliteAgentStateStore;
  db: string;
  link: SiteLink;
  target: ControlledTarget;
  /** Stops the loop, the link and the agent (the store closes with it). */
  stop(): Promise<void>;
}

/** An agent on `sim` linked to the control plane under `prefix`, its loop running. */
export async function linkedSite(
  sim: SimSite,
  o: { siteId: string; prefix: string; servers: readonly string[]; auth?: NatsAuth; env?: Record<string, string | undefined>; holdMs?: number; fallback?: Fallback; db?: string; clock?: Clock; inner?: TargetProvider; telemetryMs?: number; tickMs?: number; log?: (l: string) => void },
): Promise<LinkedSite> {
  const clock = o.clock ?? systemClock;
  const target = new ControlledTarget(o.inner ?? new NameplateTarget(), { holdMs: o.holdMs ?? 600_000, fallback: o.fallback ?? 'price-only' }, clock.nowMs());
  const { agent, store, db } = await sim.agent({ targets: target, clock, siteName: o.siteId, tickMs: o.tickMs ?? 2_000, ...(o.db ? { db: o.db } : {}), ...(o.log ? { log: o.log } : {}) });
  const link = await SiteLink.start(agent, target, store, {
    siteId: o.siteId,
    names: controlNames(o.prefix),
    servers: o.servers,
    auth: o.auth,
    env: o.env ?? {},
    holdMs: o.holdMs ?? 600_000,
    fallback: o.fallback ?? 'price-only',
    telemetryMs: o.telemetryMs ?? 1_000,
    connectTimeoutMs: 2_000,
    ...(o.log ? { log: o.log } : {}),
  });
  const ac = new AbortController();
  const loop = agent.run(ac.signal);
  let stopped = false;
  return {
    siteId: o.siteId,
    agent,
    store,
    db,
    link,
    target,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await link.close();
      ac.abort();
      await loop;
      await agent.close();
    },
  };
}

/** Polls `fn` until it returns a value that is not undefined, or throws after `timeoutMs`. */
export async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
