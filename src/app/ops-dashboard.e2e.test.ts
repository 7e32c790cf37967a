/**
 * The dashboard on `mullet ops` in a real browser (Debian's Chromium, playwright-core): the demo day
 * replayed at 1,800× the wall clock behind the console; a viewer logs in and sees the RT / DA price
 * against each fleet's break-even (time axis in UTC) and what the site earned today by stream.
 * Screenshot: out/screenshots/ops-site.png. Skipped when Chromium or the built dashboard is missing.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SCRYPT } from '../console/secrets.js';
import { dashboardBuilt } from '../server/console/dashboard.js';
import { REPO_ROOT } from '../testing/data.js';
import { startOps, type RunningOps } from './ops.js';

const CHROMIUM = '/usr/bin/chromium';
const PW = 'correct horse battery';
const SHOTS = process.env.MULLET_SCREENSHOTS ?? join(REPO_ROOT, 'out', 'screenshots');
const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} missing (apt-get install -y chromium)` : !dashboardBuilt() ? 'dashboard not built (npm run build:web)' : null;

describe.skipIf(missing !== null)(`mullet ops dashboard in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  let ops: RunningOps;
  let browser: Browser;
  const stop = new AbortController();
  let done: Promise<unknown>;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ops = await startOps({ configFile: 'examples/ops-demo.yaml', cwd: REPO_ROOT, listen: '127.0.0.1:0', speed: 1800, consoleDb: ':memory:', consoleScrypt: TEST_SCRYPT });
    await ops.console?.auth.addUser({ kind: 'cli', name: 'e2e' }, { name: 'viewer', password: PW, role: 'viewer', site: null });
    done = ops.run(stop.signal).catch(() => undefined);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    stop.abort();
    await done;
    await ops?.close();
  }, 60_000);

  it('viewer: price against break-even (UTC axis) and earned today by stream', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(ops.url);
    await page.fill('input[name=name]', 'viewer');
    await page.fill('input[name=password]', PW);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=who]');
    await expect.poll(async () => page.textContent('[data-testid=price-now]'), { timeout: 30_000 }).toMatch(/^RT \d+\.\d\d USD\/MWh for \d\d-\d\d \d\d:\d\d UTC/);
    await expect.poll(async () => page.textContent('[data-testid=earned]'), { timeout: 30_000 }).toMatch(/mining.*net/s);
    expect(await page.textContent('[data-testid=banner]')).toContain('feeds fresh');
    await page.screenshot({ path: join(SHOTS, 'ops-site.png'), fullPage: true });
    await ctx.close();
  }, 90_000);
});
