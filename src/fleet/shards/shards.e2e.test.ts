/**
 * Two shards (worker threads, real drivers) over a simulated fleet of 40 miners on loopback: the
 * site total (the simulator's true power) stays under the budget the coordinator shares; a shard
 * killed is counted at nameplate and the other sheds more; a site curtail --all is obeyed by both.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/time.js';
import { nameplate } from '../agent/fleet.js';
import { SimSite } from '../agent/testing/sim-site.js';
import { ShardCoordinator, splitInventory } from './coordinator.js';
import { shardRoutes } from './routes.js';

let s: SimSite;
let c: ShardCoordinator | undefined;
let hostsOf: Set<string>[] = [];
let budgetMW = 0;
let shardNameplateMW: number[] = [];
let sampling = true;
let maxTrueMW = 0;
let sampler: Promise<void> | undefined;
const TOL_MW = 0.002;

const ipOf = (host: string): string => host.split(':')[0] ?? host;

async function trueMW(filter?: Set<string>): Promise<number> {
  const t = await s.truth();
  return t.filter((x) => !filter || filter.has(x.ip)).reduce((a, x) => a + x.powerW, 0) / 1e6;
}

beforeAll(async () => {
  s = await SimSite.start({ miners: 40, cidr: '127.30.41.0/24', timeScale: 20 });
  const slices = splitInventory(s.inventory, 2);
  hostsOf = slices.map((sl) => new Set(sl.miners.map((m) => ipOf(m.host))));
  shardNameplateMW = slices.map((sl) => sl.miners.reduce((a, m) => a + nameplate(m, s.site).ratedPowerW / 1e6, 0));
  const total = shardNameplateMW.reduce((a, b) => a + b, 0);
  const aiMW = 2.5;
  // Mining may use 70 % of nameplate: the limit binds from the start.
  budgetMW = 0.7 * total;
  const coord = ShardCoordinator.start({
    siteYaml: readFileSync(s.siteFile, 'utf8'),
    siteFile: s.siteFile,
    inventory: s.inventory,
    shards: 2,
    importLimitMW: aiMW + budgetMW,
    aiMW,
    clock: systemClock,
    tickMs: 250,
    reportEveryMs: 250,
    silentAfterMs: 1500,
    holdMs: 10_000,
    ...(process.env.SHARDS_DEBUG ? { log: (l: string): void => void process.stderr.write(`${l}\n`) } : {}),
    shard: { tickMs: 1000, concurrency: 32, callTimeoutMs: 3000, verifyWaitMs: 3000, decide: { minDwellMs: 0, confirmTimeoutMs: 1500, restorePacingMs: 200 } },
  });
  c = coord;
  expect(await coord.waitReady(60_000)).toBe(true);
  if (process.env.SHARDS_DEBUG) process.stderr.write(`ready: ${JSON.stringify(coord.status().shards)} true ${await trueMW()} budget ${budgetMW}\n`);
  // Every shard has read its slice and settled under an allocation: from here on the site must stay under.
  coord.allocateNow();
  expect(await coord.waitSettled(coord.status().allocSeq - 1, 30_000)).toBe(true);
  sampler = (async () => {
    while (sampling) {
      maxTrueMW = Math.max(maxTrueMW, await trueMW());
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
}, 90_000);

afterAll(async () => {
  sampling = false;
  await sampler;
  await c?.close(10_000);
  await s.close();
}, 60_000);

function coord(): ShardCoordinator {
  if (!c) throw new Error('no coordinator');
  return c;
}

describe('sharded site', () => {
  it('starts within the budget, shared over both shards', async () => {
    const a = coord().allocateNow();
    expect(a?.shards).toHaveLength(2);
    expect((a?.shards ?? []).reduce((x, y) => x + y.capMW, 0)).toBeLessThanOrEqual(budgetMW + 1e-6);
    expect(await trueMW()).toBeLessThanOrEqual(budgetMW + TOL_MW);
  });

  it('a killed shard counts at nameplate and the other sheds more', async () => {
    const before0MW = await trueMW(hostsOf[0]);
    await coord().killShard('shard-1');
    const st = await waitFor(() => {
      const x = coord().status();
      return x.shards[1]?.silent === true && (x.shards[0]?.capMW ?? Infinity) < budgetMW - shardNameplateMW[1]! + 1e-6 ? x : null;
    }, 20_000);
    expect(st.shards[1]).toMatchObject({ silent: true, exited: true });
    expect(st.shards[1]?.capMW).toBeCloseTo(shardNameplateMW[1]!, 6);
    const cap0 = st.shards[0]?.capMW ?? NaN;
    expect(cap0).toBeLessThanOrEqual(Math.max(0, budgetMW - shardNameplateMW[1]!) + (st.shards[0]?.minMW ?? 0) + 1e-6);
    // Shard 0 obeys its smaller cap in the ground truth.
    await waitFor(async () => ((await trueMW(hostsOf[0])) <= cap0 + TOL_MW ? true : null), 30_000);
    expect(await trueMW(hostsOf[0])).toBeLessThan(before0MW - 0.001);
  }, 60_000);

  it('curtail --all across the live shard: every one of its miners asleep in the ground truth', async () => {
    const { allocSeq } = coord().signal({ kind: 'curtail', all: true });
    expect(await coord().waitSettled(allocSeq, 30_000, true)).toBe(true);
    const truth = (await s.truth()).filter((t) => hostsOf[0]?.has(t.ip));
    expect(truth.filter((t) => t.state !== 'sleeping')).toEqual([]);
    expect(coord().status().siteMiningCapMW).toBe(0);
  }, 60_000);

  it('HTTP edge: the site status with a line per shard, metrics per shard, malformed signals refused', async () => {
    const app = shardRoutes(coord());
    const st = await app.request('/v1/status', { headers: { host: '127.0.0.1' } });
    expect(st.status).toBe(200);
    const body = (await st.json()) as { shards: { shardId: string; silent: boolean }[]; siteMiningCapMW: number | null };
    expect(body.shards.map((x) => [x.shardId, x.silent])).toEqual([['shard-0', false], ['shard-1', true]]);
    expect(body.siteMiningCapMW).toBe(0);
    const m = await (await app.request('/metrics', { headers: { host: '127.0.0.1' } })).text();
    expect(m).toContain('mullet_shard_cap_mw{shard="shard-0"}');
    expect(m).toContain('mullet_shard_silent{shard="shard-1"} 1');
    const post = (b: unknown): Promise<Response> => Promise.resolve(app.request('/v1/curtail', { method: 'POST', body: JSON.stringify(b), headers: { host: '127.0.0.1', 'content-type': 'application/json' } }));
    expect((await post({})).status).toBe(400);
    expect((await post({ pct: 10 })).status).toBe(400);
    expect((await post({ mw: -1 })).status).toBe(400);
  });

  it('the site total never exceeded the budget (sampled every 100 ms)', () => {
    expect(maxTrueMW).toBeLessThanOrEqual(budgetMW + TOL_MW);
  });
});

async function waitFor<T>(f: () => T | null | Promise<T | null>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
