/**
 * `mullet ops` with the operator console on its listener: every path but health and login needs a
 * session or key (the ops routes and /metrics included), viewers read the ops figures, and the
 * market route draws prices against each fleet's break-even.
 */
import { describe, expect, it } from 'vitest';
import { TEST_SCRYPT } from '../console/secrets.js';
import { ledgerSummarySchema, opsMarketSchema, opsStatusSchema } from '../ops/api.js';
import { REPO_ROOT } from '../testing/data.js';
import { startOps } from './ops.js';
import { parseOpsConfig } from './ops-config.js';
import { startAlerts } from './alerts.js';

const PW = 'correct horse battery';

describe('mullet ops with the console', () => {
  it('serves the console: 401 without a login (ops routes and /metrics too), ops figures for a viewer', async () => {
    const ops = await startOps({ configFile: 'examples/ops-demo.yaml', cwd: REPO_ROOT, listen: '127.0.0.1:0', consoleDb: ':memory:', consoleScrypt: TEST_SCRYPT });
    try {
      expect(ops.console).not.toBeNull();
      const u = ops.url;
      for (const p of ['/v1/ops', '/v1/ops/ledger', '/metrics', '/v1/status', '/api/v1/ops/market', '/anything']) expect((await fetch(u + p)).status, p).toBe(401);
      expect((await fetch(`${u}/api/v1/health`)).status).toBe(200);
      await ops.console?.auth.addUser({ kind: 'cli', name: 'test' }, { name: 'ann', password: PW, role: 'viewer', site: null });
      const login = await fetch(`${u}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ann', password: PW }) });
      expect(login.status).toBe(200);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const get = (p: string) => fetch(u + p, { headers: { cookie } });
      const status = opsStatusSchema.parse(await (await get('/v1/ops')).json());
      expect(status.mode).toBe('replay');
      ledgerSummarySchema.parse(await (await get('/api/v1/ops/ledger')).json());
      const market = opsMarketSchema.parse(await (await get('/api/v1/ops/market')).json());
      expect(market.fleets.length).toBeGreaterThan(0);
      expect(market.points.length).toBeGreaterThan(0);
      // Break-even at each interval's hashprice: a positive USD/MWh for every fleet.
      expect(market.points.every((p) => p.breakEvenUsdPerMWh.every((v) => v !== null && v > 0))).toBe(true);
      const metrics = await get('/metrics');
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/# HELP mullet_ops_usd_per_hour /);
      expect((await get('/anything')).status).toBe(404);
      const curtail = await fetch(`${u}/api/v1/curtail`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{"all":true,"id":"viewer-try"}' });
      expect(curtail.status).toBe(403);
      // With a console and no alerts: block, the default rules run (one of each kind), recorded for the console.
      expect(ops.alerts).not.toBeNull();
      const rules = (await (await get('/api/v1/alert-rules')).json()) as { rules: { kind: string }[]; source: string };
      expect(rules.source).toBe('config');
      expect(rules.rules).toHaveLength(8);
      expect((await get('/api/v1/alerts')).status).toBe(200);
      const doc = (await (await get('/api/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).toContain('/api/v1/ops/market');
    } finally {
      await ops.close();
    }
  }, 120_000);

  it('alerts: in ops.yaml is validated with located errors; a named secret must be in the environment', async () => {
    const head = 'site: site.yaml\nmarket: { replay: { from: 2025-08-04, to: 2025-08-04 } }\nfleet: { simulator: {} }\n';
    const bad = head + 'alerts:\n  rules:\n    - { id: hr, kind: hashrate-drop, dropPct: 0 }\n  webhook: { url: ftp://x, secretEnv: lower }\n';
    let msg = '';
    try {
      parseOpsConfig(bad, '/tmp/ops.yaml');
    } catch (e) {
      msg = `${(e as Error).message} @ ${(e as { where?: string }).where ?? ''}`;
    }
    expect(msg).toMatch(/alerts\.rules\[0\]\.dropPct/);
    expect(msg).toMatch(/alerts\.webhook\.url: must be an http\(s\) URL/);
    expect(msg).toMatch(/alerts\.webhook\.secretEnv/);
    expect(msg).toMatch(/ops\.yaml:6/);
    const good = parseOpsConfig(head + 'alerts:\n  webhook: { url: "http://127.0.0.1:9/h", secretEnv: HOOK_SECRET }\n', '/tmp/ops.yaml');
    const setup = { cfg: good.alerts, where: '/tmp/ops.yaml', site: 's', consoleDb: null, clock: { nowMs: () => 0 }, log: () => undefined };
    await expect(startAlerts({ ...setup, env: {} })).rejects.toThrow(/HOOK_SECRET \(alerts\.webhook\.secretEnv\) must hold/);
    const a = await startAlerts({ ...setup, env: { HOOK_SECRET: 'a-long-enough-secret' } });
    expect(a?.service.rules().rules).toHaveLength(8);
    await a?.close();
  });
});
