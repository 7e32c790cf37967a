/**
 * Strategy routes through `app.request()` with a runner the test drives: operators start jobs
 * (one at a time), everyone who reads follows them and opens the result, inputs are validated and
 * files are named from the server's list only; the CLI's progress lines become the job's progress;
 * the child runner reports a failing CLI run as a failed job with its message.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { AuthService, type Actor } from '../../console/auth-service.js';
import { MemoryIdentityStore } from '../../console/memory-store.js';
import { TEST_SCRYPT } from '../../console/secrets.js';
import { fakeFleet } from '../../fleet/agent/testing/fake-driver.js';
import { setup } from '../../fleet/agent/testing/harness.js';
import { CLI_ENTRY, childRunner, jobArgs } from '../../strategy/child-runner.js';
import { StrategyInputs } from '../../strategy/inputs.js';
import { StrategyJobs, type RunHooks, type RunOutput } from '../../strategy/jobs.js';
import { ProgressReader } from '../../strategy/progress.js';
import { jobViewSchema, type JobSpec } from '../../strategy/spec.js';
import { REPO_ROOT } from '../../testing/data.js';
import { consoleApi } from './app.js';

const CLI: Actor = { kind: 'cli', name: 'root' };
const PW = 'correct horse battery';
const H = { host: '127.0.0.1:8420', 'content-type': 'application/json' };
const EXAMPLES = join(REPO_ROOT, 'examples');

/** A runner whose runs the test finishes by hand. */
function manualRunner() {
  const runs: { spec: JobSpec; hooks: RunHooks; finish: (o: RunOutput) => void; fail: (e: Error) => void }[] = [];
  const runner = (spec: JobSpec, hooks: RunHooks) =>
    new Promise<RunOutput>((resolve, reject) => {
      runs.push({ spec, hooks, finish: resolve, fail: reject });
      hooks.signal.addEventListener('abort', () => reject(new Error('killed')));
    });
  return { runs, runner };
}

async function world() {
  const { agent, clock } = await setup(fakeFleet(1));
  const store = new MemoryIdentityStore();
  const auth = new AuthService({ store, clock, scrypt: TEST_SCRYPT });
  await auth.addUser(CLI, { name: 'op', password: PW, role: 'operator', site: null });
  await auth.addUser(CLI, { name: 'view', password: PW, role: 'viewer', site: null });
  const m = manualRunner();
  const jobs = new StrategyJobs({ runner: m.runner, clock });
  const app = consoleApi({ agent, auth, clock, secureCookies: false, strategy: { jobs, inputs: StrategyInputs.scan(EXAMPLES) } });
  const cookies = new Map<string, string>();
  const req = async (method: string, path: string, who: string, body?: unknown) => {
    if (!cookies.has(who)) {
      const r = await app.request('/login', { method: 'POST', headers: H, body: JSON.stringify({ name: who, password: PW }) });
      cookies.set(who, (r.headers.get('set-cookie') ?? '').split(';')[0] as string);
    }
    return app.request(path, { method, headers: { ...H, cookie: cookies.get(who) as string }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  };
  return { req, jobs, store, ...m };
}

const BT = { kind: 'backtest', site: 'riot-style-miner.yaml', from: '2023-08-01', to: '2023-08-03', policies: ['strike', 'optimal'] };

describe('strategy routes', () => {
  it('lists the site and portfolio files of the server; an operator starts a back-test, one at a time; readers follow it and open the result', async () => {
    const { req, runs, jobs, store } = await world();
    const inputs = (await (await req('GET', '/strategy/inputs', 'view')).json()) as { sites: { file: string }[]; portfolios: { file: string }[] };
    expect(inputs.sites.map((s) => s.file)).toContain('riot-style-miner.yaml');
    expect(inputs.portfolios.map((s) => s.file)).toEqual(['portfolio-two-texas-sites.yaml']);

    expect((await req('POST', '/strategy/jobs', 'view', BT)).status).toBe(403);
    const r = await req('POST', '/strategy/jobs', 'op', BT);
    expect(r.status).toBe(202);
    const job = jobViewSchema.parse(await r.json());
    expect(job).toMatchObject({ kind: 'backtest', state: 'running', submittedBy: 'op' });
    expect(runs[0]?.spec).toEqual({ ...BT, asPrices: 'store' });
    expect((await req('POST', '/strategy/jobs', 'op', BT)).status).toBe(409);

    runs[0]?.hooks.progress(42, 'strike: 40% (4/10)');
    expect(jobViewSchema.parse(await (await req('GET', `/strategy/jobs/${job.id}`, 'view')).json())).toMatchObject({ progressPct: 42, message: 'strike: 40% (4/10)' });
    expect((await req('GET', `/strategy/jobs/${job.id}/result`, 'view')).status).toBe(404);
    runs[0]?.finish({ result: { site: 'Riot-style', netUsd: 123 }, reportHtml: '<html>report</html>' });
    expect((await jobs.settled(job.id)).state).toBe('done');
    expect(await (await req('GET', `/strategy/jobs/${job.id}/result`, 'view')).json()).toEqual({ site: 'Riot-style', netUsd: 123 });
    const rep = await req('GET', `/strategy/jobs/${job.id}/report`, 'view');
    expect(rep.headers.get('content-disposition')).toMatch(/^attachment; filename="mullet-/);
    expect(await rep.text()).toBe('<html>report</html>');
    const list = (await (await req('GET', '/strategy/jobs', 'view')).json()) as { jobs: unknown[] };
    expect(list.jobs).toHaveLength(1);
    const audit = await store.audit({ action: 'strategy.start' });
    expect(audit.map((e) => [e.actor, e.result, e.status])).toEqual([
      ['op', 'failed', 409],
      ['op', 'ok', 202],
      ['view', 'denied', 403],
    ]);
    expect(audit[1]?.correlationId).toBe(job.id);
  }, 20_000);

  it('validates inputs: the window, the policies, files only from the list; cancel kills a running job', async () => {
    const { req, runs, jobs } = await world();
    const bad = async (body: unknown) => {
      const r = await req('POST', '/strategy/jobs', 'op', body);
      return [r.status, ((await r.json()) as { error: { message: string } }).error.message];
    };
    expect(await bad({ ...BT, to: '2024-12-31' })).toEqual([400, 'body: a console back-test covers at most 366 days (run longer ones with the CLI)']);
    expect(await bad({ ...BT, to: '2023-07-01' })).toEqual([400, 'body: must not be before from']);
    expect((await bad({ ...BT, policies: ['strike', 'strike'] }))[0]).toBe(400);
    expect((await bad({ ...BT, policies: ['yolo'] }))[0]).toBe(400);
    expect((await bad({ ...BT, site: '../../etc/passwd.yaml' }))[0]).toBe(400);
    expect(await bad({ ...BT, site: 'nope.yaml' })).toEqual([404, "no site file 'nope.yaml' on this server (see GET /api/v1/strategy/inputs)"]);
    expect((await bad({ ...BT, site: 'portfolio-two-texas-sites.yaml' }))[0]).toBe(404);
    expect((await bad({ kind: 'plan', portfolio: 'portfolio-two-texas-sites.yaml', paths: 10 }))[0]).toBe(400);
    expect(runs).toHaveLength(0);
    const r = await req('POST', '/strategy/jobs', 'op', { kind: 'plan', portfolio: 'portfolio-two-texas-sites.yaml', paths: 500 });
    const id = jobViewSchema.parse(await r.json()).id;
    expect((await req('DELETE', `/strategy/jobs/${id}`, 'view')).status).toBe(403);
    expect(jobViewSchema.parse(await (await req('DELETE', `/strategy/jobs/${id}`, 'op')).json()).state).toBe('cancelled');
    expect((await jobs.settled(id)).state).toBe('cancelled');
    expect(runs[0]?.hooks.signal.aborted).toBe(true);
    expect((await req('GET', '/strategy/jobs/not-a-uuid', 'view')).status).toBe(400);
  }, 20_000);

  it('without strategy deps: 503 that says how to enable them', async () => {
    const { agent, clock } = await setup(fakeFleet(1));
    const auth = new AuthService({ store: new MemoryIdentityStore(), clock, scrypt: TEST_SCRYPT });
    await auth.addUser(CLI, { name: 'op', password: PW, role: 'operator', site: null });
    const app = consoleApi({ agent, auth, clock, secureCookies: false });
    const login = await app.request('/login', { method: 'POST', headers: H, body: JSON.stringify({ name: 'op', password: PW }) });
    const r = await app.request('/strategy/inputs', { headers: { ...H, cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] as string } });
    expect(r.status).toBe(503);
  }, 20_000);
});

describe('strategy runner', () => {
  it("reads the CLI's progress lines into one percentage over the steps", () => {
    const p = new ProgressReader(2);
    expect(p.line('strike: 0% (0/1)')).toBe(true);
    expect(p.pct).toBe(0);
    p.line('strike: done in 0.4 s — net 1,234 USD');
    expect(p.pct).toBe(50);
    p.line('optimal: 50% (5/10)');
    expect(p.pct).toBe(75);
    expect(p.line('note: something else')).toBe(false);
    p.line('optimal: done in 3.0 s');
    expect(p.pct).toBe(100);
  });

  it('builds the same CLI arguments a user would type', () => {
    const inputs = StrategyInputs.scan(EXAMPLES);
    const bt = jobArgs({ kind: 'backtest', site: 'riot-style-miner.yaml', from: '2023-08-01', to: '2023-08-03', policies: ['strike', 'mining-only'], asPrices: 'synthetic' }, inputs, '/d/m.db', '/t/r.html');
    expect(bt.args).toEqual(['backtest', '--site', join(EXAMPLES, 'riot-style-miner.yaml'), '--from', '2023-08-01', '--to', '2023-08-03', '--policy', 'strike', '--compare', 'strike,mining-only', '--as-prices', 'synthetic', '--json', '--report', '/t/r.html', '--db', '/d/m.db']);
    expect(bt.steps).toBe(3); // optimal is added for regret
    expect(jobArgs({ kind: 'plan', portfolio: 'portfolio-two-texas-sites.yaml', paths: 500, seed: 1 }, inputs, '/d/m.db', '/t/r.html').args).toContain('--threads');
  });

  const dir = mkdtempSync(join(tmpdir(), 'mullet-strategy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it.skipIf(!existsSync(CLI_ENTRY))('a failing CLI run is a failed job carrying its message (real child process)', async () => {
    writeFileSync(join(dir, 'x.txt'), '');
    const jobs = new StrategyJobs({ runner: childRunner({ inputs: StrategyInputs.scan(EXAMPLES), dataDb: join(dir, 'missing.db') }), clock: { nowMs: () => 0 } });
    const job = jobs.submit({ kind: 'backtest', site: 'riot-style-miner.yaml', from: '2023-08-01', to: '2023-08-01', policies: ['strike'], asPrices: 'store' }, 'test');
    const done = await jobs.settled(job.id);
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/missing\.db/);
  }, 60_000);
});
