/**
 * Assembles a running agent from files and options (what `mullet agent` does, and what the tests
 * and the benchmark start): site YAML, inventory, drivers, state DB, plan or price feed, meter,
 * HTTP API and optional MQTT.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { softFdLimit } from '../../core/fd-limit.js';
import { MulletError, badInput } from '../../core/errors.js';
import { systemClock, type Clock } from '../../core/time.js';
import { parseSite } from '../../site/parse.js';
import type { Site } from '../../site/types.js';
import { defaultDriverRegistry } from '../drivers/index.js';
import { readInventory } from '../inventory.js';
import { ModbusMeterReader, parseHostPort } from '../meter/meter-reader.js';
import { AgentStateStore } from '../state/store.js';
import { SiteAgent } from './agent.js';
import { minersFromInventory } from './fleet.js';
import { AGENT_HTTP_DEFAULTS, startAgentHttp, type AgentHttpServer } from './http.js';
import { startMqttSignals, type MqttSignals } from './mqtt.js';
import { fetchPrice } from './price-feed.js';
import { NameplateTarget, PlanFileTarget, StrikeRuleTarget, type TargetProvider } from './targets.js';
import { DEFAULT_DECIDE_CONFIG, type DecideConfig, type SafeMode } from './types.js';

/** Descriptors kept for the state database, meter, MQTT, stdio and the runtime. */
const FD_RESERVE_AGENT = 64;

export interface AgentRunConfig {
  siteFile: string;
  inventoryFile: string;
  planFile?: string;
  /** Price feed URL, or undefined/'none' for no feed. */
  priceFeed?: string;
  /** Site meter, HOST:PORT (Modbus TCP). */
  meter?: string;
  /** HTTP API, HOST:PORT (port 0 = any free port). */
  listen: string;
  dbFile: string;
  tickS: number;
  safeMode: SafeMode;
  mqttUrl?: string;
  mqttTopic?: string;
  /** Stable client id of the MQTT persistent session (default mullet-agent-<site>). */
  mqttClientId?: string;
  /** Permit a non-loopback --listen (the API has no authentication yet). */
  allowNonLoopback?: boolean;
  /** Host names the API may be reached by besides addresses and localhost. */
  allowedHosts?: readonly string[];
  /** A miner put to sleep is not woken again before this, s. */
  minDwellS?: number;
  concurrency: number;
  callTimeoutMs: number;
  connectTimeoutMs: number;
  restoreBatchSize: number;
  restorePacingS: number;
  safetyMarginMW: number;
  otherLoadMW: number;
  confirmTimeoutS: number;
  maxAttempts: number;
  /** A price older than this is stale, s. */
  priceStaleS: number;
  cwd: string;
  clock?: Clock;
  log?: (line: string) => void;
}

export const AGENT_DEFAULTS = {
  listen: '127.0.0.1:8420',
  dbFile: 'mullet-agent.db',
  tickS: 10,
  safeMode: 'hold' as SafeMode,
  concurrency: 512,
  callTimeoutMs: 5_000,
  connectTimeoutMs: 2_000,
  restoreBatchSize: DEFAULT_DECIDE_CONFIG.restoreBatchSize,
  restorePacingS: DEFAULT_DECIDE_CONFIG.restorePacingMs / 1000,
  safetyMarginMW: 0,
  otherLoadMW: 0,
  confirmTimeoutS: DEFAULT_DECIDE_CONFIG.confirmTimeoutMs / 1000,
  maxAttempts: DEFAULT_DECIDE_CONFIG.maxAttempts,
  priceStaleS: 20 * 60,
  minDwellS: DEFAULT_DECIDE_CONFIG.minDwellMs / 1000,
};

/** AI load the agent never curtails, MW at the meter: every AI load at full IT × PUE. */
export function siteAiMW(site: Site): number {
  return site.ai.reduce((a, l) => a + l.itMW * l.pue, 0);
}

export interface RunningAgent {
  agent: SiteAgent;
  site: Site;
  http: AgentHttpServer;
  mqtt: MqttSignals | null;
  /** Runs the loop until `signal` aborts (the tick in progress finishes). */
  run(signal: AbortSignal): Promise<void>;
  /** Stops MQTT and HTTP, closes driver sessions, the meter and the DB; idempotent. */
  close(): Promise<void>;
}

function readSite(file: string): Site {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MulletError('NOT_FOUND', `cannot read site file: ${(err as Error).message}`, { where: file, cause: err });
  }
  return parseSite(text, { file });
}

export async function startAgent(c: AgentRunConfig): Promise<RunningAgent> {
  const clock = c.clock ?? systemClock;
  const log = c.log ?? (() => undefined);
  const siteFile = resolve(c.cwd, c.siteFile);
  const site = readSite(siteFile);
  const invFile = resolve(c.cwd, c.inventoryFile);
  const inventory = readInventory(invFile);
  if (inventory.miners.length === 0) throw badInput('the inventory lists no miners', invFile);
  const listen = parseHostPort(c.listen, '--listen', 8420);
  const miners = minersFromInventory(inventory, site, { registry: defaultDriverRegistry(), clock, callTimeoutMs: c.callTimeoutMs, connectTimeoutMs: c.connectTimeoutMs }, c.inventoryFile);
  const aiMW = siteAiMW(site);
  const decide: DecideConfig = {
    ...DEFAULT_DECIDE_CONFIG,
    importLimitMW: site.interconnect.importLimitMW,
    aiMW,
    otherLoadMW: c.otherLoadMW,
    safetyMarginMW: c.safetyMarginMW,
    safeMode: c.safeMode,
    confirmTimeoutMs: c.confirmTimeoutS * 1000,
    maxAttempts: c.maxAttempts,
    restoreBatchSize: c.restoreBatchSize,
    restorePacingMs: c.restorePacingS * 1000,
    minDwellMs: (c.minDwellS ?? AGENT_DEFAULTS.minDwellS) * 1000,
  };
  let targets: TargetProvider;
  if (c.planFile !== undefined) {
    const plan = new PlanFileTarget(resolve(c.cwd, c.planFile), site.name);
    await plan.load();
    targets = plan;
  } else if (c.priceFeed !== undefined && c.priceFeed !== 'none') {
    const url = c.priceFeed;
    try {
      new URL(url);
    } catch {
      throw badInput(`expected a URL or 'none', got '${url}'`, '--price-feed');
    }
    targets = new StrikeRuleTarget(site, {
      fetch: (signal) => fetchPrice(url, { timeoutMs: Math.min(c.callTimeoutMs, 5_000), signal, nowMs: clock.nowMs() }),
      staleAfterMs: c.priceStaleS * 1000,
      pollMs: Math.max(1_000, Math.min(c.tickS * 1000, 30_000)),
      fixedLoadMW: aiMW + c.otherLoadMW,
    });
  } else {
    targets = new NameplateTarget();
  }
  const meter = c.meter ? new ModbusMeterReader({ ...parseHostPort(c.meter, '--meter', 502), timeoutMs: Math.min(c.callTimeoutMs, 2_000) }) : null;
  // Descriptors: every device call in flight holds a socket, and the API's connections are capped;
  // keep the rest for the database, meter, MQTT and the runtime, so idle API clients can never
  // leave the agent blind to its miners.
  const fdLimit = softFdLimit();
  const apiConnections = Math.max(8, Math.min(AGENT_HTTP_DEFAULTS.maxConnections, Math.floor(fdLimit / 8)));
  const concurrency = Math.max(1, Math.min(c.concurrency, fdLimit - apiConnections - FD_RESERVE_AGENT));
  if (concurrency < c.concurrency) log(`concurrency lowered from ${c.concurrency} to ${concurrency}: ulimit -n is ${fdLimit} (API capped at ${apiConnections} connections, ${FD_RESERVE_AGENT} kept in reserve)`);
  const store = AgentStateStore.open(resolve(c.cwd, c.dbFile), clock.nowMs());
  let agent: SiteAgent;
  let http: AgentHttpServer;
  try {
    agent = new SiteAgent({
      siteName: site.name,
      miners,
      decide,
      store,
      clock,
      targets,
      meter,
      concurrency,
      callTimeoutMs: c.callTimeoutMs,
      tickMs: c.tickS * 1000,
      // A signal within one tick period of the last full read decides on it (commanded miners are re-read anyway).
      snapshotMaxAgeMs: c.tickS * 1000,
      verifyWaitMs: Math.min(decide.confirmTimeoutMs, 10_000),
      log,
    });
    http = await startAgentHttp(agent, listen, { maxConnections: apiConnections, allowNonLoopback: c.allowNonLoopback === true, allowedHosts: c.allowedHosts ?? [], log });
  } catch (err) {
    store.close();
    await meter?.close();
    throw err;
  }
  const mqtt = c.mqttUrl ? startMqttSignals(agent, { url: c.mqttUrl, topic: c.mqttTopic ?? `mullet/${site.name}/dr`, clientId: c.mqttClientId ?? `mullet-agent-${site.name}`, log }) : null;
  log(`agent for site '${site.name}': ${miners.length} miners, import limit ${site.interconnect.importLimitMW} MW, AI ${aiMW.toFixed(3)} MW, target ${targets.source}, safe mode ${c.safeMode}; API ${http.url}`);
  let closed = false;
  return {
    agent,
    site,
    http,
    mqtt,
    run: (signal) => agent.run(signal),
    close: async () => {
      if (closed) return;
      closed = true;
      await mqtt?.close();
      await http.close();
      await agent.close();
    },
  };
}
