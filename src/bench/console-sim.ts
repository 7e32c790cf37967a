/**
 * `npm run bench -- console-sim` (or `console --sim`): the operator console in front of a REAL
 * site agent driving the simulator with 10,000 miners (worker processes, real protocols on
 * loopback), as `mullet serve` composes them (startAgent + consoleSiteApp + serveConsole):
 *  - API latency: GET /api/v1/status with an API key at an open-loop 200 requests/s for 10 s while
 *    the agent reads all 10,000 miners every tick; p50, p99, max in ms;
 *  - server CPU and RSS over a window without streams and the same window with 20 connected
 *    /api/v1/events streams (the agent, its tick loop and the console all in this process; the
 *    stream clients too, so CPU is an upper bound; the simulator is in other processes);
 *  - the dashboard in Chromium (/usr/bin/chromium via playwright-core, the built dashboard): first
 *    render of the login page, login → live snapshot shown, login → first live update (waits for the
 *    agent's next tick: up to one tick period), and the agent publishing that tick → the page showing it.
 *
 *   npm run bench -- console-sim [--miners 10000] [--tick-s 10] [--window-s 30] [--streams 20] [--rps 200]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AGENT_DEFAULTS, startAgent, type RunningAgent } from '../app/agent.js';
import { AuthService } from '../console/auth-service.js';
import { SqliteIdentityStore } from '../console/sqlite-store.js';
import { systemClock } from '../core/time.js';
import { builtinCapabilities } from '../fleet/drivers/index.js';
import { FIRMWARE_PROFILES } from '../fleet/sim/firmware.js';
import { defaultListenersPerProcess, planFleet, SimFleet } from '../fleet/sim/fleet.js';
import { DEFAULT_HOST_OPTIONS } from '../fleet/sim/host.js';
import { simInventory } from '../fleet/sim/inventory-export.js';
import { DEFAULT_MINER_OPTIONS } from '../fleet/sim/miner.js';
import { parseFirmwareMix, parseModelMix } from '../fleet/sim/mix.js';
import { freeLoopbackBlock } from '../fleet/sim/site-sim.js';
import { dashboardBuilt } from '../server/console/dashboard.js';
import { serveConsole } from '../server/console/serve-console.js';
import { consoleSiteApp } from '../server/console/site-app.js';
import { parseSite } from '../site/parse.js';
import { dashboardLogin, exchange, launchChromium, openLoop, r2, waitForLiveUpdate } from './console.js';

export interface BenchConsoleSimOptions {
  miners: number;
  /** The agent's tick period (every tick reads the whole fleet), s. */
  tickS: number;
  /** Length of each CPU/RSS window (without, then with the streams), s. */
  windowS: number;
  streams: number;
  rps: number;
}

const PW = 'bench password 123';
const MIX = 'antminer-stock:45,luxos:25,braiins-legacy:10,whatsminer-v2:20';
const MODELS = 's19xp:1,s21:1,s21pro:1,s19jpro:1,m60s:1';

/** A tick the agent published: when (performance.now()) and how long its read-decide-write took. */
interface TickSeen {
  atPerfMs: number;
  durationMs: number;
}

export async function benchConsoleSim(o: BenchConsoleSimOptions): Promise<unknown> {
  const log = (l: string): void => void process.stderr.write(`bench console-sim: ${l}\n`);
  const n = o.miners;
  const seed = 3;
  const cidr = await freeLoopbackBlock(n, 4028, seed);
  const mix = parseFirmwareMix(MIX);
  const models = parseModelMix(MODELS);
  // The simulator in worker processes, as `bench fleet` runs it: the agent's process holds only the agent and the console.
  const listeners = planFleet({ miners: n, cidr, mix, models, seed }).reduce((a, s) => a + FIRMWARE_PROFILES[s.firmware].ports.length, 0);
  const workers = Math.max(2, Math.ceil(listeners / defaultListenersPerProcess()));
  log(`starting the simulator: ${n} miners on ${cidr}, ${workers} worker processes`);
  const t0 = performance.now();
  const fleet = await SimFleet.start({ miners: n, cidr, mix, models, seed, timeScale: 1, listenersPerProcess: Math.ceil(listeners / workers) + 2, aiLoadW: 0, host: { ...DEFAULT_HOST_OPTIONS }, miner: DEFAULT_MINER_OPTIONS });
  const simStartS = r2((performance.now() - t0) / 1000);
  const dir = mkdtempSync(join(tmpdir(), 'mullet-bench-console-sim-'));
  const identities = SqliteIdentityStore.open(join(dir, 'console.db'), Date.now());
  const auth = new AuthService({ store: identities, clock: systemClock });
  const http = new Agent({ keepAlive: true, maxSockets: 32 });
  let running: RunningAgent | undefined;
  const loop = new AbortController();
  let loopDone: Promise<void> | undefined;
  try {
    log(`simulator up in ${simStartS} s`);
    const inventory = simInventory(fleet.miners, await fleet.truth(), systemClock.nowMs(), builtinCapabilities);
    const ratedMW = inventory.miners.reduce((a, m) => a + (m.ratedPowerW ?? 0), 0) / 1e6;
    // The import limit above the fleet's nameplate: the agent mines at nameplate, as `mullet serve` without a plan.
    const site = parseSite(['name: bench-sim', 'market: { iso: ERCOT, settlementPoint: HB_WEST }', `interconnect: { importLimitMW: ${Math.ceil(ratedMW * 1.2)} }`, ''].join('\n'), { file: 'bench-sim-site' });
    const cli = { kind: 'cli' as const, name: 'bench' };
    await auth.addUser(cli, { name: 'op', password: PW, role: 'operator', site: null });
    const { key } = await auth.createKey(cli, { name: 'bench', role: 'operator', site: null, expiresInMs: null });
    const bearer = { authorization: `Bearer ${key}` };
    running = await startAgent({
      ...AGENT_DEFAULTS,
      siteFile: 'bench-sim-site',
      inventoryFile: 'simulator',
      site,
      inventory,
      listen: '127.0.0.1:0',
      dbFile: join(dir, 'agent.db'),
      tickS: o.tickS,
      callTimeoutMs: 10_000,
      connectTimeoutMs: 5_000,
      cwd: dir,
      clock: systemClock,
      log: (l) => (/error|fail/i.test(l) ? log(`agent: ${l}`) : undefined),
      serveApi: (agent, limits) => serveConsole(consoleSiteApp({ agent, grid: agent, auth, clock: systemClock, secureCookies: false }, { log }), { host: '127.0.0.1', port: 0, maxConnections: limits.maxConnections, log }),
    });
    const base = running.http.url;
    const ticks: TickSeen[] = [];
    running.agent.subscribe((e) => {
      if (e.type === 'tick') ticks.push({ atPerfMs: performance.now(), durationMs: e.durationMs });
    });
    loopDone = running.run(loop.signal);
    await waitFor(() => ticks.length > 0, 120_000, 'the first tick');
    log(`first tick: full read of ${n} miners in ${Math.round(ticks[0]?.durationMs ?? NaN)} ms`);
    const statusBytes = (await (await fetch(`${base}/api/v1/status`, { headers: bearer })).arrayBuffer()).byteLength;

    // Warm-up (JIT, keep-alive sockets), not measured.
    await openLoop(o.rps, 2, () => exchange(http, base, 'GET', '/api/v1/status', bearer));
    log(`GET /api/v1/status at ${o.rps}/s for 10 s (the agent ticking every ${o.tickS} s)`);
    const ticksBefore = ticks.length;
    // The event loop's own stalls during the load (a full read's parsing, SQLite writes): they explain the tail.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    // Which seconds of the run the slow replies (> 1 s) were sent in: a tail at one moment, or all along.
    const slowBySecond: Record<number, number> = {};
    const tLoad = performance.now();
    const reads = await openLoop(o.rps, 10, async () => {
      const sent = performance.now();
      const status = await exchange(http, base, 'GET', '/api/v1/status', bearer);
      if (performance.now() - sent > 1_000) {
        const sec = Math.floor((sent - tLoad) / 1000);
        slowBySecond[sec] = (slowBySecond[sec] ?? 0) + 1;
      }
      return status;
    });
    lag.disable();
    const ticksDuringLoad = ticks.length - ticksBefore;

    log(`server CPU and RSS: ${o.windowS} s without streams, then ${o.windowS} s with ${o.streams}`);
    const idle = await window(o.windowS, ticks, null);
    const withStreams = await window(o.windowS, ticks, { base, headers: bearer, clients: o.streams });

    const dashboard = !dashboardBuilt() ? { skipped: 'dashboard not built (npm run build:web)' } : !existsSync('/usr/bin/chromium') ? { skipped: '/usr/bin/chromium missing' } : await browserTimes(base, ticks, o.tickS).catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }));
    const durations = ticks.map((t) => t.durationMs).sort((a, b) => a - b);
    return {
      miners: n,
      mix: MIX,
      simulator: { workers: fleet.workers, startupS: simStartS, note: 'simulator in worker processes; agent, console and bench clients in this one' },
      agent: { tickS: o.tickS, ticks: ticks.length, tickMs: { p50: r2(durations[Math.floor(durations.length / 2)] ?? NaN), max: r2(durations.at(-1) ?? NaN) } },
      statusDocumentBytes: statusBytes,
      statusAt200rps: { ...reads, rps: o.rps, agentTicksDuringLoad: ticksDuringLoad, eventLoopDelayMs: { p99: r2(lag.percentile(99) / 1e6), max: r2(lag.max / 1e6) }, slowOver1sBySecond: slowBySecond },
      server: { withoutStreams: idle, withStreams },
      dashboard,
    };
  } finally {
    loop.abort();
    await loopDone?.catch(() => undefined);
    http.destroy();
    await running?.close();
    await identities.close();
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`no ${what} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** CPU (% of one core) and RSS of this process over `seconds`, optionally with SSE clients connected for the whole window. */
async function window(seconds: number, ticks: readonly TickSeen[], streams: { base: string; headers: Record<string, string>; clients: number } | null): Promise<Record<string, unknown>> {
  const reqs: ReturnType<typeof request>[] = [];
  const events: Record<string, number> = {};
  let bytes = 0;
  if (streams) {
    await Promise.all(
      Array.from(
        { length: streams.clients },
        () =>
          new Promise<void>((resolve, reject) => {
            const req = request(`${streams.base}/api/v1/events`, { headers: streams.headers }, (res) => {
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                bytes += Buffer.byteLength(chunk);
                for (const m of chunk.matchAll(/^event: ([\w.-]+)$/gm)) events[m[1] as string] = (events[m[1] as string] ?? 0) + 1;
              });
              resolve();
            });
            req.on('error', reject);
            req.end();
            reqs.push(req);
          }),
      ),
    );
  }
  global.gc?.();
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(process.memoryUsage.rss()), 200);
  const tick0 = ticks.length;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  for (const r of reqs) r.destroy();
  const mib = (b: number): number => r2(b / 2 ** 20);
  return {
    seconds,
    ...(streams ? { clients: streams.clients, eventsDelivered: events, bytesDelivered: bytes } : {}),
    agentTicks: ticks.length - tick0,
    cpuPctOfOneCore: r2(((cpu.user + cpu.system) / 1e6 / wallS) * 100),
    rssMiB: { mean: mib(rss.reduce((a, b) => a + b, 0) / Math.max(1, rss.length)), peak: mib(Math.max(...rss)) },
  };
}

async function browserTimes(base: string, ticks: readonly TickSeen[], tickS: number): Promise<unknown> {
  const browser = await launchChromium();
  try {
    const { page, firstRenderMs, loginAtMs: t1 } = await dashboardLogin(browser, base, PW, 30_000);
    // The green banner needs the snapshot over the live stream (no safe mode, no stale feed, no meter error).
    const snapshot = await page
      .waitForSelector('[data-testid=banner]', { timeout: 30_000 })
      .then(() => r2(performance.now() - t1))
      .catch(() => null);
    await waitForLiveUpdate(page, (tickS * 3 + 30) * 1000);
    const seen = performance.now();
    const loginToFirstLiveUpdateMs = r2(seen - t1);
    const tick = [...ticks].reverse().find((t) => t.atPerfMs <= seen);
    return {
      firstRenderMs,
      loginToSnapshotMs: snapshot,
      loginToFirstLiveUpdateMs,
      tickPublishedToPageMs: tick ? r2(seen - tick.atPerfMs) : null,
      tickS,
      note: 'login includes one scrypt hash (N=2^15); the first live update waits for the agent\'s next tick (up to tickS); tickPublishedToPageMs is SSE + render, polled every 10 ms',
    };
  } finally {
    await browser.close();
  }
}

/** Options from `--miners N --tick-s S --window-s S --streams N --rps N`. */
export function benchConsoleSimArgs(argv: readonly string[]): BenchConsoleSimOptions {
  const num = (name: string, dflt: number): number => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return dflt;
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, got '${argv[i + 1] ?? ''}'`);
    return v;
  };
  return { miners: num('miners', 10_000), tickS: num('tick-s', 10), windowS: num('window-s', 30), streams: num('streams', 20), rps: num('rps', 200) };
}
