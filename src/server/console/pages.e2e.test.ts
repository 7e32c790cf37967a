/**
 * The fleet, analyst and strategy pages in a real browser (Debian's Chromium, playwright-core),
 * against `mullet serve`'s composition on the simulator: the fleet heatmap, one miner and the
 * curtail preview (which sends nothing); the analyst charts with their sources; a back-test run
 * from the browser by the CLI's own code in a child process, followed to its result. Screenshots
 * go to out/screenshots/<page>.png (or $MULLET_SCREENSHOTS). Skipped (with the reason) without
 * Chromium or the built dashboard; the back-test part also needs the shared data and the built CLI.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAgentConfig, startAgent, type RunningAgent } from '../../app/agent.js';
import { BACKTEST_2023_FILES } from '../../bench/dispatch.js';
import { captureIo } from '../../cli/capture.js';
import { runCli } from '../../cli/run.js';
import { systemClock } from '../../core/time.js';
import { AuthService } from '../../console/auth-service.js';
import { MemoryIdentityStore } from '../../console/memory-store.js';
import { TEST_SCRYPT } from '../../console/secrets.js';
import { SimSite } from '../../fleet/agent/testing/sim-site.js';
import { importIndustry } from '../../industry/import.js';
import { parseIndustryCsv } from '../../industry/parse.js';
import { SqliteIndustryStore } from '../../industry/store.js';
import { CLI_ENTRY, childRunner } from '../../strategy/child-runner.js';
import { StrategyInputs } from '../../strategy/inputs.js';
import { StrategyJobs } from '../../strategy/jobs.js';
import { hasSharedData, REPO_ROOT, sharedDataDir, sharedFile } from '../../testing/data.js';
import { mountConsole } from './app.js';
import { dashboardBuilt, mountDashboard } from './dashboard.js';
import { serveConsole } from './serve-console.js';

const CHROMIUM = '/usr/bin/chromium';
const PW = 'correct horse battery';
const SHOTS = process.env.MULLET_SCREENSHOTS ?? join(REPO_ROOT, 'out', 'screenshots');
const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} missing (apt-get install -y chromium)` : !dashboardBuilt() ? 'dashboard not built (npm run build:web)' : null;
const realIndustry = existsSync(sharedFile('industry', 'miner_metrics.csv'));
const canBacktest = hasSharedData() && existsSync(CLI_ENTRY);

/** Hand-written rows in the industry format, for when the team's files are absent. */
const METRICS = `company,ticker,period,metric,value,unit,as_of,source_url,source_kind,note
Acme Mining,ACME,2025Q2,revenue_bitcoin_mining_usd,90000000,USD,2025-06-30,https://example.com/acme-q2,press_release,
Acme Mining,ACME,2025Q2,revenue_ai_hpc_usd,10000000,USD,2025-06-30,https://example.com/acme-q2,press_release,
Acme Mining,ACME,2025Q3,revenue_bitcoin_mining_usd,80000000,USD,2025-09-30,https://example.com/acme-q3,press_release,
Acme Mining,ACME,2025Q3,revenue_ai_hpc_usd,40000000,USD,2025-09-30,https://example.com/acme-q3,press_release,
Acme Mining,ACME,2025Q3,ai_hpc_mw_committed,200,MW,2025-09-30,https://example.com/acme-q3,press_release,
Acme Mining,ACME,2025Q3,market_cap_usd,4000000000,USD,2025-09-30,https://markets.example.com/acme,press,
`;
const DEALS = `announced,miner,tenant,site,kind,it_mw,term_years,total_value_usd,annual_value_usd,escalator_pct,prepay_pct,backstop,source_url,source_kind,note
2025-08-15,Acme Mining,Hyperco,Site A,lease,100,10,2400000000,,,,,https://example.com/deal-1,press_release,
`;

describe.skipIf(missing !== null)(`fleet, analyst and strategy pages in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  let site: SimSite;
  let running: RunningAgent;
  let browser: Browser;
  let url: string;
  let dir: string;
  let industry: SqliteIndustryStore;
  let jobs: StrategyJobs | undefined;
  const loop = new AbortController();
  let loopDone: Promise<void>;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'mullet-pages-'));
    site = await SimSite.start({ miners: 24, cidr: '127.143.0.0/24' });
    const auth = new AuthService({ store: new MemoryIdentityStore(), clock: systemClock, scrypt: TEST_SCRYPT });
    const cli = { kind: 'cli' as const, name: 'e2e' };
    await auth.addUser(cli, { name: 'op', password: PW, role: 'operator', site: null });
    await auth.addUser(cli, { name: 'viewer', password: PW, role: 'viewer', site: null });
    industry = SqliteIndustryStore.open(':memory:');
    if (realIndustry) await importIndustry([sharedFile('industry')], industry, systemClock.nowMs());
    else {
      await industry.importFile(parseIndustryCsv(METRICS, 'miner_metrics.csv'), 1);
      await industry.importFile(parseIndustryCsv(DEALS, 'ai_deals.csv'), 1);
    }
    let strategy: { jobs: StrategyJobs; inputs: StrategyInputs } | undefined;
    if (canBacktest) {
      const db = join(dir, 'market.db');
      const imp = await runCli(['data', 'import', ...BACKTEST_2023_FILES.map((f) => join(sharedDataDir(), f)), '--db', db, '--json'], captureIo(process.cwd()));
      if (imp !== 0) throw new Error(`data import exited ${imp}`);
      const inputs = StrategyInputs.scan(join(REPO_ROOT, 'examples'));
      jobs = new StrategyJobs({ runner: childRunner({ inputs, dataDb: db, deadlineMs: 120_000 }), clock: systemClock });
      strategy = { jobs, inputs };
    }
    const cfg = resolveAgentConfig({ siteFile: site.siteFile, inventoryFile: site.inventoryFile, meter: `127.0.0.1:${site.meterPort}`, listen: '127.0.0.1:0', dbFile: join(dir, 'agent.db'), tickS: 0.5, minDwellS: 0 }, dir);
    running = await startAgent({
      ...cfg,
      serveApi: (agent, limits) => {
        const app = new Hono();
        mountConsole(app, { agent, auth, clock: systemClock, secureCookies: false, industry, ...(strategy ? { strategy } : {}) });
        mountDashboard(app);
        return serveConsole(app, { host: '127.0.0.1', port: 0, maxConnections: limits.maxConnections });
      },
    });
    url = running.http.url;
    loopDone = running.run(loop.signal);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await jobs?.close();
    loop.abort();
    await loopDone;
    await running?.close();
    await site?.close();
    await industry?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  async function login(name: string, hash: string): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(url);
    await page.fill('input[name=name]', name);
    await page.fill('input[name=password]', PW);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=who]');
    await page.goto(`${url}/${hash}`);
    return page;
  }

  it('fleet: heatmap and groups, one miner, and an operator’s curtail preview that sends nothing', async () => {
    const page = await login('op', '#/fleet');
    await page.waitForSelector('[data-testid=fleet-heatmap] .cell');
    expect(await page.locator('[data-testid=fleet-heatmap] .cell').count()).toBe(24);
    expect(await page.textContent('main')).toContain('24 miners');
    await page.screenshot({ path: join(SHOTS, 'fleet.png'), fullPage: true });
    await page.locator('[data-testid=fleet-heatmap] .cell').first().click();
    await page.waitForSelector('[data-testid=miner-detail]');
    expect(await page.textContent('[data-testid=miner-detail]')).toMatch(/temperatures.*°C|temperatures/);
    // Hashboards and pools are read from the simulated device when the miner is opened.
    await page.waitForSelector('[data-testid=miner-health]');
    expect(await page.textContent('[data-testid=miner-health]')).toContain('stratum+tcp://');
    await page.screenshot({ path: join(SHOTS, 'fleet-miner.png'), fullPage: true });
    await page.selectOption('select[name=preview-mode]', 'pct');
    await page.fill('input[name=preview-value]', '25');
    await page.click('[data-testid=curtail-preview] button[type=submit]');
    await page.waitForSelector('[data-testid=curtail-preview] tbody tr');
    expect(await page.textContent('[data-testid=curtail-preview]')).toContain('Nothing was sent');
    await page.locator('[data-testid=curtail-preview]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'fleet-preview.png'), fullPage: true });
    expect(running.agent.status().signal.capMW).toBeNull();
    await page.context().close();
  }, 60_000);

  it('fleet: a viewer gets no preview', async () => {
    const page = await login('viewer', '#/fleet');
    await page.waitForSelector('[data-testid=fleet-heatmap] .cell');
    expect(await page.locator('[data-testid=curtail-preview]').count()).toBe(0);
    await page.context().close();
  }, 60_000);

  it('analyst: MW, revenue mix, deals with implied USD/kW-month, value per MW, every figure linked to its source', async () => {
    const page = await login('viewer', '#/analyst');
    for (const s of ['analyst-mw', 'analyst-mix', 'analyst-deals', 'analyst-value']) await page.waitForSelector(`[data-testid=${s}] canvas`);
    const links = await page.locator('[data-testid=analyst-deals] a[target=_blank][rel="noopener noreferrer"]').count();
    expect(links).toBeGreaterThanOrEqual(1);
    expect(await page.textContent('[data-testid=analyst-deals]')).toContain(realIndustry ? 'GPU cloud' : '200');
    await page.screenshot({ path: join(SHOTS, 'analyst.png'), fullPage: true });
    await page.context().close();
  }, 60_000);

  it('deals: the published deals, and a proposal valued and ranked among them', async () => {
    const page = await login('viewer', '#/deals');
    await page.waitForSelector('[data-testid=deals-table] tbody tr');
    await page.fill('[data-testid=proposal-form] input[name=usdPerKwMonth]', '160');
    await page.click('[data-testid=proposal-form] button[type=submit]');
    await page.waitForSelector('[data-testid=proposal-result]');
    expect(await page.textContent('[data-testid=proposal-result]')).toMatch(/Level rate [\d.,]+ USD\/kW-month: above \d+ of \d+/);
    await page.screenshot({ path: join(SHOTS, 'deals.png'), fullPage: true });
    await page.context().close();
  }, 60_000);

  it.skipIf(!canBacktest)('strategy: an operator runs a back-test from the browser, follows it and opens its result; then a plan', async () => {
    const page = await login('op', '#/strategy');
    await page.waitForSelector('[data-testid=backtest-form]');
    await page.selectOption('select[name=bt-site]', 'riot-style-miner.yaml');
    await page.fill('input[name=bt-from]', '2023-08-08');
    await page.fill('input[name=bt-to]', '2023-08-10');
    await page.uncheck('input[name=bt-policy-optimal]');
    await page.click('[data-testid=backtest-form] button[type=submit]');
    await page.waitForSelector('[data-testid=job-done]', { timeout: 90_000 });
    await page.click('text=Open result');
    await page.waitForSelector('[data-testid=job-result] td:text("strike")');
    expect(await page.textContent('[data-testid=job-result]')).toMatch(/USD/);
    await page.screenshot({ path: join(SHOTS, 'strategy.png'), fullPage: true });
    // A plan too: 100 paths of the example portfolio.
    await page.fill('input[name=plan-paths]', '100');
    await page.click('[data-testid=plan-form] button[type=submit]');
    await expect.poll(async () => page.locator('[data-testid=job-done]').count(), { timeout: 90_000 }).toBe(2);
    await page.context().close();
  }, 200_000);
});
