/**
 * Alerts through the console API (`app.request()`, no sockets) over a real agent on fake miners:
 * a miner going dark fires one alert, delivered by a signed webhook; viewers read the history and
 * rules; only an admin's session replaces the rules, audited; a removed rule resolves its alerts.
 */
import { describe, expect, it } from 'vitest';
import { alertRulesSchema } from '../../alerts/config.js';
import { AlertService } from '../../alerts/service.js';
import { MemoryAlertStore } from '../../alerts/store.js';
import { alertNotificationSchema } from '../../alerts/notification.js';
import { verifyWebhookSignature } from '../../alerts/webhook.js';
import { AuthService, type Actor } from '../../console/auth-service.js';
import { MemoryIdentityStore } from '../../console/memory-store.js';
import { TEST_SCRYPT } from '../../console/secrets.js';
import { fake, fakeFleet } from '../../fleet/agent/testing/fake-driver.js';
import { setup } from '../../fleet/agent/testing/harness.js';
import type { HttpRequest } from '../../net/http-client.js';
import { consoleApi } from './app.js';

const CLI: Actor = { kind: 'cli', name: 'root' };
const PW = 'correct horse battery';
const JSON_H = { host: '127.0.0.1:8420', 'content-type': 'application/json' };
const SECRET = 'a-webhook-secret-for-tests';

async function world(rules: unknown[]) {
  const miners = fakeFleet(4);
  const { agent, clock } = await setup(miners);
  await agent.tick('start');
  const auth = new AuthService({ store: new MemoryIdentityStore(), clock, scrypt: TEST_SCRYPT });
  for (const [name, role] of [['admin', 'admin'], ['op', 'operator'], ['view', 'viewer']] as const) await auth.addUser(CLI, { name, password: PW, role, site: null });
  const sent: HttpRequest[] = [];
  const store = new MemoryAlertStore();
  const alerts = await AlertService.create({
    site: 'test',
    rules: alertRulesSchema.parse(rules),
    store,
    clock,
    wall: clock,
    channels: { webhook: { cfg: { url: 'http://127.0.0.1:9/hook', secretEnv: 'X', timeoutMs: 1000, retries: 0, backoffMs: 10, minSeverity: 'info' }, secret: SECRET } },
    webhookDeps: { transport: { send: (req) => (sent.push(req), Promise.resolve({ status: 204, headers: {}, body: new Uint8Array() })) } },
  });
  alerts.attach(agent);
  const app = consoleApi({ agent, auth, clock, secureCookies: false, alerts });
  const api = (path: string, init: RequestInit = {}) => app.request(path, { ...init, headers: { ...JSON_H, ...(init.headers as Record<string, string>) } });
  const login = async (name: string): Promise<string> => ((await api('/login', { method: 'POST', body: JSON.stringify({ name, password: PW }) })).headers.get('set-cookie') ?? '').split(';')[0] as string;
  return { agent, clock, miners, alerts, store, auth, api, login, sent };
}

describe('alerts in the console API', () => {
  it('a miner going dark fires one alert, delivered by a signed webhook; viewers read it, filtered', async () => {
    const w = await world([{ id: 'offline', kind: 'miner-offline', severity: 'critical' }]);
    fake(w.miners[1] as never).o.unreachable = true;
    for (let i = 0; i < 3; i++) {
      w.clock.advance(10_000);
      await w.agent.tick('timer');
    }
    await w.alerts.idle();
    const view = { cookie: await w.login('view') };
    const r = await w.api('/alerts', { headers: view });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { alerts: { ruleId: string; state: string; detail: string; deliveries: { ok: boolean }[] }[]; active: number };
    expect(body.active).toBe(1);
    expect(body.alerts).toHaveLength(1); // de-duplicated over three ticks
    expect(body.alerts[0]).toMatchObject({ ruleId: 'offline', state: 'active', detail: '1 of 4 miners unreachable', deliveries: [{ ok: true }] });
    expect(w.sent).toHaveLength(1);
    const req = w.sent[0] as HttpRequest;
    expect(alertNotificationSchema.parse(JSON.parse(req.body as string))).toMatchObject({ event: 'fired', site: 'test', alert: { severity: 'critical' } });
    expect(verifyWebhookSignature(SECRET, { timestamp: req.headers['x-mullet-timestamp'] ?? null, signature: req.headers['x-mullet-signature'] ?? null, body: req.body as string, nowMs: w.clock.nowMs() })).toBe(true);
    expect(((await (await w.api('/alerts?severity=warning', { headers: view })).json()) as { alerts: unknown[] }).alerts).toHaveLength(0);
    expect((await w.api('/alerts?limit=0', { headers: view })).status).toBe(400);
    // Back online: resolved, and the resolution is delivered too.
    fake(w.miners[1] as never).o.unreachable = false;
    w.clock.advance(10_000);
    await w.agent.tick('timer');
    await w.alerts.idle();
    expect(((await (await w.api('/alerts?state=resolved', { headers: view })).json()) as { alerts: unknown[] }).alerts).toHaveLength(1);
    expect(w.sent.map((s) => (JSON.parse(s.body as string) as { event: string }).event)).toEqual(['fired', 'resolved']);
  });

  it('rules: viewers read, only an admin session replaces them (audited); a removed rule resolves its alert', async () => {
    const w = await world([{ id: 'offline', kind: 'miner-offline' }]);
    fake(w.miners[0] as never).o.unreachable = true;
    w.clock.advance(10_000);
    await w.agent.tick('timer');
    await w.alerts.idle();
    const view = { cookie: await w.login('view') };
    const op = { cookie: await w.login('op') };
    const admin = { cookie: await w.login('admin') };
    const got = (await (await w.api('/alert-rules', { headers: view })).json()) as { rules: { id: string }[]; source: string };
    expect(got).toMatchObject({ source: 'config', rules: [{ id: 'offline' }] });
    const put = (h: Record<string, string>, rules: unknown) => w.api('/alert-rules', { method: 'PUT', headers: h, body: JSON.stringify({ rules }) });
    const next = [{ id: 'safe', kind: 'safe-mode', maintenance: [{ daily: { start: '02:00', end: '04:00' } }] }];
    expect((await put(view, next)).status).toBe(403);
    expect((await put(op, next)).status).toBe(403);
    const bad = await put(admin, [{ id: 'x', kind: 'hashrate-drop', dropPct: 250 }]);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_INPUT', where: 'rules.0.dropPct' } });
    const key = await w.auth.createKey(CLI, { name: 'auto', role: 'admin', site: null, expiresInMs: null });
    expect((await put({ authorization: `Bearer ${key.key}` }, next)).status).toBe(403); // a key cannot change config
    const ok = await put(admin, next);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ source: 'console', updatedBy: 'admin', rules: [{ id: 'safe', kind: 'safe-mode' }] });
    const audit = await w.auth.store.audit({ action: 'alerts.rules.replace' });
    expect(audit.map((e) => [e.actor, e.result])).toEqual([
      ['admin', 'ok'],
      [`key:${key.row.id}`, 'denied'],
      ['admin', 'failed'],
      ['op', 'denied'],
      ['view', 'denied'],
    ]);
    const hist = (await (await w.api('/alerts', { headers: view })).json()) as { alerts: { state: string }[]; active: number };
    expect(hist).toMatchObject({ active: 0, alerts: [{ state: 'resolved' }] });
    // Kept: a new service over the same store runs the console's rules.
    const again = await AlertService.create({ site: 'test', store: w.store, clock: w.clock, channels: {} });
    expect(again.rules()).toMatchObject({ source: 'console', rules: [{ id: 'safe' }] });
  });

  it('a maintenance window records the alert and holds the webhook back', async () => {
    const w = await world([{ id: 'offline', kind: 'miner-offline', maintenance: [{ from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' }] }]);
    fake(w.miners[2] as never).o.unreachable = true;
    w.clock.advance(10_000);
    await w.agent.tick('timer');
    await w.alerts.idle();
    const hist = (await (await w.api('/alerts', { headers: { cookie: await w.login('view') } })).json()) as { alerts: { suppressed: boolean; deliveries: unknown[] }[] };
    expect(hist.alerts).toMatchObject([{ suppressed: true, deliveries: [] }]);
    expect(w.sent).toHaveLength(0);
  });
});
