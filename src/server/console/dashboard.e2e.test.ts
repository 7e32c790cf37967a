/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core against `mullet
 * serve`'s composition (site agent on the simulator, console API and the built dashboard on one
 * loopback origin). Log in, watch the live stack move, curtail as operator through the
 * confirmation and see the audit entry, be refused as viewer, find the entry on the audit page,
 * see an alert fire on the page when a simulated miner goes dark (delivered by a signed webhook).
 * Screenshots of each page go to out/screenshots/ (or $MULLET_SCREENSHOTS) for a reviewer.
 * Skipped (with the reason) when /usr/bin/chromium or the built dashboard is missing; `.ci/run`
 * installs Chromium and `npm ci` builds the dashboard.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAgentConfig, startAgent, type RunningAgent } from '../../app/agent.js';
import { systemClock } from '../../core/time.js';
import { AuthService } from '../../console/auth-service.js';
import { MemoryIdentityStore } from '../../console/memory-store.js';
import { TEST_SCRYPT } from '../../console/secrets.js';
import { SimSite } from '../../fleet/agent/testing/sim-site.js';
import { REPO_ROOT } from '../../testing/data.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertRulesSchema } from '../../alerts/config.js';
import { AlertService } from '../../alerts/service.js';
import { MemoryAlertStore } from '../../alerts/store.js';
import { dashboardBuilt } from './dashboard.js';
import { serveConsole } from './serve-console.js';
import { consoleSiteApp } from './site-app.js';

const CHROMIUM = '/usr/bin/chromium';
const PW = 'correct horse battery';
const SHOTS = process.env.MULLET_SCREENSHOTS ?? join(REPO_ROOT, 'out', 'screenshots');
const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} missing (apt-get install -y chromium)` : !dashboardBuilt() ? 'dashboard not built (npm run build:web)' : null;

describe.skipIf(missing !== null)(`dashboard in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  let site: SimSite;
  let running: RunningAgent;
  let browser: Browser;
  let url: string;
  let dir: string;
  let alerts: AlertService;
  let hooks: Server;
  const hooked: string[] = [];
  const loop = new AbortController();
  let loopDone: Promise<void>;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'mullet-dashboard-'));
    site = await SimSite.start({ miners: 24, cidr: '127.142.0.0/24' });
    const auth = new AuthService({ store: new MemoryIdentityStore(), clock: systemClock, scrypt: TEST_SCRYPT });
    const cli = { kind: 'cli' as const, name: 'e2e' };
    await auth.addUser(cli, { name: 'op', password: PW, role: 'operator', site: null });
    await auth.addUser(cli, { name: 'viewer', password: PW, role: 'viewer', site: null });
    await auth.addUser(cli, { name: 'admin', password: PW, role: 'admin', site: null });
    const cfg = resolveAgentConfig({ siteFile: site.siteFile, inventoryFile: site.inventoryFile, meter: `127.0.0.1:${site.meterPort}`, listen: '127.0.0.1:0', dbFile: join(dir, 'agent.db'), tickS: 0.5, minDwellS: 0 }, dir);
    // A webhook receiver on loopback: the alert's delivery shows on the page.
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => (hooked.push(body), res.writeHead(204).end()));
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/mullet`;
    running = await startAgent({
      ...cfg,
      serveApi: async (agent, limits) => {
        alerts = await AlertService.create({
          site: agent.siteName,
          rules: alertRulesSchema.parse([{ id: 'miners-offline', kind: 'miner-offline', severity: 'critical', minMiners: 1 }, { id: 'safe-mode', kind: 'safe-mode' }]),
          store: new MemoryAlertStore(),
          clock: systemClock,
          channels: { webhook: { cfg: { url: hookUrl, secretEnv: 'E2E', timeoutMs: 2_000, retries: 2, backoffMs: 50, minSeverity: 'warning' }, secret: 'e2e-webhook-secret-0123' } },
        });
        alerts.attach(agent);
        const app = consoleSiteApp({ agent, grid: agent, auth, clock: systemClock, secureCookies: false, alerts });
        return serveConsole(app, { host: '127.0.0.1', port: 0, maxConnections: limits.maxConnections });
      },
    });
    url = running.http.url;
    loopDone = running.run(loop.signal);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: 30_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    loop.abort();
    await loopDone;
    await running?.close();
    await alerts?.close();
    hooks?.closeAllConnections();
    await new Promise((r) => hooks?.close(r));
    await site?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  async function login(name: string): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(url);
    await page.fill('input[name=name]', name);
    await page.fill('input[name=password]', PW);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=who]');
    return page;
  }

  const liveUpdates = async (page: Page): Promise<number> => Number(/\d+/.exec((await page.textContent('[data-testid=ticks]')) ?? '')?.[0] ?? 0);

  it('a wrong password is refused on the login page', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(url);
    await page.fill('input[name=name]', 'op');
    await page.fill('input[name=password]', 'not the password');
    await page.click('button[type=submit]');
    await expect.poll(async () => page.textContent('[role=alert]'), { timeout: 10_000 }).toContain('wrong user name or password');
    await page.screenshot({ path: join(SHOTS, 'login-refused.png') });
    await ctx.close();
  }, 30_000);

  it('operator: logs in, sees the live stack move, curtails all through the confirmation, sees it confirmed and audited', async () => {
    const page = await login('op');
    expect(await page.textContent('[data-testid=who]')).toContain('op — operator on all sites');
    await expect.poll(() => liveUpdates(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    // No price feed under `mullet serve` here: the banner says so, not "feeds fresh"; the chart's time axis is UTC.
    await expect.poll(async () => page.textContent('[data-testid=banner]'), { timeout: 10_000 }).toContain('no market feeds');
    await page.screenshot({ path: join(SHOTS, 'site-operator.png'), fullPage: true });

    await page.selectOption('select[name=mode]', 'all');
    await page.click('text=Curtail…');
    await page.waitForSelector('[role=dialog]');
    expect(await page.textContent('[role=dialog]')).toContain('Curtail ALL mining');
    await page.screenshot({ path: join(SHOTS, 'curtail-confirm.png'), fullPage: true });
    await page.click('[role=dialog] >> text=Confirm');
    const entry = await page.waitForSelector('[data-testid=audit-entry]');
    expect(await entry.textContent()).toMatch(/audit #\d+: op site\.curtail ok \(202\) console-/);
    const id = /signal (console-[a-z0-9]+)/.exec((await page.textContent('[data-testid=last-action]')) ?? '')?.[1] as string;
    const settled = await running.agent.waitForSignal(id, 20_000);
    expect(settled?.state).toBe('confirmed');
    // The page shows the mining stack going to zero on the next live updates.
    await expect.poll(async () => page.textContent('[data-testid=mining-mw]'), { timeout: 20_000 }).toBe('0.000 MW');
    await page.screenshot({ path: join(SHOTS, 'site-curtailed.png'), fullPage: true });

    await page.goto(`${url}/#/audit`);
    await page.waitForSelector(`td:text("${id}")`);
    await page.screenshot({ path: join(SHOTS, 'audit.png'), fullPage: true });
    await page.context().close();
  }, 90_000);

  it('viewer: sees the site without action buttons, and the API refuses a curtail anyway', async () => {
    const page = await login('viewer');
    await expect.poll(() => liveUpdates(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    expect(await page.locator('text=Curtail…').count()).toBe(0);
    const status = await page.evaluate(async () => (await fetch('/api/v1/curtail', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"all":true,"id":"viewer-try"}' })).status);
    expect(status).toBe(403);
    expect(await running.agent.waitForSignal('viewer-try', 0)).toBeUndefined();
    await page.screenshot({ path: join(SHOTS, 'site-viewer.png'), fullPage: true });
    await page.context().close();
  }, 60_000);

  it('admin: adds a user and creates an API key shown once, which works until revoked', async () => {
    const page = await login('admin');
    await page.goto(`${url}/#/access`);
    await page.fill('[data-testid=new-user] input[name=user-name]', 'night-op');
    await page.fill('[data-testid=new-user] input[name=user-password]', PW);
    await page.selectOption('[data-testid=new-user] select[name=user-role]', 'operator');
    await page.click('[data-testid=new-user] button[type=submit]');
    await page.waitForSelector('td:text("night-op")');
    await page.fill('[data-testid=new-key] input[name=key-name]', 'qse');
    await page.selectOption('[data-testid=new-key] select[name=key-role]', 'signals');
    await page.fill('[data-testid=new-key] input[name=key-expires]', '30d');
    await page.click('[data-testid=new-key] button[type=submit]');
    const key = ((await (await page.waitForSelector('[data-testid=fresh-key] code')).textContent()) ?? '').trim();
    expect(key).toMatch(/^mlt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    await page.screenshot({ path: join(SHOTS, 'access.png'), fullPage: true });
    const me = (k: string) => page.evaluate(async (bearer) => (await fetch('/api/v1/me', { headers: { authorization: `Bearer ${bearer}` } })).status, k);
    expect(await me(key)).toBe(200);
    await page.click('[data-testid=fresh-key] >> text=Done');
    expect(await page.locator('[data-testid=fresh-key]').count()).toBe(0); // shown once
    await page.click('text=Revoke qse');
    await page.waitForSelector('td:text("revoked")');
    expect(await me(key)).toBe(401);
    await page.context().close();
  }, 60_000);

  it('alerts: a simulated miner goes dark, the alert fires on the page (critical, webhook delivered), then resolves', async () => {
    const page = await login('viewer');
    await page.waitForSelector('[data-testid=alerts]');
    const host = site.inventory.miners[3]?.host as string;
    expect(await site.fleet.addFault(host, { kind: 'refused', durationMs: 60_000 })).toBe(true);
    const active = await page.waitForSelector('[data-testid=active-alerts] li.alert.critical', { timeout: 30_000 });
    expect(await active.textContent()).toMatch(/CRITICAL miners-offline since .* UTC: 1 of 24 miners unreachable/);
    await expect.poll(async () => page.textContent('[data-testid=alerts]'), { timeout: 20_000 }).toContain('fired: webhook ok');
    expect(hooked.some((b) => b.includes('"event":"fired"') && b.includes('miners-offline'))).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'alerts.png'), fullPage: true });
    await site.fleet.clearFaults(host);
    await expect.poll(async () => page.textContent('[data-testid=alerts]'), { timeout: 30_000 }).toContain('Alerts — 0 active');
    await page.context().close();
  }, 90_000);

  it('admin: edits the alert rules on the page (validated, audited); a viewer sees them without the editor', async () => {
    const page = await login('admin');
    await page.click('[data-testid=alert-rules] summary');
    await page.click('text=Edit rules…');
    const text = (await page.inputValue('textarea[name=alert-rules]')).replace('"minMiners": 1', '"minMiners": 500');
    await page.fill('textarea[name=alert-rules]', text.replace('"kind": "safe-mode"', '"kind": "no-such-kind"'));
    await page.click('text=Save rules');
    await expect.poll(async () => page.textContent('[data-testid=alert-rules] [role=alert]'), { timeout: 10_000 }).toMatch(/^400: /);
    await page.fill('textarea[name=alert-rules]', text);
    await page.click('text=Save rules');
    await expect.poll(async () => page.textContent('[data-testid=alert-rules] summary'), { timeout: 10_000 }).toContain('set by admin');
    expect(await page.textContent('[data-testid=alert-rules] table')).toContain('minMiners 500');
    await page.screenshot({ path: join(SHOTS, 'alert-rules.png'), fullPage: true });
    expect(alerts.rules().rules.find((r) => r.id === 'miners-offline')).toMatchObject({ minMiners: 500 });
    const entries = await page.evaluate(async () => ((await (await fetch('/api/v1/audit?action=alerts.rules.replace')).json()) as { entries: { result: string }[] }).entries.map((e) => e.result));
    expect(entries).toEqual(['ok', 'failed']);
    await page.context().close();
    const viewer = await login('viewer');
    await viewer.click('[data-testid=alert-rules] summary');
    expect(await viewer.locator('text=Edit rules…').count()).toBe(0);
    await viewer.context().close();
  }, 60_000);

  it('grid: an award and an ECRS deployment posted through the console show on the grid panel, then the recall', async () => {
    const page = await login('op');
    const now = Date.now();
    const posted = await page.evaluate(
      async (b) => {
        const post = async (path: string, body: unknown) => (await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;
        return [await post('/api/v1/grid/awards', b.award), await post('/api/v1/grid/deployments', b.deployment)];
      },
      { award: { id: 'e2e-award', product: 'ECRS', mw: 0.004, from: new Date(now - 60_000).toISOString(), to: new Date(now + 3_600_000).toISOString() }, deployment: { id: 'e2e-ecrs', product: 'ECRS', mw: 0.003 } },
    );
    expect(posted).toEqual([201, 202]);
    await expect.poll(async () => page.textContent('[data-testid=grid]'), { timeout: 20_000 }).toMatch(/e2e-ecrs\s*ECRS\s*0\.003.*active/);
    expect(await page.textContent('[data-testid=grid]')).toContain('e2e-award');
    await page.screenshot({ path: join(SHOTS, 'grid.png'), fullPage: true });
    expect(await page.evaluate(async () => (await fetch('/api/v1/grid/deployments/e2e-ecrs/recall', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status)).toBe(202);
    await expect.poll(async () => page.textContent('[data-testid=grid]'), { timeout: 20_000 }).toMatch(/e2e-ecrs.*recalled/);
    await page.context().close();
  }, 60_000);
});
