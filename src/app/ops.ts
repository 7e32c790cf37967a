/**
 * `mullet ops`'s composition root: market source → live dispatcher → site agent (+ simulator) →
 * live ledger → HTTP API, in one process. Replays run the whole live path on history with a replay
 * clock and end with the realized ledger next to the back-test of the same window.
 */
import { resolve } from 'node:path';
import type { HashpriceSource } from '../backtest/hashprice.js';
import { summarizePolicy, type PolicySummary } from '../backtest/summary.js';
import { badInput, describeError } from '../core/errors.js';
import { MS_PER_DAY, parseUtcDate, systemClock } from '../core/time.js';
import { settle } from '../dispatch/ledger.js';
import type { LpSolver } from '../dispatch/lp/solver.js';
import { nameplate, siteFleetIndex } from '../fleet/agent/fleet.js';
import type { Gauge } from '../fleet/agent/metrics.js';
import { DEFAULT_DECIDE_CONFIG } from '../fleet/agent/types.js';
import { freeLoopbackBlock, startSiteSim, type SiteSim } from '../fleet/sim/site-sim.js';
import { DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT } from '../market/hashprice-inputs.js';
import type { OpsStatus } from '../ops/api.js';
import type { Hono } from 'hono';
import { LiveDispatcher, type IntervalDecision } from '../ops/dispatcher.js';
import { storeHistory, syntheticHistory, type History } from '../ops/history.js';
import { LiveLedger, sliceInput, STREAMS, type LedgerSummary } from '../ops/ledger.js';
import { ReplayMarket } from '../ops/market.js';
import { PowerSampler } from '../ops/sampler.js';
import { scaledTime, VirtualTime, type TimeSource } from '../ops/time.js';
import { mountOpsRoutes } from '../server/ops-routes.js';
import { loadHighsSolver } from '../solver/highs.js';
import type { Site } from '../site/types.js';
import { builtinCapabilities } from '../fleet/drivers/index.js';
import { AGENT_DEFAULTS, readSite, startAgent, type RunningAgent } from './agent.js';
import { readOpsConfig, type OpsConfig } from './ops-config.js';
import { readInventory, type Inventory } from '../fleet/inventory.js';
import { readAiInventory, type AiInventory } from '../fleet/ai/inventory.js';
import { createLiveFeeds, type LiveFeeds } from '../market/live/feeds.js';
import { attachFeedMetrics } from '../market/live/metrics.js';
import type { FeedStatus } from '../market/live/types.js';
import type { Transport } from '../net/http-client.js';
import type { DispatchInput } from '../dispatch/types.js';
import type { MarketStore } from '../market/store-port.js';
import { openExistingStore, openStoreAt } from '../store/open-existing.js';
import { redactUrl, resolveStoreLocation } from '../store/location.js';
import { LiveStoreMarket } from '../ops/live-market.js';
import type { MarketSource } from '../ops/market.js';
import { wallTime } from '../ops/time.js';
import { fourCpAlertAt, marketView } from '../ops/market-view.js';
import { startAlerts } from './alerts.js';
import type { AlertService } from '../alerts/service.js';
import type { OpsConsoleApi } from '../ops/api.js';
import { AuthService } from '../console/auth-service.js';
import type { ScryptParams } from '../console/secrets.js';
import { SqliteIdentityStore } from '../console/sqlite-store.js';
import { parseHostPort } from '../fleet/meter/meter-reader.js';
import { CONSOLE_API_BASE } from '../server/console/app.js';
import { checkConsoleListen, serveConsole, type ConsoleTlsFiles } from '../server/console/serve-console.js';
import { consoleSiteApp } from '../server/console/site-app.js';
import { openPages, type OpenPages } from './pages.js';

/** The console's setup when `mullet ops` serves it: --console-db or `console:` in the config. */
interface ConsoleSetup {
  dbFile: string;
  tls?: ConsoleTlsFiles;
  insecureHttp: boolean;
}

function consoleSetup(cfg: OpsConfig, f: OpsFlags): ConsoleSetup | null {
  if (f.consoleDb === undefined && cfg.console === undefined) return null;
  const db = f.consoleDb !== undefined ? (f.consoleDb === ':memory:' ? ':memory:' : resolve(f.cwd, f.consoleDb)) : (cfg.console?.db ?? resolve(f.cwd, 'mullet-console.db'));
  const tls = f.tls ?? cfg.console?.tls;
  return { dbFile: db, ...(tls ? { tls } : {}), insecureHttp: f.insecureHttp === true || cfg.console?.insecureHttp === true };
}


export interface OpsFlags {
  configFile: string;
  /** Market store (data: store) — default: the config's store, then MULLET_DB, then ./mullet.db. */
  dbFile?: string;
  listen?: string;
  replayFrom?: string;
  replayTo?: string;
  speed?: number | 'max';
  cwd: string;
  env?: Readonly<Record<string, string | undefined>>;
  log?: (line: string) => void;
  /** Tests: a solver already loaded. */
  solver?: LpSolver;
  /** Tests and benchmarks: the run's clock (default: the replay's, or the wall clock live). */
  time?: TimeSource;
  /** Tests: the live feeds' HTTP wire (recorded responses). */
  feedTransport?: Transport;
  /** Benchmarks: every interval the dispatcher decides. */
  onDecision?: (d: IntervalDecision) => void;
  /** The operator console's database (users, keys, audit): serve the console on the listener (overrides console.db). */
  consoleDb?: string;
  /** Console TLS files (override console.tls). */
  tls?: ConsoleTlsFiles;
  /** Allow the console beyond loopback without TLS (logged). */
  insecureHttp?: boolean;
  /** Tests: the console's scrypt cost (default: production). */
  consoleScrypt?: ScryptParams;
  /** Console: the analyst and strategy pages' market store (overrides console.dataDb; default the market store when it exists). */
  dataDb?: string;
  /** Console: site and portfolio files the pages' jobs may name (overrides console.strategyDir; default ./examples). */
  strategyDir?: string;
}

/** The console's analyst and strategy pages: flags over `console.dataDb` / `console.strategyDir` over the defaults. */
function opsPages(cfg: OpsConfig, f: OpsFlags, log: (line: string) => void): OpenPages {
  const c = cfg.console;
  const dataDb = f.dataDb ?? c?.dataDb;
  const strategyDir = f.strategyDir ?? c?.strategyDir;
  const market = storeFile(cfg, f).file;
  return openPages({
    ...(dataDb !== undefined ? { dataDb } : {}),
    // The market store ops runs on holds the industry facts too (mullet industry import --db).
    defaultDataDb: market === ':memory:' ? resolve(f.cwd, 'mullet.db') : market,
    ...(strategyDir !== undefined ? { strategyDir } : {}),
    defaultStrategyDir: 'examples',
    cwd: f.cwd,
    where: { dataDb: f.dataDb !== undefined ? '--data-db' : `${cfg.file}: console.dataDb`, strategyDir: f.strategyDir !== undefined ? '--strategy-dir' : `${cfg.file}: console.strategyDir` },
    clock: systemClock,
    log,
  });
}

export interface ReplayOutcome {
  mode: 'replay';
  site: string;
  policy: string;
  window: { from: string; to: string };
  source: string;
  /** The realized ledger in the back-test's JSON shape. */
  live: PolicySummary;
  /** `mullet backtest --policy <policy>` on the same window. */
  backtest: PolicySummary;
  /** (live − back-test) / |back-test| net, percent. */
  netGapPct: number;
  /** live − back-test by stream, USD (costs as costs: positive = paid more). */
  gapByStreamUsd: Record<string, number>;
  /** Site energy on the simulated meter vs what the ledger settled, MWh. */
  meteredMWh: number | null;
  settledMWh: number;
  /** Highest 15-minute average on the meter, MW (the import limit holds on this, the true site power). */
  maxMeteredMW: number | null;
  dispatch: { intervals: number; safeFallbacks: number; decidedWithoutLatestPrice: number };
  wallSeconds: number;
  /** Replay clock jumps (virtual time) — how many waits the run skipped. */
  clockJumps: number | null;
  notes: string[];
}

export interface LiveOutcome {
  mode: 'live';
  site: string;
  policy: string;
  ledger: LedgerSummary;
  feeds: readonly FeedStatus[];
  dispatch: { intervals: number; safeFallbacks: number };
}

export type OpsOutcome = ReplayOutcome | LiveOutcome;

export interface RunningOps {
  url: string;
  /** The console's identities and audit when it is served (else null). */
  console: { auth: AuthService; dbFile: string } | null;
  /** The alert service (with `alerts:` or a console), else null. */
  alerts: AlertService | null;
  config: OpsConfig;
  agent: RunningAgent;
  sim: SiteSim | null;
  status(): OpsStatus;
  /** Runs until the replay ends (or `signal` aborts), then stops the agent; the realized ledger vs the back-test. */
  run(signal: AbortSignal): Promise<OpsOutcome>;
  close(): Promise<void>;
}

const round = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

type ReplayConfig = Extract<OpsConfig['market'], { replay: unknown }>['replay'];
type LiveConfig = Extract<OpsConfig['market'], { live: unknown }>['live'];

function window(r: ReplayConfig, f: OpsFlags): { from: string; to: string } {
  const from = f.replayFrom ?? r.from;
  const to = f.replayTo ?? r.to;
  for (const [v, flag] of [
    [from, '--replay-from'],
    [to, '--replay-to'],
  ] as const) {
    try {
      parseUtcDate(v);
    } catch (err) {
      throw badInput(describeError(err), flag);
    }
  }
  if (parseUtcDate(to) < parseUtcDate(from)) throw badInput(`must not be before the replay start ${from}`, '--replay-to');
  if ((parseUtcDate(to) - parseUtcDate(from)) / MS_PER_DAY >= 400) throw badInput('a replay covers at most 400 days', '--replay-to');
  return { from, to };
}

const STORE_HASHPRICE: HashpriceSource = { kind: 'store', feeShareOfSubsidyPct: DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT, feeShareIsDefault: true };

function storeFile(cfg: OpsConfig, f: OpsFlags): { db: string; file: string } {
  const env = f.env ?? process.env;
  const db = f.dbFile ?? cfg.store?.sqlite ?? env['MULLET_DB'] ?? 'mullet.db';
  return { db: redactUrl(db), file: resolveStoreLocation(f.cwd, db) };
}

async function loadHistory(cfg: OpsConfig, r: ReplayConfig, f: OpsFlags, site: Site, solver: LpSolver, w: { from: string; to: string }): Promise<History> {
  const nowMs = () => performance.now();
  if (r.data === 'synthetic') {
    const days = Math.round((parseUtcDate(w.to) - parseUtcDate(w.from)) / MS_PER_DAY) + 1;
    return syntheticHistory({ site, from: w.from, days, seed: r.seed, policy: cfg.policy, solver, nowMs });
  }
  const { db, file } = storeFile(cfg, f);
  const store = await openExistingStore(file);
  try {
    const h = await storeHistory({ site, store, from: w.from, to: w.to, hashprice: STORE_HASHPRICE, policy: cfg.policy, solver, nowMs });
    if (h.truth.startMs.length === 0) throw badInput(`no ${site.market.settlementPoint} RT prices in ${db} for ${w.from}..${w.to}; import them (mullet data import) or use market.replay.data: synthetic`, 'market.replay');
    return h;
  } finally {
    await store.close();
  }
}

/** The market side of a run: replayed history, or the live store the feeds fill. */
interface MarketSide {
  mode: 'replay' | 'live';
  market: MarketSource;
  /** What settles (the replay's history; live, the prices as they are published). */
  truth: DispatchInput;
  time: TimeSource;
  history: History | null;
  window: { from: string; to: string } | null;
  store: MarketStore | null;
  feeds: LiveFeeds | null;
  /** Live: the RT feed's problem (stale, stopped), else null. */
  rtProblem: { reason: string | null };
}

async function replaySide(cfg: OpsConfig, r: ReplayConfig, f: OpsFlags, site: Site, solver: LpSolver): Promise<MarketSide> {
  const w = window(r, f);
  const history = await loadHistory(cfg, r, f, site, solver, w);
  const truth = history.truth;
  const startMs = truth.startMs[0] as number;
  const speed = f.speed ?? r.speed;
  const time: TimeSource = f.time ?? (speed === 'max' ? new VirtualTime(startMs) : scaledTime(startMs, speed));
  const market = new ReplayMarket(truth, { rtPublicationLagMs: cfg.dispatch.rtPublicationLagS * 1000 });
  return { mode: 'replay', market, truth, time, history, window: w, store: null, feeds: null, rtProblem: { reason: null } };
}

async function liveSide(cfg: OpsConfig, l: LiveConfig, f: OpsFlags, site: Site, log: (line: string) => void): Promise<MarketSide> {
  for (const [v, flag] of [
    [f.replayFrom, '--replay-from'],
    [f.replayTo, '--replay-to'],
    [f.speed, '--speed'],
  ] as const) {
    if (v !== undefined) throw badInput('applies to a replay (market.replay); this config runs live (market.live)', flag);
  }
  const time = f.time ?? wallTime();
  const { file } = storeFile(cfg, f);
  const store = await openStoreAt(file);
  try {
    const market = await LiveStoreMarket.open({ site, store, startMs: time.clock.nowMs(), windowDays: l.windowDays, hashprice: STORE_HASHPRICE, refreshMs: l.refreshS * 1000, expectedRtLagMs: 120_000 });
    await market.refresh(time.clock.nowMs());
    const feeds = l.feeds === false ? null : createLiveFeeds(l.feeds ?? {}, { store, clock: time.clock, log, ...(f.feedTransport ? { transport: f.feedTransport } : {}), ...(f.env ? { env: f.env } : {}) });
    return { mode: 'live', market, truth: market.known, time, history: null, window: null, store, feeds, rtProblem: { reason: null } };
  } catch (err) {
    await store.close();
    throw err;
  }
}

export async function startOps(f: OpsFlags): Promise<RunningOps> {
  const log = f.log ?? (() => undefined);
  const cfg = readOpsConfig(resolve(f.cwd, f.configFile));
  if (consoleSetup(cfg, f) === null) {
    for (const [v, flag] of [
      [f.dataDb, '--data-db'],
      [f.strategyDir, '--strategy-dir'],
    ] as const) {
      if (v !== undefined) throw badInput('applies to the console: give --console-db or console: in the config', flag);
    }
  }
  // Before anything starts: a mistyped path of the console's pages fails fast.
  const pages = consoleSetup(cfg, f) ? opsPages(cfg, f, log) : null;
  try {
    const site = readSite(cfg.site);
    const solver = f.solver ?? (await loadHighsSolver());
    const side = 'replay' in cfg.market ? await replaySide(cfg, cfg.market.replay, f, site, solver) : await liveSide(cfg, cfg.market.live, f, site, log);
    try {
      return await assemble(cfg, f, site, solver, side, pages, log);
    } catch (err) {
      await side.store?.close();
      throw err;
    }
  } catch (err) {
    await pages?.close();
    throw err;
  }
}

async function startFleet(cfg: OpsConfig, site: Site, side: MarketSide, log: (line: string) => void): Promise<{ sim: SiteSim | null; inventory: Inventory; aiInventory?: AiInventory; meter?: string }> {
  if ('simulator' in cfg.fleet) {
    const simCfg = cfg.fleet.simulator;
    const count = site.fleets.reduce((a, x) => a + x.count, 0);
    const cidr = simCfg.cidr ?? (await freeLoopbackBlock(count, 4028, simCfg.seed));
    const gpuCidr = simCfg.gpus ? (simCfg.gpus.cidr ?? (await freeLoopbackBlock(1, 8000, simCfg.seed + 1))) : undefined;
    log(`simulator: ${count} miners on ${cidr}${simCfg.gpus ? `, GPU hall for '${simCfg.gpus.load}' on ${gpuCidr}` : ''}`);
    const sim = await startSiteSim({ site, seed: simCfg.seed, cidr, ...(simCfg.gpus && gpuCidr ? { gpus: { load: simCfg.gpus.load, cidr: gpuCidr, manager: simCfg.gpus.manager } } : {}), sim: side.time.clock, wall: systemClock, where: `${cfg.file}: fleet.simulator`, capabilitiesOf: builtinCapabilities });
    return { sim, inventory: sim.inventory, ...(sim.aiInventory ? { aiInventory: sim.aiInventory } : {}), meter: `${sim.meterAddress.host}:${sim.meterAddress.port}` };
  }
  if (side.mode === 'replay') throw badInput("a replay runs on the simulator (real machines run on the wall clock, not the replay's): use fleet.simulator", `${cfg.file}: fleet`);
  const fl = cfg.fleet;
  return { sim: null, inventory: readInventory(fl.inventory), ...(fl.ai ? { aiInventory: readAiInventory(fl.ai.inventory) } : {}), ...(fl.meter ? { meter: fl.meter } : {}) };
}

/** `pages`: the console's analyst and strategy pages (with a console), closed with the run; the caller closes them when this throws. */
async function assemble(cfg: OpsConfig, f: OpsFlags, site: Site, solver: LpSolver, side: MarketSide, pages: OpenPages | null, log: (line: string) => void): Promise<RunningOps> {
  const { market, truth, time, history } = side;
  const n = truth.startMs.length;
  const intervalMs = truth.intervalMinutes * 60_000;
  const startMs = truth.startMs[0] as number;
  const lagMs = cfg.dispatch.rtPublicationLagS * 1000;
  const endMs = (truth.startMs[n - 1] as number) + intervalMs;
  const ledger = new LiveLedger(truth);
  let gauges: OpsGauges | null = null;
  const dispatcher = new LiveDispatcher({
    market,
    policy: cfg.policy,
    solver,
    maxPriceWaitMs: cfg.dispatch.maxPriceWaitS * 1000,
    staleAfterMs: cfg.dispatch.staleAfterS * 1000,
    onDecision: (d) => {
      gauges?.decision(d.fleetMW, d.aiItMW, d.solveSeconds);
      f.onDecision?.(d);
    },
    marketProblem: () => side.rtProblem.reason,
  });
  const fleet = await startFleet(cfg, site, side, log);
  const sim = fleet.sim;

  const s = cfg.safety ?? {};
  const dv = cfg.devices ?? {};
  const virtual = time.kind === 'virtual';
  let running: RunningAgent;
  const opsApi: OpsConsoleApi = {
    opsStatus: () => status(),
    ledger: () => ledger.summary(time.clock.nowMs()),
    // The last day and the next (DA prices are known up to the end of tomorrow).
    market: () => marketView(market.known, time.clock.nowMs(), { backMs: MS_PER_DAY, aheadMs: MS_PER_DAY }),
  };
  const listen = f.listen ?? cfg.listen ?? AGENT_DEFAULTS.listen;
  const cons = consoleSetup(cfg, f);
  let identities: SqliteIdentityStore | null = null;
  let auth: AuthService | null = null;
  let serveApi: Parameters<typeof startAgent>[0]['serveApi'];
  if (cons) {
    const hp = parseHostPort(listen, '--listen', 8420);
    checkConsoleListen({ ...hp, ...(cons.tls ? { tls: cons.tls } : {}), insecureHttp: cons.insecureHttp, log });
    identities = SqliteIdentityStore.open(cons.dbFile, Date.now());
    // Sessions and keys live on the wall clock, whatever the replay's clock says.
    const a = new AuthService({ store: identities, clock: systemClock, ...(f.consoleScrypt ? { scrypt: f.consoleScrypt } : {}) });
    auth = a;
    if (!(await a.hasUsers())) log(`console: no user yet, so every route but health and login answers 401; create the first admin with \`mullet users add admin --role admin --db ${cons.dbFile}\``);
    serveApi = (agent, limits) => {
      const app = consoleSiteApp(
        { agent, grid: agent, auth: a, clock: systemClock, secureCookies: cons.tls !== undefined, ops: opsApi, ...(alerts ? { alerts: alerts.service } : {}), ...(pages?.deps ?? {}) },
        { log, aliases: { '/v1/ops': '/ops', '/v1/ops/ledger': '/ops/ledger', '/v1/ops/market': '/ops/market', '/metrics': '/metrics', '/v1/status': '/status' } },
      );
      return serveConsole(app, { ...hp, ...(cons.tls ? { tls: cons.tls } : {}), insecureHttp: cons.insecureHttp, maxConnections: limits.maxConnections, log });
    };
  }
  let alerts: Awaited<ReturnType<typeof startAlerts>>;
  try {
    alerts = await startAlerts({
      cfg: cfg.alerts,
      where: cfg.file,
      env: f.env ?? process.env,
      site: site.name,
      consoleDb: cons?.dbFile ?? null,
      clock: time.clock,
      log,
      extra: () => ({ ...(side.feeds ? { feeds: side.feeds.status() } : {}), fourCpAlert: fourCpAlertAt(market.known, time.clock.nowMs()) }),
    });
  } catch (err) {
    await identities?.close();
    throw err;
  }
  try {
    running = await startAgent({
      siteFile: cfg.site,
      inventoryFile: 'inventory' in cfg.fleet ? cfg.fleet.inventory : 'simulator',
      site,
      inventory: fleet.inventory,
      ...(fleet.aiInventory ? { aiInventory: fleet.aiInventory } : {}),
      targets: dispatcher,
      ...(fleet.meter ? { meter: fleet.meter } : {}),
      listen,
      // A replay's agent state lives as long as the replay; live, the agent's state is kept on disk.
      dbFile: side.mode === 'replay' ? ':memory:' : resolve(cfg.dir, 'mullet-ops-agent.db'),
      // The dispatcher wakes the agent at every interval and price; the period only matters between.
      tickS: s.tickS ?? (virtual ? 900 : AGENT_DEFAULTS.tickS),
      safeMode: s.safeMode ?? AGENT_DEFAULTS.safeMode,
      concurrency: dv.concurrency ?? AGENT_DEFAULTS.concurrency,
      callTimeoutMs: dv.callTimeoutMs ?? AGENT_DEFAULTS.callTimeoutMs,
      connectTimeoutMs: Math.min(AGENT_DEFAULTS.connectTimeoutMs, dv.callTimeoutMs ?? AGENT_DEFAULTS.callTimeoutMs),
      restoreBatchSize: s.restoreBatch ?? AGENT_DEFAULTS.restoreBatchSize,
      restorePacingS: s.restorePacingS ?? AGENT_DEFAULTS.restorePacingS,
      safetyMarginMW: s.marginMW ?? AGENT_DEFAULTS.safetyMarginMW,
      otherLoadMW: s.otherLoadMW ?? AGENT_DEFAULTS.otherLoadMW,
      confirmTimeoutS: s.confirmTimeoutS ?? AGENT_DEFAULTS.confirmTimeoutS,
      maxAttempts: s.maxAttempts ?? AGENT_DEFAULTS.maxAttempts,
      priceStaleS: s.priceStaleS ?? AGENT_DEFAULTS.priceStaleS,
      minDwellS: s.minDwellS ?? AGENT_DEFAULTS.minDwellS,
      cwd: f.cwd,
      clock: time.clock,
      sleep: (ms, sig) => time.sleep(ms, sig),
      // Virtual time: polling the meter between ticks would only add clock jumps; ticks read it.
      meterPollMs: virtual ? 0 : 1_000,
      // Virtual time: waiting is free but every read is a real read of the machines, so poll every
      // 5 s of replayed time instead of 4× a second (boots and sleeps take tens of seconds), and let
      // an interval's tick decide on the last full read when it is under an hour old (commanded
      // machines are read back anyway; a full read of 2,000 machines costs ~2 s of wall time).
      ...(virtual ? { timing: { verifyPollMs: 5_000, verifyWaitMs: 60_000, pendingTickMs: 5_000, snapshotMaxAgeMs: 3_600_000 } } : {}),
      log,
      ...(serveApi ? { serveApi } : { extendRoutes: (app: Hono) => mountOpsRoutes(app, opsApi) }),
    });
  } catch (err) {
    await sim?.close();
    await alerts?.close();
    await identities?.close();
    throw err;
  }
  const detachAlerts = alerts?.service.attach(running.agent);
  if (cons) log(`console: ${running.http.url}/ and its API at ${running.http.url}${CONSOLE_API_BASE} (users, keys and audit in ${cons.dbFile})`);
  const agent = running.agent;
  const sampler = new PowerSampler(
    site,
    fleet.inventory.miners.map((m) => ({ id: m.id, fleet: siteFleetIndex(m.model, site), ...nameplate(m, site) })),
    DEFAULT_DECIDE_CONFIG.sleepPowerFraction,
    // On virtual time the agent reuses its last full read for up to an hour (each costs real reads),
    // so the fleets' power is taken from the meter and only split by the readings.
    { meterBasis: virtual && fleet.meter !== undefined, meterFreshMs: 60_000, otherLoadMW: s.otherLoadMW ?? 0 },
  );
  gauges = new OpsGauges(agent.metrics.registry, site);
  const feedMetrics = side.feeds ? attachFeedMetrics(side.feeds, agent.metrics.registry, time.clock) : null;
  const unsubscribeFeeds = side.feeds?.onStatusChange((e) => {
    if (e.type === 'polled' && side.market instanceof LiveStoreMarket) side.market.invalidate();
    if (e.type === 'stale' || e.type === 'stopped') {
      const detail = `feed ${e.feed} ${e.type}${e.status.lastError ? `: ${e.status.lastError.message}` : ''}`;
      log(detail);
      agent.event({ type: 'alert', kind: 'feed-stale', detail });
      // The RT price drives every decision: without it the agent runs its safe mode, visibly.
      if (e.feed === 'ercot-rt') side.rtProblem.reason = `the real-time price feed is ${e.type === 'stale' ? 'stale' : 'stopped'}${e.status.lastError ? ` (${e.status.lastError.message})` : ''}`;
    }
    if (e.type === 'recovered' || (e.type === 'polled' && e.feed === 'ercot-rt' && !e.status.stale)) {
      if (e.type === 'recovered') agent.event({ type: 'alert', kind: 'feed-recovered', detail: `feed ${e.feed} is current again` });
      if (e.feed === 'ercot-rt') side.rtProblem.reason = null;
    }
  });
  const takeSample = (): void => {
    ledger.record(sampler.sample(time.clock.nowMs(), agent.minerStates(), agent.status()));
  };
  const unsubscribe = agent.subscribe((e) => {
    if (e.type !== 'tick') return;
    takeSample();
    gauges?.ledger(ledger.summary(time.clock.nowMs()), market.known, dispatcher.safeFallbacks);
    feedMetrics?.update();
  });
  takeSample();
  const t0 = performance.now();

  function status(): OpsStatus {
    const now = time.clock.nowMs();
    const w = side.window;
    return {
      site: site.name,
      mode: side.mode,
      policy: cfg.policy,
      now: new Date(now).toISOString(),
      replay: w && history ? { from: w.from, to: w.to, progress: round(Math.min(1, Math.max(0, (now - startMs) / (endMs - startMs))), 4), time: time.kind, source: history.source } : null,
      dispatch: dispatcher.describe(),
      ledger: ledger.summary(now),
      feeds: side.feeds ? side.feeds.status() : null,
      notes: history?.notes ?? [],
    };
  }

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    unsubscribe();
    unsubscribeFeeds?.();
    await side.feeds?.stop();
    detachAlerts?.();
    await running.close();
    await sim?.close();
    await alerts?.close();
    await identities?.close();
    await pages?.close();
    await side.store?.close();
  };

  return {
    url: running.http.url,
    console: auth && cons ? { auth, dbFile: cons.dbFile } : null,
    alerts: alerts?.service ?? null,
    config: cfg,
    agent: running,
    sim,
    status,
    async run(signal: AbortSignal): Promise<OpsOutcome> {
      if (side.mode === 'live') {
        side.feeds?.start();
        try {
          await running.run(signal);
        } finally {
          await side.feeds?.stop();
        }
        takeSample();
        const summary = ledger.summary(time.clock.nowMs());
        return { mode: 'live', site: site.name, policy: cfg.policy, ledger: summary, feeds: side.feeds?.status() ?? [], dispatch: { intervals: dispatcher.decidedCount, safeFallbacks: dispatcher.safeFallbacks } };
      }
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      signal.addEventListener('abort', stop, { once: true });
      let loopEnded = false;
      const loop = running
        .run(ac.signal)
        .catch((err: unknown) => log(`agent loop failed: ${describeError(err)}`))
        .finally(() => (loopEnded = true));
      let nextReport = startMs + MS_PER_DAY;
      while (!signal.aborted && time.clock.nowMs() < endMs + lagMs) {
        // Virtual time moves only while the agent sleeps: if its loop ended, nothing would move it.
        await Promise.race([time.until(Math.min(nextReport, endMs + lagMs), signal), loop]);
        if (loopEnded) {
          log('the agent loop ended before the replay did: stopping the replay');
          break;
        }
        if (time.clock.nowMs() >= nextReport) {
          const sum = ledger.summary(time.clock.nowMs());
          const run = sum.periods.find((p) => p.period === 'run');
          log(`replay at ${new Date(time.clock.nowMs()).toISOString()}: ${sum.settledIntervals}/${n} intervals, net so far ${round(run?.totals?.netUsd ?? 0)} USD`);
          nextReport += MS_PER_DAY;
        }
      }
      ac.abort();
      await loop;
      signal.removeEventListener('abort', stop);
      takeSample();
      ledger.flush(Math.min(time.clock.nowMs(), endMs));
      return outcome();
    },
    close,
  };

  function outcome(): ReplayOutcome {
    const h = history as History;
    const w = side.window as { from: string; to: string };
    const k = ledger.completeBefore(Math.min(time.clock.nowMs(), endMs));
    const input = sliceInput(truth, 0, k);
    const realized = ledger.settle(0, k);
    const planned = dispatcher.result();
    const live = summarizePolicy(input, { plan: ledger.realizedPlan(k, `${cfg.policy} (live)`), solveSeconds: planned.solveSeconds, safeFallbacks: planned.safeFallbacks, notes: planned.notes }, realized);
    const backtest = k === n ? h.backtest : summarizePolicy(input, planned, settle(input, { ...planned.plan, fleetMW: planned.plan.fleetMW.map((a) => a.subarray(0, k)), aiItMW: planned.plan.aiItMW.map((a) => a.subarray(0, k)), reason: planned.plan.reason.map((a) => a.subarray(0, k)) }));
    const gap: Record<string, number> = {};
    for (const s of STREAMS) {
      const isCost = s === 'energy' || s === 'ppa' || s === 'transmission';
      const a = isCost ? live.costUsd[s as 'energy'] : live.revenueUsd[s as 'ai'];
      const b = isCost ? backtest.costUsd[s as 'energy'] : backtest.revenueUsd[s as 'ai'];
      gap[s] = round(a - b);
    }
    const notes = [...h.notes];
    if (k < n) notes.unshift(`stopped early: ${k} of ${n} intervals replayed; compared with the planned dispatch of those intervals`);
    if (sampler.unassigned > 0) notes.push(`${sampler.unassigned} miner(s) match no site fleet and are not in the ledger`);
    const metered = ledger.meteredMWh(k);
    const maxMetered = ledger.maxMeteredMW(k);
    return {
      mode: 'replay',
      site: site.name,
      policy: cfg.policy,
      window: w,
      source: h.source,
      live,
      backtest,
      netGapPct: backtest.netUsd !== 0 ? round((100 * (live.netUsd - backtest.netUsd)) / Math.abs(backtest.netUsd), 3) : 0,
      gapByStreamUsd: gap,
      meteredMWh: metered === null ? null : round(metered, 3),
      settledMWh: live.siteEnergyMWh,
      maxMeteredMW: maxMetered === null ? null : round(maxMetered, 4),
      dispatch: { intervals: dispatcher.decidedCount, safeFallbacks: dispatcher.safeFallbacks, decidedWithoutLatestPrice: Number(dispatcher.describe()['decidedWithoutLatestPrice'] ?? 0) },
      wallSeconds: round((performance.now() - t0) / 1000, 1),
      clockJumps: time instanceof VirtualTime ? time.jumps : null,
      notes,
    };
  }
}

/** The ops figures on the agent's /metrics. */
class OpsGauges {
  private readonly usdPerHour: Gauge;
  private readonly netUsd: Gauge;
  private readonly price: Gauge;
  private readonly planned: Gauge;
  private readonly fallbacks: Gauge;
  private readonly solve: Gauge;

  constructor(
    registry: { gauge(name: string, help: string): Gauge },
    private readonly site: Site,
  ) {
    this.usdPerHour = registry.gauge('mullet_ops_usd_per_hour', 'USD per hour by stream in the latest settled interval (costs negative)');
    this.netUsd = registry.gauge('mullet_ops_net_usd', 'Net USD settled so far by period (today, month, run)');
    this.price = registry.gauge('mullet_ops_price_usd_per_mwh', 'Latest published real-time settlement point price, USD/MWh');
    this.planned = registry.gauge('mullet_ops_planned_mw', 'MW the dispatcher planned for the interval in force, by load (fleet or AI load)');
    this.fallbacks = registry.gauge('mullet_ops_safe_fallbacks', 'Dispatch steps that ran the safe fallback (strike rule) so far');
    this.solve = registry.gauge('mullet_ops_solve_seconds', 'Solve time of the latest dispatch step, seconds');
  }

  decision(fleetMW: readonly number[], aiItMW: readonly number[], solveSeconds: number): void {
    this.site.fleets.forEach((f, i) => this.planned.set(fleetMW[i] ?? 0, { load: f.name }));
    this.site.ai.forEach((a, i) => this.planned.set((aiItMW[i] ?? 0) * a.pue, { load: a.name }));
    if (solveSeconds > 0) this.solve.set(solveSeconds);
  }

  ledger(sum: LedgerSummary, known: { rtPriceUsdPerMWh: Float64Array }, fallbacks: number): void {
    for (const [stream, v] of Object.entries(sum.usdPerHourByStream)) this.usdPerHour.set(v, { stream });
    for (const p of sum.periods) this.netUsd.set(p.totals?.netUsd ?? 0, { period: p.period });
    for (let k = known.rtPriceUsdPerMWh.length - 1; k >= 0; k--) {
      const v = known.rtPriceUsdPerMWh[k] as number;
      if (!Number.isNaN(v)) {
        this.price.set(v);
        break;
      }
    }
    this.fallbacks.set(fallbacks);
  }
}
