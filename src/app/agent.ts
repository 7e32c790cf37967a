/**
 * The site agent's composition root (what `mullet agent` runs, and what tests and benchmarks
 * start): reads the site file, inventory and optional config file, builds drivers, the state store,
 * the target (plan file, price feed or nameplate), the meter, the agent, its HTTP API (src/server)
 * and MQTT. The domain folders never do this wiring.
 */
import { resolve } from 'node:path';
import { badInput } from '../core/errors.js';
import { softFdLimit } from '../core/fd-limit.js';
import { systemClock, type Clock } from '../core/time.js';
import { DEFAULT_PENALTY_USD_PER_MWH, SiteAgent, type AgentOptions } from '../fleet/agent/agent.js';
import type { AgentApi } from '../fleet/agent/api.js';
import { minersFromInventory, siteAiMW } from '../fleet/agent/fleet.js';
import { startMqttSignals, type MqttSignals } from '../fleet/agent/mqtt.js';
import { startMqttGrid, type MqttGrid } from '../fleet/agent/grid-mqtt.js';
import type { AwardRequest, GridApi } from '../fleet/agent/grid.js';
import { fetchPrice } from '../fleet/agent/price-feed.js';
import { NameplateTarget, PlanFileTarget, StrikeRuleTarget, type TargetProvider } from '../fleet/agent/targets.js';
import { DEFAULT_DECIDE_CONFIG, type DecideConfig, type SafeMode } from '../fleet/agent/types.js';
import { defaultDriverRegistry } from '../fleet/drivers/index.js';
import { readInventory, type Inventory } from '../fleet/inventory.js';
import type { AiInventory } from '../fleet/ai/inventory.js';
import { MemoryAgentStateStore } from '../fleet/state/memory-store.js';
import type { Hono } from 'hono';
import { aiGroupsFromInventory, readAiInventory } from '../fleet/ai/inventory.js';
import { ModbusMeterReader, parseHostPort } from '../fleet/meter/meter-reader.js';
import { SqliteAgentStateStore } from '../fleet/state/store.js';
import { agentRoutes } from '../server/agent-routes.js';
import { DEFAULT_MAX_CONNECTIONS, serveHttp, type RunningServer } from '../server/serve.js';
import { parseSite } from '../site/parse.js';
import type { Site } from '../site/types.js';
import { readAgentConfig } from './agent-config.js';
import { readRegularTextFileSync } from '../core/files.js';
import { CONTROL_DEFAULTS, type SiteControlConfig } from '../control/connect.js';
import { controlNames } from '../control/names.js';
import { ControlledTarget } from '../control/site/desired-target.js';
import { SiteLink } from '../control/site/site-link.js';

/** Descriptors kept for the state database, meter, MQTT, stdio and the runtime. */
const FD_RESERVE_AGENT = 64;

export interface AgentRunConfig {
  /** Site id in logs, MQTT topic and client id (default: the site file's name). */
  siteId?: string;
  siteFile: string;
  inventoryFile: string;
  planFile?: string;
  /** Price feed URL, or undefined/'none' for no feed. */
  priceFeed?: string;
  /** Site meter, HOST:PORT (Modbus TCP). */
  meter?: string;
  /** AI inventory file: the actuators of the site's AI loads. */
  aiInventoryFile?: string;
  /** HTTP API, HOST:PORT (port 0 = any free port). */
  listen: string;
  dbFile: string;
  tickS: number;
  safeMode: SafeMode;
  mqttUrl?: string;
  mqttTopic?: string;
  /** Stable client id of the MQTT persistent session (default mullet-agent-<site>). */
  mqttClientId?: string;
  /** Grid deployments' MQTT topic (default mullet/<site>/grid; with --mqtt). */
  mqttGridTopic?: string;
  /** Grid awards the agent holds a mining floor for (the config file's `grid.awards`). */
  gridAwards?: readonly AwardRequest[];
  /** Permit a non-loopback --listen (the API has no authentication yet). */
  allowNonLoopback?: boolean;
  /** Host names the API may be reached by besides addresses and localhost. */
  allowedHosts?: readonly string[];
  /** A miner put to sleep is not woken again before this, s. */
  minDwellS?: number;
  /**
   * Serves the agent's HTTP edge instead of the plain agent API (`mullet serve`: the authenticated
   * console); given the agent and the connection cap the descriptor budget allows.
   */
  serveApi?: (agent: AgentApi & GridApi, limits: { maxConnections: number }) => Promise<RunningServer>;
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
  /** Compositions that build these themselves (`mullet ops`): they replace the files above. */
  site?: Site;
  inventory?: Inventory;
  aiInventory?: AiInventory;
  targets?: TargetProvider;
  /** The agent's waits (a replay passes its clock's). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Meter polling between ticks, ms (0: never). */
  meterPollMs?: number;
  /** More routes on the same HTTP server (the ops API). */
  extendRoutes?: (app: Hono) => void;
  /** The NATS control plane (agent.yaml `control:`): desired state, commands, events, telemetry. */
  control?: SiteControlConfig;
  /** Where the control plane's secrets are read from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Agent shards under a coordinator (agent.yaml `shards:`; src/fleet/shards); absent: one agent. */
  shards?: number;
  /** Loop timing overrides (a replay on virtual time polls less often: each poll costs real reads, waiting costs nothing). */
  timing?: Partial<Pick<AgentOptions, 'verifyPollMs' | 'verifyWaitMs' | 'pendingTickMs' | 'snapshotMaxAgeMs'>>;
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

export interface RunningAgent {
  agent: SiteAgent;
  site: Site;
  http: RunningServer;
  mqtt: MqttSignals | null;
  /** The link to the control plane, when configured. */
  control: SiteLink | null;
  /** Grid deployments over MQTT (with --mqtt). */
  mqttGrid: MqttGrid | null;
  /** Runs the loop until `signal` aborts (the tick in progress finishes). */
  run(signal: AbortSignal): Promise<void>;
  /** Stops MQTT and HTTP, closes driver sessions, the meter and the DB; idempotent. */
  close(): Promise<void>;
}

export function readSite(file: string): Site {
  const text = readRegularTextFileSync(file, file, 64 * 2 ** 20, 'site file');
  return parseSite(text, { file });
}

/** Flags as given (undefined: not on the command line); they override the config file. */
export type AgentFlags = Partial<Omit<AgentRunConfig, 'cwd' | 'clock' | 'log'>> & { configFile?: string };

/**
 * The run configuration from a config file (optional) and flags: a flag wins over the file, the file
 * over the defaults. Paths in the file are relative to it; paths on the command line to `cwd`.
 */
export function resolveAgentConfig(flags: AgentFlags, cwd: string): Omit<AgentRunConfig, 'clock' | 'log'> {
  const f = flags.configFile !== undefined ? readAgentConfig(resolve(cwd, flags.configFile)) : undefined;
  const target = f?.target;
  const pick = <T>(flag: T | undefined, file: T | undefined, dflt: T): T => flag ?? file ?? dflt;
  const siteFile = flags.siteFile ?? f?.site;
  const inventoryFile = flags.inventoryFile ?? f?.inventory;
  if (siteFile === undefined) throw badInput('is required (or `site:` in --config)', '--site');
  if (inventoryFile === undefined) throw badInput('is required (or `inventory:` in --config)', '--inventory');
  const planFile = flags.planFile ?? (target && 'plan' in target ? target.plan : undefined);
  const priceFeed = flags.priceFeed ?? (target && 'priceFeed' in target ? target.priceFeed : undefined);
  const meter = flags.meter ?? f?.meter;
  const aiInventoryFile = flags.aiInventoryFile ?? f?.ai?.inventory;
  const mqtt = f?.signals?.mqtt;
  const mqttUrl = flags.mqttUrl ?? mqtt?.url;
  const mqttTopic = flags.mqttTopic ?? mqtt?.topic;
  const mqttClientId = flags.mqttClientId ?? mqtt?.clientId;
  const mqttGridTopic = flags.mqttGridTopic ?? mqtt?.gridTopic;
  const gridAwards = flags.gridAwards ?? f?.grid?.awards;
  const siteId = flags.siteId ?? f?.siteId;
  const s = f?.safety ?? {};
  const dv = f?.devices ?? {};
  const callTimeoutMs = pick(flags.callTimeoutMs, dv.callTimeoutMs, AGENT_DEFAULTS.callTimeoutMs);
  return {
    ...(siteId !== undefined ? { siteId } : {}),
    siteFile,
    inventoryFile,
    ...(planFile !== undefined ? { planFile } : {}),
    ...(priceFeed !== undefined ? { priceFeed } : {}),
    ...(meter !== undefined ? { meter } : {}),
    ...(aiInventoryFile !== undefined ? { aiInventoryFile } : {}),
    ...(f?.control ? { control: f.control } : {}),
    ...(f?.shards !== undefined ? { shards: f.shards } : {}),
    ...(mqttUrl !== undefined ? { mqttUrl } : {}),
    ...(mqttTopic !== undefined ? { mqttTopic } : {}),
    ...(mqttClientId !== undefined ? { mqttClientId } : {}),
    ...(mqttGridTopic !== undefined ? { mqttGridTopic } : {}),
    ...(gridAwards !== undefined ? { gridAwards } : {}),
    listen: pick(flags.listen, f?.listen, AGENT_DEFAULTS.listen),
    allowNonLoopback: pick(flags.allowNonLoopback, f?.allowNonLoopback, false),
    allowedHosts: [...(f?.allowedHosts ?? []), ...(flags.allowedHosts ?? [])],
    dbFile: pick(flags.dbFile, f?.store?.sqlite, AGENT_DEFAULTS.dbFile),
    tickS: pick(flags.tickS, s.tickS, AGENT_DEFAULTS.tickS),
    safeMode: pick(flags.safeMode, s.safeMode, AGENT_DEFAULTS.safeMode),
    concurrency: pick(flags.concurrency, dv.concurrency, AGENT_DEFAULTS.concurrency),
    callTimeoutMs,
    connectTimeoutMs: Math.min(AGENT_DEFAULTS.connectTimeoutMs, callTimeoutMs),
    restoreBatchSize: pick(flags.restoreBatchSize, s.restoreBatch, AGENT_DEFAULTS.restoreBatchSize),
    restorePacingS: pick(flags.restorePacingS, s.restorePacingS, AGENT_DEFAULTS.restorePacingS),
    safetyMarginMW: pick(flags.safetyMarginMW, s.marginMW, AGENT_DEFAULTS.safetyMarginMW),
    otherLoadMW: pick(flags.otherLoadMW, s.otherLoadMW, AGENT_DEFAULTS.otherLoadMW),
    confirmTimeoutS: pick(flags.confirmTimeoutS, s.confirmTimeoutS, AGENT_DEFAULTS.confirmTimeoutS),
    maxAttempts: pick(flags.maxAttempts, s.maxAttempts, AGENT_DEFAULTS.maxAttempts),
    priceStaleS: pick(flags.priceStaleS, s.priceStaleS, AGENT_DEFAULTS.priceStaleS),
    minDwellS: pick(flags.minDwellS, s.minDwellS, AGENT_DEFAULTS.minDwellS),
    cwd,
  };
}

export async function startAgent(c: AgentRunConfig): Promise<RunningAgent> {
  const clock = c.clock ?? systemClock;
  const log = c.log ?? (() => undefined);
  const site = c.site ?? readSite(resolve(c.cwd, c.siteFile));
  const invFile = resolve(c.cwd, c.inventoryFile);
  const inventory = c.inventory ?? readInventory(invFile);
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
  if (c.targets) targets = c.targets;
  else if (c.planFile !== undefined) {
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
  const siteIdEarly = c.control?.siteId ?? c.siteId ?? site.name;
  const controlled = c.control
    ? new ControlledTarget(targets, { holdMs: (c.control.holdS ?? CONTROL_DEFAULTS.holdS) * 1000, fallback: c.control.fallback ?? CONTROL_DEFAULTS.fallback }, clock.nowMs())
    : null;
  if (controlled) targets = controlled;
  const meter = c.meter ? new ModbusMeterReader({ ...parseHostPort(c.meter, '--meter', 502), timeoutMs: Math.min(c.callTimeoutMs, 2_000) }) : null;
  // Descriptors: every device call in flight holds a socket, and the API's connections are capped;
  // keep the rest for the database, meter, MQTT and the runtime, so idle API clients can never
  // leave the agent blind to its miners.
  const fdLimit = softFdLimit();
  const apiConnections = Math.max(8, Math.min(DEFAULT_MAX_CONNECTIONS, Math.floor(fdLimit / 8)));
  const concurrency = Math.max(1, Math.min(c.concurrency, fdLimit - apiConnections - FD_RESERVE_AGENT));
  if (concurrency < c.concurrency) log(`concurrency lowered from ${c.concurrency} to ${concurrency}: ulimit -n is ${fdLimit} (API capped at ${apiConnections} connections, ${FD_RESERVE_AGENT} kept in reserve)`);
  const aiInventory = c.aiInventory ?? (c.aiInventoryFile !== undefined ? readAiInventory(resolve(c.cwd, c.aiInventoryFile)) : undefined);
  const ai = aiInventory ? aiGroupsFromInventory(aiInventory, site, { nowMs: () => clock.nowMs(), timeoutMs: c.callTimeoutMs }, c.aiInventoryFile ?? 'ai inventory') : [];
  const store = c.dbFile === ':memory:' ? new MemoryAgentStateStore() : SqliteAgentStateStore.open(resolve(c.cwd, c.dbFile), clock.nowMs());
  let agent: SiteAgent;
  let http: RunningServer;
  try {
    agent = await SiteAgent.create({
      siteName: c.siteId ?? site.name,
      miners,
      decide,
      store,
      clock,
      targets,
      meter,
      ai,
      concurrency,
      callTimeoutMs: c.callTimeoutMs,
      tickMs: c.tickS * 1000,
      // A signal within one tick period of the last full read decides on it (commanded miners are re-read anyway).
      snapshotMaxAgeMs: c.tickS * 1000,
      verifyWaitMs: Math.min(decide.confirmTimeoutMs, 10_000),
      log,
      grid: { awards: c.gridAwards ?? [], penaltyUsdPerMWh: site.ancillary?.penaltyUsdPerMWh ?? DEFAULT_PENALTY_USD_PER_MWH },
      ...(c.sleep ? { sleep: c.sleep } : {}),
      ...(c.meterPollMs !== undefined ? { meterPollMs: c.meterPollMs } : {}),
      ...c.timing,
    });
    if (c.serveApi) http = await c.serveApi(agent, { maxConnections: apiConnections });
    else {
      const app = agentRoutes(agent, { allowedHosts: c.allowedHosts ?? [], grid: agent });
      c.extendRoutes?.(app);
      http = await serveHttp(app, { ...listen, maxConnections: apiConnections, allowNonLoopback: c.allowNonLoopback === true, what: 'the agent API', log });
    }
  } catch (err) {
    await store.close();
    await meter?.close();
    throw err;
  }
  const siteId = c.siteId ?? site.name;
  const mqtt = c.mqttUrl ? startMqttSignals(agent, { url: c.mqttUrl, topic: c.mqttTopic ?? `mullet/${siteId}/dr`, clientId: c.mqttClientId ?? `mullet-agent-${siteId}`, log }) : null;
  let control: SiteLink | null = null;
  if (c.control && controlled) {
    const cc = c.control;
    control = await SiteLink.start(agent, controlled, store, {
      siteId: siteIdEarly,
      names: controlNames(cc.prefix ?? CONTROL_DEFAULTS.prefix),
      servers: cc.servers,
      auth: cc.auth,
      env: c.env ?? process.env,
      holdMs: (cc.holdS ?? CONTROL_DEFAULTS.holdS) * 1000,
      fallback: cc.fallback ?? CONTROL_DEFAULTS.fallback,
      telemetryMs: (cc.telemetryS ?? CONTROL_DEFAULTS.telemetryS) * 1000,
      log,
    });
    log(`control plane: site '${siteIdEarly}' on ${cc.servers.join(', ')} (prefix ${cc.prefix ?? CONTROL_DEFAULTS.prefix}, hold ${cc.holdS ?? CONTROL_DEFAULTS.holdS} s then ${cc.fallback ?? CONTROL_DEFAULTS.fallback})`);
  }
  const mqttGrid = c.mqttUrl ? startMqttGrid(agent, { url: c.mqttUrl, topic: c.mqttGridTopic ?? `mullet/${siteId}/grid`, clientId: `${c.mqttClientId ?? `mullet-agent-${siteId}`}-grid`, log }) : null;
  log(`agent for site '${siteId}': ${miners.length} miners, import limit ${site.interconnect.importLimitMW} MW, AI ${aiMW.toFixed(3)} MW, target ${targets.source}, safe mode ${c.safeMode}; API ${http.url}`);
  let closed = false;
  return {
    agent,
    site,
    http,
    mqtt,
    control,
    mqttGrid,
    run: (signal) => agent.run(signal),
    close: async () => {
      if (closed) return;
      closed = true;
      await control?.close();
      await mqtt?.close();
      await mqttGrid?.close();
      await http.close();
      await agent.close();
    },
  };
}
