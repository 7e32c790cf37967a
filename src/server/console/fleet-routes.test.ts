/**
 * Fleet health routes through `app.request()`: viewers read every miner and one miner; the curtail
 * preview is an operator's, lists the least efficient machines first, and sends nothing.
 */
import { describe, expect, it } from 'vitest';
import { AuthService, type Actor } from '../../console/auth-service.js';
import { MemoryIdentityStore } from '../../console/memory-store.js';
import { TEST_SCRYPT } from '../../console/secrets.js';
import { curtailPreviewSchema, fleetViewSchema, minerRowSchema } from '../../fleet/agent/api.js';
import { rackOf } from '../../fleet/agent/fleet-view.js';
import { fake, fakeFleet } from '../../fleet/agent/testing/fake-driver.js';
import { setup } from '../../fleet/agent/testing/harness.js';
import { consoleApi } from './app.js';

const CLI: Actor = { kind: 'cli', name: 'root' };
const PW = 'correct horse battery';
const H = { host: '127.0.0.1:8420', 'content-type': 'application/json' };

async function world() {
  // Four efficient miners (17.5 J/TH) and two hungry ones (35 J/TH): a curtail takes the hungry first.
  const miners = [...fakeFleet(4), ...fakeFleet(2, { ratedHashrateThs: 100 }, 'x').map((m, i) => ({ ...m, host: `10.0.1.${i}` }))];
  const { agent, clock } = await setup(miners);
  await agent.tick('start');
  const store = new MemoryIdentityStore();
  const auth = new AuthService({ store, clock, scrypt: TEST_SCRYPT });
  await auth.addUser(CLI, { name: 'op', password: PW, role: 'operator', site: 'test' });
  await auth.addUser(CLI, { name: 'view', password: PW, role: 'viewer', site: null });
  const app = consoleApi({ agent, auth, clock, secureCookies: false });
  const login = async (name: string): Promise<string> => {
    const r = await app.request('/login', { method: 'POST', headers: H, body: JSON.stringify({ name, password: PW }) });
    return (r.headers.get('set-cookie') ?? '').split(';')[0] as string;
  };
  const get = async (path: string, who: string) => app.request(path, { headers: { ...H, cookie: await login(who) } });
  return { miners, store, get };
}

describe('fleet routes', () => {
  it('viewers read every miner (model, rack, state, temperatures, last command) and one miner', async () => {
    const { get } = await world();
    const r = await get('/fleet', 'view');
    expect(r.status).toBe(200);
    const f = fleetViewSchema.parse(await r.json());
    expect(f.site).toBe('test');
    expect(f.miners).toHaveLength(6);
    expect(f.miners.map((m) => m.rack)).toEqual(['10.0.0', '10.0.0', '10.0.0', '10.0.0', '10.0.1', '10.0.1']);
    expect(f.miners[0]).toMatchObject({ id: 'm000', state: 'mining', ratedPowerW: 3500, efficiencyJPerTh: 17.5, tempsC: [], lastCommand: null, hashboards: null, pool: null });
    const one = await get('/fleet/miners/x001', 'view');
    expect(one.status).toBe(200);
    expect(minerRowSchema.parse(((await one.json()) as { miner: unknown }).miner)).toMatchObject({ id: 'x001', host: '10.0.1.1', efficiencyJPerTh: 35 });
    expect((await get('/fleet/miners/nope', 'view')).status).toBe(404);
    // The fake driver reads no hashboards or pools: 501, and an unknown miner 404.
    expect((await get('/fleet/miners/x001/health', 'view')).status).toBe(501);
    expect((await get('/fleet/miners/nope/health', 'view')).status).toBe(404);
    expect((await get('/fleet', 'nobody-logged-in')).status).toBe(401);
  }, 20_000);

  it('the curtail preview is an operator’s, takes the least efficient first, and sends and records nothing', async () => {
    const { get, miners, store } = await world();
    expect((await get('/fleet/curtail-preview?mw=0.007', 'view')).status).toBe(403);
    const r = await get('/fleet/curtail-preview?mw=0.006', 'op');
    expect(r.status).toBe(200);
    const p = curtailPreviewSchema.parse(await r.json());
    expect(p.baselineMW).toBeCloseTo(0.021, 9);
    expect(p.capMW).toBeCloseTo(0.015, 9);
    expect(p.miners.map((m) => m.id).sort()).toEqual(['x000', 'x001']);
    expect(p.shedMW).toBeGreaterThanOrEqual(0.006);
    const all = curtailPreviewSchema.parse(await (await get('/fleet/curtail-preview?all=true', 'op')).json());
    expect(all.miners).toHaveLength(6);
    expect(all.capMW).toBe(0);
    expect((await get('/fleet/curtail-preview?mw=1&pct=5', 'op')).status).toBe(400);
    expect((await get('/fleet/curtail-preview?pct=101', 'op')).status).toBe(400);
    expect(miners.reduce((a, m) => a + fake(m).writes, 0)).toBe(0);
    expect((await store.audit({})).filter((e) => e.action.startsWith('fleet'))).toHaveLength(0);
  }, 20_000);

  it('a small curtail on power-targetable miners previews a power target on the marginal machine; after a real curtail, the fleet shows the last commands', async () => {
    const { agent, clock } = await setup(fakeFleet(3, { range: { minW: 2000, maxW: 3500 } }));
    await agent.tick('start');
    const p = agent.previewCurtail({ kind: 'curtail', mw: 0.001 });
    expect(p.miners).toHaveLength(1);
    expect(p.miners[0]).toMatchObject({ kind: 'target', fromW: 3500 });
    expect(p.miners[0]?.targetW).toBeLessThanOrEqual(2500);
    expect(p.shedMW).toBeGreaterThanOrEqual(0.001 - 1e-9);
    await agent.receiveSignal({ kind: 'curtail', all: true }, 'all-1', 'test');
    await agent.tick('signal');
    clock.advance(1_000);
    const f = agent.fleetView();
    expect(f.miners.every((m) => m.lastCommand?.kind === 'sleep')).toBe(true);
    expect(f.miners[0]?.lastCommand).toMatchObject({ kind: 'sleep', attempts: 1, why: 'signal' });
    // Everything is asleep: a further curtail takes nothing more.
    const again = agent.previewCurtail({ kind: 'curtail', pct: 50 });
    expect(again.miners).toHaveLength(0);
    expect(again.alreadyCurtailed).toBe(3);
  }, 20_000);

  it('racks come from the host: the /24 subnet, else the name before its number', () => {
    expect(rackOf('10.20.3.17')).toBe('10.20.3');
    expect(rackOf('rack7-m12.site.local')).toBe('rack7');
    expect(rackOf('miner')).toBe('miner');
  });
});
