import { describe, expect, it } from 'vitest';
import { allocate, type AllocateInput, type ShardReport } from './allocate.js';

/** mulberry32: seeded, so every case is reproducible from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const report = (shardId: string, o: Partial<ShardReport> = {}): ShardReport => ({ shardId, reportedAtMs: 1000, currentMiningMW: 10, nameplateMW: 10, minMW: 0, wantMW: 10, ...o });

function input(reports: ShardReport[], o: Partial<AllocateInput> = {}): AllocateInput {
  return {
    nowMs: 1000,
    importLimitMW: 100,
    aiMW: 0,
    otherLoadMW: 0,
    marginMW: 0,
    siteMiningCapMW: null,
    silentAfterMs: 5000,
    shards: reports.map((r) => ({ shardId: r.shardId, nameplateMW: r.nameplateMW })),
    reports: new Map(reports.map((r) => [r.shardId, r])),
    ...o,
  };
}

describe('allocate', () => {
  it('gives every shard what it wants when the limit allows', () => {
    const a = allocate(input([report('a'), report('b')]));
    expect(a.shards.map((s) => s.capMW)).toEqual([10, 10]);
    expect(a.feasible).toBe(true);
  });

  it('shares a short budget in proportion to want − min, lowering at once', () => {
    const a = allocate(input([report('a', { nameplateMW: 30, wantMW: 30, currentMiningMW: 30 }), report('b', { currentMiningMW: 10 })], { importLimitMW: 22, aiMW: 1, marginMW: 1 }));
    // budget 20 shared 30:10
    expect(a.shards[0]?.capMW).toBeCloseTo(15);
    expect(a.shards[1]?.capMW).toBeCloseTo(5);
  });

  it('counts a silent shard at nameplate, reserves it, and the others shed more', () => {
    const reports = [report('a', { reportedAtMs: 0 }), report('b', { reportedAtMs: 9000 })];
    const a = allocate(input(reports, { nowMs: 10_000, importLimitMW: 15, silentAfterMs: 5000 }));
    expect(a.shards[0]).toMatchObject({ silent: true, capMW: 10, countedMW: 10 });
    expect(a.shards[1]?.capMW).toBeCloseTo(5);
  });

  it('a shard that never reported is silent at the nameplate it was started with', () => {
    const a = allocate({ ...input([report('b')], { importLimitMW: 15 }), shards: [{ shardId: 'a', nameplateMW: 12 }, { shardId: 'b', nameplateMW: 10 }] });
    expect(a.shards[0]).toMatchObject({ shardId: 'a', silent: true, capMW: 12 });
    expect(a.shards[1]?.capMW).toBeCloseTo(3);
  });

  it('a site curtail --all caps every shard at 0; what it cannot shed is still counted', () => {
    const a = allocate(input([report('a', { minMW: 2 }), report('b')], { siteMiningCapMW: 0 }));
    expect(a.shards.map((s) => s.capMW)).toEqual([0, 0]);
    expect(a.shards[0]?.countedMW).toBe(10);
    expect(a.feasible).toBe(false);
  });

  it('raises wait while another shard still sheds', () => {
    // a is being lowered from 10 to 5 (still draws 10); b wants 10 and draws 0: no room until a has shed.
    const r = [report('a', { currentMiningMW: 10 }), report('b', { currentMiningMW: 0 })];
    const a = allocate(input(r, { importLimitMW: 10 }));
    expect(a.shards[0]?.capMW).toBeCloseTo(5);
    expect(a.shards[1]?.capMW).toBeCloseTo(0);
    const later = allocate(input([report('a', { currentMiningMW: 5 }), report('b', { currentMiningMW: 0 })], { importLimitMW: 10 }));
    expect(later.shards[1]?.capMW).toBeCloseTo(5);
  });

  it('property: caps never exceed the budget, silent at nameplate, counted within budget when it started so (seeded)', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const r = rng(seed);
      const n = 1 + Math.floor(r() * 8);
      const nowMs = 100_000;
      const reports: ShardReport[] = [];
      for (let i = 0; i < n; i++) {
        const nameplateMW = r() * 50;
        const minMW = r() < 0.3 ? r() * nameplateMW * 0.3 : 0;
        reports.push({ shardId: `s${i}`, reportedAtMs: nowMs - (r() < 0.2 ? 20_000 : r() * 4000), currentMiningMW: r() * nameplateMW, nameplateMW, minMW, wantMW: r() * nameplateMW * 1.2 });
      }
      const inp = input(reports, { nowMs, importLimitMW: r() * 300, aiMW: r() * 50, otherLoadMW: r() * 5, marginMW: r(), siteMiningCapMW: r() < 0.3 ? r() * 100 : null });
      const a = allocate(inp);
      const capSum = a.shards.reduce((x, s) => x + s.capMW, 0);
      const silentIds = new Set(reports.filter((x) => nowMs - x.reportedAtMs > inp.silentAfterMs).map((x) => x.shardId));
      for (const s of a.shards) {
        const rep = reports.find((x) => x.shardId === s.shardId);
        expect(s.capMW, `seed ${seed}`).toBeGreaterThanOrEqual(0);
        if (silentIds.has(s.shardId)) expect(s.capMW).toBe(rep?.nameplateMW);
        else expect(s.capMW, `seed ${seed}`).toBeLessThanOrEqual(Math.max(rep?.nameplateMW ?? 0, 0) + 1e-9);
      }
      if (a.feasible) expect(capSum, `seed ${seed}`).toBeLessThanOrEqual(a.budgetMW + 1e-6);
      const curSum = reports.filter((x) => !silentIds.has(x.shardId)).reduce((x, y) => x + Math.max(y.currentMiningMW, y.minMW), 0);
      const silentMW = reports.filter((x) => silentIds.has(x.shardId)).reduce((x, y) => x + y.nameplateMW, 0);
      if (curSum + silentMW <= a.budgetMW) expect(a.countedMW, `seed ${seed}`).toBeLessThanOrEqual(a.budgetMW + 1e-6);
    }
  });
});
