/**
 * `npm run bench -- console`: the operator console's figures on loopback, over real sockets:
 *  - API latency at an open-loop 200 requests/s for 10 s: GET /api/v1/status with an API key
 *    (key lookup + hash + role check + JSON) and audited writes (POST /api/v1/restore, one SQLite
 *    append each) at 50/s; p50, p99, max in ms;
 *  - one password login (scrypt N=2^15, the production cost), ms;
 *  - 20 live streams (/api/v1/events) while the agent publishes 10 ticks/s for 10 s: events
 *    delivered, server RSS growth and CPU (clients run in the same process: an upper bound);
 *  - the dashboard in Chromium (when /usr/bin/chromium and the built dashboard are there): first
 *    render of the login page and time from logging in to the first live update, ms.
 * The agent behind the API is a stub serving a 10,000-miner status document and tick events: the
 * console's own cost is measured, not the fleet's (that is `bench fleet`). `console --sim` (the same
 * as `console-sim`, src/bench/console-sim.ts) puts the real agent and a 10,000-miner simulated site
 * behind the console instead.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import type { Browser, Page } from 'playwright-core';
import { systemClock } from '../core/time.js';
import { AuthService } from '../console/auth-service.js';
import { SqliteIdentityStore } from '../console/sqlite-store.js';
import type { AgentApi, AgentStatus } from '../fleet/agent/api.js';
import type { AgentEvent } from '../fleet/agent/events.js';
import type { SignalRecord } from '../fleet/agent/state-port.js';
import { mountConsole } from '../server/console/app.js';
import { dashboardBuilt, mountDashboard } from '../server/console/dashboard.js';
import { serveConsole } from '../server/console/serve-console.js';

const PW = 'bench password 123';

class StubAgent implements AgentApi {
  readonly siteName = 'bench';
  private readonly subs = new Set<(e: AgentEvent) => void>();
  private seq = 0;
  nowMs(): number {
    return Date.now();
  }
  status(): AgentStatus {
    return {
      site: 'bench',
      nowMs: Date.now(),
      miners: 10_000,
      limits: { importLimitMW: 40, aiMW: 10, otherLoadMW: 1, safetyMarginMW: 0.2, safeMode: 'hold' },
      target: { source: 'nameplate' },
      meter: { last: { siteMW: 38.2, atMs: Date.now() }, error: null },
      signal: { capMW: null, capSignalId: null, tracking: null },
      lastSafeMW: null,
      lastTick: null,
      minersByState: { mining: 9_000, sleeping: 950, waking: 20, failed: 10, unreachable: 20 },
      implausible: [],
      alerts: [],
    };
  }
  receiveSignal(spec: { kind: 'curtail' | 'restore' }, id: string | undefined): Promise<{ record: SignalRecord; duplicate: boolean }> {
    const now = Date.now();
    return Promise.resolve({ duplicate: false, record: { id: id ?? `b-${now}`, kind: spec.kind, request: '{}', source: 'bench', receivedAtMs: now, capMW: null, baselineMW: null, state: 'confirmed', commandsSent: 0, firstCommandAtMs: null, confirmedAtMs: now, minersConfirmed: 0, minersFailed: 0, minersUnreachable: 0, shortfallMW: null, supersededBy: null } });
  }
  waitForSignal(): Promise<SignalRecord | undefined> {
    return Promise.resolve(undefined);
  }
  subscribe(fn: (e: AgentEvent) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
  publish(): void {}
  metricsText(): string {
    return '';
  }
  tick(): void {
    const e: AgentEvent = { v: 1, atMs: Date.now(), type: 'tick', seq: this.seq++, trigger: 'timer', durationMs: 120, phasesMs: { read: 100, write: 10, verify: 10 }, allowedMiningMW: 28.8, limitedBy: 'import-limit', miningBeforeMW: 27 + (this.seq % 10) / 10, projectedMiningMW: 27 + (this.seq % 10) / 10, projectedSiteMW: 38 + (this.seq % 10) / 10, commandsSent: 0, commandsFailed: 0 };
    for (const s of this.subs) s(e);
  }
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
export const r2 = (x: number): number => Math.round(x * 100) / 100;

export function exchange(agent: Agent, base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { method, agent, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Open loop: a request every 1000/rps ms for `seconds`, whatever the replies do; latency of each. */
export async function openLoop(rps: number, seconds: number, send: (i: number) => Promise<number>): Promise<{ requests: number; errors: number; p50Ms: number; p99Ms: number; maxMs: number }> {
  const lat: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const t0 = performance.now();
  const n = rps * seconds;
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const start = performance.now();
    inflight.push(
      send(i).then(
        (status) => {
          lat.push(performance.now() - start);
          if (status >= 400) errors++;
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(inflight);
  lat.sort((a, b) => a - b);
  return { requests: n, errors, p50Ms: r2(pct(lat, 50)), p99Ms: r2(pct(lat, 99)), maxMs: r2(lat[lat.length - 1] ?? NaN) };
}

export async function benchConsole(): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'mullet-bench-console-'));
  const store = SqliteIdentityStore.open(join(dir, 'console.db'), Date.now());
  const auth = new AuthService({ store, clock: systemClock });
  const stub = new StubAgent();
  const app = new Hono();
  mountConsole(app, { agent: stub, auth, clock: systemClock, secureCookies: false });
  const withDashboard = dashboardBuilt();
  if (withDashboard) mountDashboard(app);
  const srv = await serveConsole(app, { host: '127.0.0.1', port: 0, maxConnections: 256 });
  const http = new Agent({ keepAlive: true, maxSockets: 32 });
  try {
    const cli = { kind: 'cli' as const, name: 'bench' };
    await auth.addUser(cli, { name: 'op', password: PW, role: 'operator', site: null });
    const { key } = await auth.createKey(cli, { name: 'bench', role: 'operator', site: null, expiresInMs: null });
    const bearer = { authorization: `Bearer ${key}` };

    const l0 = performance.now();
    const loginStatus = await exchange(http, srv.url, 'POST', '/api/v1/login', {}, JSON.stringify({ name: 'op', password: PW }));
    const loginMs = r2(performance.now() - l0);

    // Warm-up (JIT, keep-alive sockets, SQLite page cache), not measured.
    await openLoop(200, 2, () => exchange(http, srv.url, 'GET', '/api/v1/status', bearer));
    process.stderr.write('bench console: GET /api/v1/status at 200/s for 10 s\n');
    const reads = await openLoop(200, 10, () => exchange(http, srv.url, 'GET', '/api/v1/status', bearer));
    process.stderr.write('bench console: POST /api/v1/restore (audited) at 50/s for 10 s\n');
    const writes = await openLoop(50, 10, (i) => exchange(http, srv.url, 'POST', '/api/v1/restore', bearer, JSON.stringify({ id: `bench-${i}` })));

    process.stderr.write('bench console: 20 live streams, 10 ticks/s for 10 s\n');
    const streams = await sseStreams(srv.url, bearer, stub, 20, 10, 10);

    const browser = withDashboard && existsSync('/usr/bin/chromium') ? await dashboardTimes(srv.url, stub).catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) })) : { skipped: withDashboard ? '/usr/bin/chromium missing' : 'dashboard not built (npm run build:web)' };
    return { login: { status: loginStatus, ms: loginMs, scrypt: 'N=2^15 r=8 p=1' }, statusAt200rps: reads, auditedWritesAt50rps: writes, streams, dashboard: browser };
  } finally {
    http.destroy();
    await srv.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sseStreams(base: string, headers: Record<string, string>, stub: StubAgent, clients: number, ticksPerS: number, seconds: number): Promise<unknown> {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  let events = 0;
  const reqs: ReturnType<typeof request>[] = [];
  await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<void>((resolve, reject) => {
          const req = request(`${base}/api/v1/events`, { headers }, (res) => {
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              events += (chunk.match(/^event: tick$/gm) ?? []).length;
            });
            resolve();
          });
          req.on('error', reject);
          req.end();
          reqs.push(req);
        }),
    ),
  );
  const t0 = performance.now();
  for (let i = 0; i < ticksPerS * seconds; i++) {
    stub.tick();
    const wait = t0 + ((i + 1) * 1000) / ticksPerS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await new Promise((r) => setTimeout(r, 200));
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - t0) / 1000;
  const rss1 = process.memoryUsage().rss;
  for (const r of reqs) r.destroy();
  return { clients, ticksSent: ticksPerS * seconds, eventsDelivered: events, expected: clients * ticksPerS * seconds, rssGrowthMiB: r2((rss1 - rss0) / 2 ** 20), cpuPctOfOneCore: r2(((cpu.user + cpu.system) / 1e6 / wallS) * 100), note: 'clients in the same process: CPU and memory are an upper bound for the server' };
}

/** Headless Debian Chromium for the dashboard figures. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: 30_000 });
}

/** Opens the dashboard at `base`, times the login page's first render, logs in as `op`; `loginAtMs` is when the button was clicked. */
export async function dashboardLogin(browser: Browser, base: string, password: string, timeoutMs: number): Promise<{ page: Page; firstRenderMs: number; loginAtMs: number }> {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeoutMs);
  const t0 = performance.now();
  await page.goto(base);
  await page.waitForSelector('input[name=name]');
  const firstRenderMs = r2(performance.now() - t0);
  await page.fill('input[name=name]', 'op');
  await page.fill('input[name=password]', password);
  const loginAtMs = performance.now();
  await page.click('button[type=submit]');
  return { page, firstRenderMs, loginAtMs };
}

/**
 * Waits until the page counts a live update, polled from outside the page every 10 ms (the
 * dashboard's CSP rightly refuses waitForFunction's evaluated predicates); throws after `waitMs`.
 */
export async function waitForLiveUpdate(page: Page, waitMs: number): Promise<void> {
  const deadline = performance.now() + waitMs;
  while (!/live updates: [1-9]/.test((await page.textContent('[data-testid=ticks]', { timeout: 1_000 }).catch(() => null)) ?? '')) {
    if (performance.now() > deadline) throw new Error(`no live update within ${Math.round(waitMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function dashboardTimes(base: string, stub: StubAgent): Promise<unknown> {
  const browser = await launchChromium();
  const ticker = setInterval(() => stub.tick(), 500);
  try {
    const { page, firstRenderMs, loginAtMs } = await dashboardLogin(browser, base, PW, 20_000);
    await waitForLiveUpdate(page, 20_000);
    const loginToFirstLiveUpdateMs = r2(performance.now() - loginAtMs);
    return { firstRenderMs, loginToFirstLiveUpdateMs, tickPeriodMs: 500, note: 'includes the scrypt login (see login.ms) and up to one tick period of waiting' };
  } finally {
    clearInterval(ticker);
    await browser.close();
  }
}
