/**
 * The analyst routes through `app.request()`: readers get every figure with its source; no store
 * is a clear 503; the route table (and so the OpenAPI document) carries them.
 */
import { describe, expect, it } from 'vitest';
import { AuthService, type Actor } from '../../console/auth-service.js';
import { MemoryIdentityStore } from '../../console/memory-store.js';
import { TEST_SCRYPT } from '../../console/secrets.js';
import { fakeFleet } from '../../fleet/agent/testing/fake-driver.js';
import { setup } from '../../fleet/agent/testing/harness.js';
import { parseIndustryCsv } from '../../industry/parse.js';
import { SqliteIndustryStore } from '../../industry/store.js';
import { dealsReplySchema, factsReplySchema, industrySummarySchema, mwReplySchema, revenueMixReplySchema, valuePerMwReplySchema } from '../../industry/views.js';
import { consoleApi } from './app.js';

const CLI: Actor = { kind: 'cli', name: 'root' };
const PW = 'correct horse battery';
const H = { host: '127.0.0.1:8420', 'content-type': 'application/json' };

const METRICS = `company,ticker,period,metric,value,unit,as_of,source_url,source_kind,note
Acme Mining,ACME,2025Q3,revenue_bitcoin_mining_usd,80000000,USD,2025-09-30,https://example.com/acme-q3,press_release,
Acme Mining,ACME,2025Q3,revenue_ai_hpc_usd,20000000,USD,2025-09-30,https://example.com/acme-q3,press_release,
Acme Mining,ACME,2025Q3,ai_hpc_mw_committed,200,MW,2025-09-30,https://example.com/acme-q3,press_release,CRITICAL IT
Acme Mining,ACME,2025Q3,enterprise_value_usd,3000000000,USD,2025-09-30,https://markets.example.com/acme,press,
`;
const DEALS = `announced,miner,tenant,site,kind,it_mw,term_years,total_value_usd,annual_value_usd,escalator_pct,prepay_pct,backstop,source_url,source_kind,note
2025-08-15,Acme Mining,Hyperco,Site A,lease,100,10,2400000000,,,,,https://example.com/deal-1,press_release,
`;

async function world(withStore: boolean) {
  const { agent, clock } = await setup(fakeFleet(1));
  const auth = new AuthService({ store: new MemoryIdentityStore(), clock, scrypt: TEST_SCRYPT });
  await auth.addUser(CLI, { name: 'view', password: PW, role: 'viewer', site: 'elsewhere' });
  await auth.addUser(CLI, { name: 'dr', password: PW, role: 'signals', site: null });
  const industry = SqliteIndustryStore.open(':memory:');
  await industry.importFile(parseIndustryCsv(METRICS, 'miner_metrics.csv'), 1_000);
  await industry.importFile(parseIndustryCsv(DEALS, 'ai_deals.csv'), 1_000);
  const app = consoleApi({ agent, auth, clock, secureCookies: false, ...(withStore ? { industry } : {}) });
  const get = async (path: string, who: string) => {
    const r = await app.request('/login', { method: 'POST', headers: H, body: JSON.stringify({ name: who, password: PW }) });
    return app.request(path, { headers: { ...H, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0] as string } });
  };
  return { get, industry };
}

describe('industry routes', () => {
  it('any reader (a viewer of another site too) gets every figure with its source', async () => {
    const { get, industry } = await world(true);
    const sum = industrySummarySchema.parse(await (await get('/industry/summary', 'view')).json());
    expect(sum.companies).toEqual(['Acme Mining']);
    expect(sum.files.map((f) => [f.file, f.rows])).toEqual([
      ['ai_deals.csv', 1],
      ['miner_metrics.csv', 4],
    ]);
    const mix = revenueMixReplySchema.parse(await (await get('/industry/revenue-mix', 'view')).json());
    expect(mix.rows).toEqual([expect.objectContaining({ company: 'Acme Mining', period: '2025Q3', bitcoinUsd: 80e6, aiHpcUsd: 20e6, aiSharePct: 20 })]);
    expect(mix.rows[0]?.sources.every((s) => s.url === 'https://example.com/acme-q3')).toBe(true);
    const deals = dealsReplySchema.parse(await (await get('/industry/deals', 'view')).json());
    expect(deals.deals[0]).toMatchObject({ impliedUsdPerKwMonth: 200, sourceUrl: 'https://example.com/deal-1', comparable: true });
    const mw = mwReplySchema.parse(await (await get('/industry/mw', 'view')).json());
    expect(mw.facts[0]).toMatchObject({ metric: 'ai_hpc_mw_committed', mw: 200, sourceUrl: 'https://example.com/acme-q3' });
    expect(mw.signed[0]?.steps[0]).toMatchObject({ cumulativeMW: 100, sourceUrl: 'https://example.com/deal-1' });
    const v = valuePerMwReplySchema.parse(await (await get('/industry/value-per-mw', 'view')).json());
    expect(v.rows[0]).toMatchObject({ usdPerMW: 15e6, sources: ['https://markets.example.com/acme', 'https://example.com/acme-q3'] });
    const facts = factsReplySchema.parse(await (await get('/industry/facts?metric=ai_hpc_mw_committed', 'view')).json());
    expect(facts.facts).toEqual([expect.objectContaining({ value: 200, file: 'miner_metrics.csv', line: 4 })]);
    expect((await get('/industry/facts?metric=bogus', 'view')).status).toBe(400);
    expect((await get('/industry/deals', 'dr')).status).toBe(403);
    await industry.close();
  }, 20_000);

  it('without a store: 503 that says how to provide one', async () => {
    const { get } = await world(false);
    const r = await get('/industry/deals', 'view');
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ error: { code: 'NO_DATA', message: expect.stringContaining('mullet industry import') as unknown } });
  }, 20_000);
});
