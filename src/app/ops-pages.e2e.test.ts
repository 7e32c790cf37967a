/**
 * `mullet ops` with a console serves the analyst and strategy pages as `mullet serve` does: the
 * industry figures of --data-db and the site / portfolio files of --strategy-dir answer under
 * /api/v1; `console.dataDb` / `console.strategyDir` in ops.yaml are resolved from the file and a
 * missing one is a located error before anything starts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_SCRYPT } from '../console/secrets.js';
import { parseIndustryCsv } from '../industry/parse.js';
import { SqliteIndustryStore } from '../industry/store.js';
import { industrySummarySchema } from '../industry/views.js';
import { REPO_ROOT } from '../testing/data.js';
import { parseOpsConfig } from './ops-config.js';
import { startOps } from './ops.js';
import { openPages } from './pages.js';

const PW = 'correct horse battery';
const METRICS = `company,ticker,period,metric,value,unit,as_of,source_url,source_kind,note
Acme Mining,ACME,2025Q3,ai_hpc_mw_committed,200,MW,2025-09-30,https://example.com/acme-q3,press_release,
`;
const dir = mkdtempSync(join(tmpdir(), 'mullet-ops-pages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function industryDb(): Promise<string> {
  const file = join(dir, 'market.db');
  const s = SqliteIndustryStore.open(file, 1_000);
  await s.importFile(parseIndustryCsv(METRICS, 'miner_metrics.csv'), 1_000);
  await s.close();
  return file;
}

const errorOf = async (p: Promise<unknown>): Promise<{ code?: string; where?: string; message: string }> => {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; where?: string; message: string };
  }
  throw new Error('expected a failure');
};

describe('mullet ops: the console pages', () => {
  it('answers /api/v1/industry/* and /api/v1/strategy/* from --data-db and --strategy-dir', async () => {
    const dataDb = await industryDb();
    const ops = await startOps({ configFile: 'examples/ops-demo.yaml', cwd: REPO_ROOT, listen: '127.0.0.1:0', consoleDb: ':memory:', consoleScrypt: TEST_SCRYPT, dataDb, strategyDir: join(REPO_ROOT, 'examples') });
    try {
      await ops.console?.auth.addUser({ kind: 'cli', name: 'test' }, { name: 'ann', password: PW, role: 'viewer', site: null });
      const login = await fetch(`${ops.url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ann', password: PW }) });
      expect(login.status).toBe(200);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const get = (p: string) => fetch(ops.url + p, { headers: { cookie } });
      expect((await fetch(`${ops.url}/api/v1/industry/summary`)).status).toBe(401);
      const sum = industrySummarySchema.parse(await (await get('/api/v1/industry/summary')).json());
      expect(sum.companies).toEqual(['Acme Mining']);
      const inputs = (await (await get('/api/v1/strategy/inputs')).json()) as { sites: { file: string }[]; portfolios: { file: string }[] };
      expect(inputs.sites.map((s) => s.file)).toContain('riot-style-miner.yaml');
      expect(inputs.portfolios.map((s) => s.file)).toEqual(['portfolio-two-texas-sites.yaml']);
      expect((await get('/api/v1/strategy/jobs')).status).toBe(200);
    } finally {
      await ops.close();
    }
  }, 120_000);

  it('console.dataDb / console.strategyDir: relative to ops.yaml, a missing one is a located error before the run starts; the flags need a console', async () => {
    const site = join(REPO_ROOT, 'examples', 'ops-demo-site.yaml');
    const head = `site: ${site}\nmarket: { replay: { from: 2025-08-04, to: 2025-08-04, data: synthetic } }\nfleet: { simulator: {} }\n`;
    const cfg = parseOpsConfig(head + 'console: { db: ":memory:", dataDb: market.db, strategyDir: ../jobs }\n', join(dir, 'ops.yaml'));
    expect(cfg.console).toMatchObject({ db: ':memory:', dataDb: join(dir, 'market.db'), strategyDir: join(dir, '..', 'jobs') });
    expect(() => parseOpsConfig(head + 'console: { datadb: x }\n', join(dir, 'ops.yaml'))).toThrow(/console\.datadb: unknown key/);

    const file = join(dir, 'ops-missing.yaml');
    writeFileSync(file, head + 'console: { db: ":memory:", dataDb: nowhere.db }\n');
    const e = await errorOf(startOps({ configFile: file, cwd: dir, listen: '127.0.0.1:0' }));
    expect(e).toMatchObject({ code: 'NOT_FOUND', where: `${file}: console.dataDb` });
    expect(e.message).toMatch(/nowhere\.db does not exist/);
    const e2 = await errorOf(startOps({ configFile: file, cwd: dir, listen: '127.0.0.1:0', dataDb: await industryDb(), strategyDir: 'no-such-dir' }));
    expect(e2).toMatchObject({ code: 'NOT_FOUND', where: '--strategy-dir' });
    const plain = join(dir, 'ops-plain.yaml');
    writeFileSync(plain, head);
    expect(await errorOf(startOps({ configFile: plain, cwd: dir, dataDb: 'x.db' }))).toMatchObject({ code: 'BAD_INPUT', where: '--data-db' });
  }, 60_000);

  it('without a given store: no pages, the default is used only when it exists', async () => {
    const lines: string[] = [];
    const none = openPages({ defaultDataDb: join(dir, 'absent.db'), defaultStrategyDir: 'examples', cwd: dir, where: { dataDb: '--data-db', strategyDir: '--strategy-dir' }, clock: { nowMs: () => 0 }, log: (l) => lines.push(l) });
    expect(none.deps).toEqual({});
    expect(lines.join('\n')).toMatch(/no market store/);
    await none.close();
    const some = openPages({ defaultDataDb: await industryDb(), defaultStrategyDir: join(REPO_ROOT, 'examples'), cwd: dir, where: { dataDb: '--data-db', strategyDir: '--strategy-dir' }, clock: { nowMs: () => 0 }, log: () => undefined });
    expect(some.deps.industry).toBeDefined();
    expect(some.deps.strategy?.inputs.list.length).toBeGreaterThan(0);
    await some.close();
    await some.close();
  });
});
