/**
 * The deals routes through `app.request()`: the published deals with implied rates, and a proposal
 * valued and ranked among them exactly as `mullet deals --propose-*` does; bad proposals are 400s
 * that name the parameter; strangers get 401.
 */
import { describe, expect, it } from 'vitest';
import { AuthService, type Actor } from '../../console/auth-service.js';
import { MemoryIdentityStore } from '../../console/memory-store.js';
import { TEST_SCRYPT } from '../../console/secrets.js';
import { loadDeals } from '../../catalog/load.js';
import { fakeFleet } from '../../fleet/agent/testing/fake-driver.js';
import { setup } from '../../fleet/agent/testing/harness.js';
import { DEFAULT_CONVERSION, evaluateProposal } from '../../planner/proposal.js';
import { consoleApi } from './app.js';
import { dealsReplySchema, proposalReplySchema } from './deals-routes.js';

const CLI: Actor = { kind: 'cli', name: 'root' };
const PW = 'correct horse battery';
const H = { host: '127.0.0.1:8420', 'content-type': 'application/json' };

async function world() {
  const { agent, clock } = await setup(fakeFleet(1));
  const auth = new AuthService({ store: new MemoryIdentityStore(), clock, scrypt: TEST_SCRYPT });
  await auth.addUser(CLI, { name: 'view', password: PW, role: 'viewer', site: null });
  const app = consoleApi({ agent, auth, clock, secureCookies: false });
  const r = await app.request('/login', { method: 'POST', headers: H, body: JSON.stringify({ name: 'view', password: PW }) });
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return { app, get: (path: string) => app.request(path, { headers: { ...H, cookie } }) };
}

describe('deals routes', () => {
  it('lists the published deals with their implied rates', async () => {
    const { get } = await world();
    const r = dealsReplySchema.parse(await (await get('/deals')).json());
    const { deals } = await loadDeals();
    expect(r.deals).toHaveLength(deals.length);
    expect(r.deals.every((d) => d.usdPerKwMonth > 0 && d.source.length > 0)).toBe(true);
  });

  it('values and ranks a proposal as the CLI does', async () => {
    const { get } = await world();
    const res = await get('/deals/proposal?itMW=150&termYears=10&usdPerKwMonth=140&escalatorPct=3');
    expect(res.status).toBe(200);
    const r = proposalReplySchema.parse(await res.json());
    const { deals } = await loadDeals();
    const cli = evaluateProposal({ kind: 'lease', itMW: 150, termYears: 10, usdPerKwMonth: 140, escalatorPct: 3, prepayPct: 0, discountRatePct: 10, conversion: { ...DEFAULT_CONVERSION, source: 'request' }, tenant: null, backstop: null }, deals);
    expect(r.levelUsdPerKwMonth).toBeCloseTo(cli.levelUsdPerKwMonth, 9);
    expect(r.comparison).toMatchObject({ peers: cli.comparison.peers, peersBelow: cli.comparison.peersBelow });
    expect(r.comparison.peers).toBeGreaterThan(0);
    expect(r.firstYearUsdPerKwMonth).toBe(140);
  });

  it('refuses a proposal with both or neither of the value and the rate, or out of range, naming the parameter', async () => {
    const { get } = await world();
    const both = await get('/deals/proposal?itMW=150&termYears=10&usdPerKwMonth=140&totalValueUsd=1e9');
    expect(both.status).toBe(400);
    expect(JSON.stringify(await both.json())).toMatch(/exactly one of totalValueUsd or usdPerKwMonth/);
    const big = await get('/deals/proposal?itMW=1e9&termYears=10&usdPerKwMonth=140');
    expect(big.status).toBe(400);
    expect(JSON.stringify(await big.json())).toMatch(/itMW/);
  });

  it('answers 401 without a credential', async () => {
    const { app } = await world();
    expect((await app.request('/deals', { headers: H })).status).toBe(401);
  });
});
