/**
 * Grid services on the agent API and the console API, through `app.request()` (no sockets): the
 * shared schemas at both ends, idempotent ids, recall, evidence as JSON and CSV; on the console, who
 * may deploy (operator, the `signals` machine role), who may set awards (operator), and the audit.
 */
import { describe, expect, it } from 'vitest';
import { AuthService, type Actor } from '../console/auth-service.js';
import { MemoryIdentityStore } from '../console/memory-store.js';
import { TEST_SCRYPT } from '../console/secrets.js';
import { awardReplySchema, deploymentReplySchema, evidenceRowSchema, gridStateSchema } from '../fleet/agent/grid.js';
import { fakeFleet } from '../fleet/agent/testing/fake-driver.js';
import { setup, T0 } from '../fleet/agent/testing/harness.js';
import { agentRoutes } from './agent-routes.js';
import { consoleApi } from './console/app.js';

const H = { host: '127.0.0.1:8420' };
const JSON_H = { ...H, 'content-type': 'application/json' };
const iso = (ms: number): string => new Date(ms).toISOString();

async function agentApp() {
  const { agent, clock } = await setup(fakeFleet(4));
  await agent.tick('start');
  const app = agentRoutes(agent, { grid: agent });
  const post = (path: string, body: unknown) => app.request(path, { method: 'POST', headers: JSON_H, body: JSON.stringify(body) });
  return { agent, clock, app, post };
}

describe('agent API: grid routes', () => {
  it('deploy 202 → same id 200 (duplicate) → other request under it 409; list, one, recall', async () => {
    const { app, post, agent } = await agentApp();
    const r = await post('/v1/grid/deployments', { id: 'ecrs-1', product: 'ECRS', mw: 0.005, holdMinutes: 30 });
    expect(r.status).toBe(202);
    const body = deploymentReplySchema.parse(await r.json());
    expect(body.deployment).toMatchObject({ id: 'ecrs-1', product: 'ECRS', mw: 0.005, state: 'scheduled', result: 'pending' });
    expect(body.deployment.deadlineMs - body.deployment.startMs).toBe(600_000);
    expect((await post('/v1/grid/deployments', { id: 'ecrs-1', product: 'ECRS', mw: 0.005, holdMinutes: 30 })).status).toBe(200);
    const conflict = await post('/v1/grid/deployments', { id: 'ecrs-1', product: 'ECRS', mw: 0.006 });
    expect(conflict.status).toBe(409);
    await agent.tick('signal');
    const list = gridStateSchema.parse(await (await app.request('/v1/grid/deployments', { headers: H })).json());
    expect(list.deployments.map((d) => [d.id, d.state])).toEqual([['ecrs-1', 'active']]);
    const one = await app.request('/v1/grid/deployments/ecrs-1', { headers: H });
    expect(((await one.json()) as { deployment: { evidence: unknown } }).deployment.evidence).toMatchObject({ id: 'ecrs-1', mwRequested: 0.005 });
    expect((await app.request('/v1/grid/deployments/nope', { headers: H })).status).toBe(404);
    const recall = await post('/v1/grid/deployments/ecrs-1/recall', {});
    expect(recall.status).toBe(202);
    expect(deploymentReplySchema.parse(await recall.json()).deployment.state).toBe('recalled');
    expect((await post('/v1/grid/deployments/ecrs-1/recall', {})).status).toBe(200);
  });

  it('refuses what the schema refuses, with where: unknown product, both hold and end, bad id', async () => {
    const { post } = await agentApp();
    const bad = await post('/v1/grid/deployments', { id: 'x', product: 'NonSpin', mw: 1 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_INPUT', where: 'product' } });
    expect(await (await post('/v1/grid/deployments', { id: 'x', product: 'NSPIN', mw: 1, holdMinutes: 5, endAt: iso(T0 + 600_000) })).json()).toMatchObject({ error: { where: 'endAt' } });
    expect(await (await post('/v1/grid/deployments', { id: 'x', product: 'NSPIN', mw: -1 })).json()).toMatchObject({ error: { where: 'mw' } });
    expect((await post('/v1/grid/deployments', { id: ' spaces ', product: 'NSPIN', mw: 1 })).status).toBe(400);
    expect((await post('/v1/grid/deployments', { id: 'x', product: 'NSPIN', mw: 1, extra: 1 })).status).toBe(400);
  });

  it('awards 201 / 200, evidence as JSON and CSV, filtered by start', async () => {
    const { app, post } = await agentApp();
    const a = await post('/v1/grid/awards', { id: 'aw-1', product: 'ECRS', mw: 0.007, from: iso(T0 - 1000), to: iso(T0 + 3_600_000) });
    expect(a.status).toBe(201);
    expect(awardReplySchema.parse(await a.json()).award).toMatchObject({ id: 'aw-1', mw: 0.007, source: 'http' });
    expect((await post('/v1/grid/awards', { id: 'aw-1', product: 'ECRS', mw: 0.007, from: iso(T0 - 1000), to: iso(T0 + 3_600_000) })).status).toBe(200);
    expect((await post('/v1/grid/awards', { id: 'aw-2', product: 'ECRS', mw: 1, from: iso(T0), to: iso(T0) })).status).toBe(400);
    await post('/v1/grid/deployments', { id: 'e1', product: 'ECRS', mw: 0.003, startAt: iso(T0 + 60_000) });
    await post('/v1/grid/deployments', { id: 'e2', product: 'ECRS', mw: 0.003, startAt: iso(T0 + 7_200_000) });
    const j = (await (await app.request(`/v1/grid/evidence?to=${encodeURIComponent(iso(T0 + 3_600_000))}`, { headers: H })).json()) as { rows: unknown[] };
    expect(j.rows.map((r) => evidenceRowSchema.parse(r).id)).toEqual(['e1']);
    const csv = await app.request('/v1/grid/evidence?format=csv', { headers: H });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toMatch(/^id,product,mwRequested,signalAt,startAt,deadlineAt,responseStartAt,secondsTo95,secondsToFull,mwDelivered,measuredBy,result,penaltyUsd/);
    expect(lines).toHaveLength(3);
    expect((await app.request('/v1/grid/evidence?format=xml', { headers: H })).status).toBe(400);
  });

  it('no grid routes unless the agent API is given the grid; a cross-site page cannot deploy', async () => {
    const { agent } = await setup(fakeFleet(1));
    expect((await agentRoutes(agent).request('/v1/grid/deployments', { headers: H })).status).toBe(404);
    const app = agentRoutes(agent, { grid: agent });
    const r = await app.request('/v1/grid/deployments', { method: 'POST', headers: { ...JSON_H, origin: 'https://evil.example' }, body: JSON.stringify({ id: 'x', product: 'ECRS', mw: 1 }) });
    expect(r.status).toBe(403);
    const form = await app.request('/v1/grid/deployments', { method: 'POST', headers: { ...H, 'content-type': 'text/plain' }, body: '{}' });
    expect(form.status).toBe(415);
  });
});

const CLI: Actor = { kind: 'cli', name: 'root' };
const PW = 'correct horse battery';

async function consoleWorld() {
  const { agent, clock } = await setup(fakeFleet(4));
  await agent.tick('start');
  const store = new MemoryIdentityStore();
  const auth = new AuthService({ store, clock, scrypt: TEST_SCRYPT });
  await auth.addUser(CLI, { name: 'op', password: PW, role: 'operator', site: 'test' });
  await auth.addUser(CLI, { name: 'view', password: PW, role: 'viewer', site: null });
  const { key: qseKey } = await auth.createKey(CLI, { name: 'qse', role: 'signals', site: 'test', expiresInMs: null });
  const app = consoleApi({ agent, grid: agent, auth, clock, secureCookies: false });
  const api = (path: string, init: RequestInit = {}) => app.request(path, { ...init, headers: { ...JSON_H, ...(init.headers as Record<string, string>) } });
  const login = async (name: string): Promise<string> => {
    const r = await api('/login', { method: 'POST', body: JSON.stringify({ name, password: PW }) });
    return (r.headers.get('set-cookie') ?? '').split(';')[0] as string;
  };
  return { agent, store, api, login, qse: { authorization: `Bearer ${qseKey}` } };
}

describe('console API: grid routes', () => {
  it('the signals key and an operator may deploy and recall; a viewer may read but not deploy; every write is audited', async () => {
    const { api, login, qse, store } = await consoleWorld();
    const body = JSON.stringify({ id: 'ecrs-c1', product: 'ECRS', mw: 0.004 });
    const r = await api('/grid/deployments', { method: 'POST', headers: qse, body });
    expect(r.status).toBe(202);
    expect(deploymentReplySchema.parse(await r.json()).deployment.source).toMatch(/^console:key:/);
    const view = await login('view');
    expect((await api('/grid/deployments', { method: 'POST', headers: { cookie: view }, body: JSON.stringify({ id: 'v1', product: 'ECRS', mw: 1 }) })).status).toBe(403);
    expect(gridStateSchema.parse(await (await api('/grid/deployments', { headers: { cookie: view } })).json()).deployments).toHaveLength(1);
    expect((await api('/grid/evidence?format=csv', { headers: qse })).status).toBe(200);
    const op = await login('op');
    expect((await api('/grid/deployments/ecrs-c1/recall', { method: 'POST', headers: { cookie: op }, body: '{}' })).status).toBe(202);
    const deploys = await store.audit({ action: 'grid.deploy' });
    expect(deploys.map((e) => [e.actorType, e.result, e.correlationId])).toEqual([
      ['user', 'denied', 'v1'],
      ['key', 'ok', 'ecrs-c1'],
    ]);
    expect((await store.audit({ action: 'grid.recall' }))[0]).toMatchObject({ actor: 'op', result: 'ok', target: 'ecrs-c1', scope: 'test' });
  });

  it('awards need an operator: the signals key is refused (403, audited)', async () => {
    const { api, login, qse, store } = await consoleWorld();
    const award = JSON.stringify({ id: 'aw-c', product: 'NSPIN', mw: 0.003, from: iso(T0), to: iso(T0 + 3_600_000) });
    expect((await api('/grid/awards', { method: 'POST', headers: qse, body: award })).status).toBe(403);
    const op = await login('op');
    expect((await api('/grid/awards', { method: 'POST', headers: { cookie: op }, body: award })).status).toBe(201);
    expect((await store.audit({ action: 'grid.award' })).map((e) => e.result)).toEqual(['ok', 'denied']);
  });

  it('the OpenAPI document lists the grid routes', async () => {
    const { api, login } = await consoleWorld();
    const doc = (await (await api('/openapi.json', { headers: { cookie: await login('view') } })).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.includes('/grid/')).sort()).toEqual(['/api/v1/grid/awards', '/api/v1/grid/deployments', '/api/v1/grid/deployments/{id}', '/api/v1/grid/deployments/{id}/recall', '/api/v1/grid/evidence']);
  });
});
