import { describe, expect, it } from 'vitest';
import { PUBLISHED_DEALS } from './deals-data.js';
import { compareProposal, DealInputSchema, dealFromInput, dealId, dealMetrics, dealsFileSchema, mergeDeals, type Deal } from './deals.js';

function deal(id: string): Deal {
  const d = PUBLISHED_DEALS.find((x) => x.id === id);
  if (!d) throw new Error(`missing ${id}`);
  return d;
}

describe('published deals', () => {
  it('every built-in row passes the user-file schema (the same rules apply to both)', () => {
    for (const d of PUBLISHED_DEALS) {
      const parsed = DealInputSchema.safeParse({ ...d, totalValueUsd: d.totalValueUsd ?? undefined, annualUsd: d.annualUsd ?? undefined });
      expect(parsed.success, `${d.id}: ${parsed.success ? '' : parsed.error.message}`).toBe(true);
    }
    expect(new Set(PUBLISHED_DEALS.map((d) => d.id)).size).toBe(PUBLISHED_DEALS.length);
  });

  // Hand computations: level USD/kW-month = total / (MW × 1000 × years × 12).
  it.each([
    ['iren-microsoft-2025-11', 9.7e9 / (200_000 * 60), 808.33],
    ['hut8-fluidstack-2025-12', 7.0e9 / (245_000 * 180), 158.73],
    ['cipher-fluidstack-2025-09', 3.0e9 / (168_000 * 120), 148.81],
    ['core-scientific-coreweave-2024-10', 8.7e9 / (500_000 * 144), 120.83],
    ['terawulf-fluidstack-2025-08', 3.7e9 / (200_000 * 120), 154.17],
    ['galaxy-coreweave-2025-08', 1.0e9 / (526_000 * 12), 158.43],
  ])('%s implies %f USD/kW-month (≈ %f)', (id, hand, rounded) => {
    const m = dealMetrics(deal(id));
    expect(m.usdPerKwMonth).toBeCloseTo(hand, 6);
    expect(m.usdPerKwMonth).toBeCloseTo(rounded, 2);
    expect(m.usdPerMWhIt).toBeCloseTo((hand * 1000) / 730, 6);
    expect(m.revenueUsdPerMwYear).toBeCloseTo(hand * 12_000, 3);
  });

  it('IREN earns ~$1.94B a year; Hut 8 starts at 128.02 USD/kW-month with its 3 % escalator', () => {
    expect(dealMetrics(deal('iren-microsoft-2025-11')).averageAnnualUsd).toBeCloseTo(1.94e9, 0);
    const hut = dealMetrics(deal('hut8-fluidstack-2025-12'));
    expect(hut.firstYearUsdPerKwMonth).toBeCloseTo(128.0157, 3);
    expect(hut.usdPerKwMonth).toBeCloseTo(158.7302, 3);
  });

  it('Galaxy is given as annual value: 15 × $1B', () => {
    expect(dealMetrics(deal('galaxy-coreweave-2025-08')).totalValueUsd).toBeCloseTo(15e9, 0);
  });

  it('shell leases land in the ~$100–180/kW-month band; the GPU cloud far above', () => {
    for (const d of PUBLISHED_DEALS) {
      const rate = dealMetrics(d).usdPerKwMonth;
      if (d.kind === 'lease') {
        expect(rate).toBeGreaterThan(100);
        expect(rate).toBeLessThan(180);
      } else {
        expect(rate).toBeGreaterThan(500);
      }
    }
  });
});

describe('deal files', () => {
  const row = { miner: 'Acme', tenant: 'Neo', itMW: 50, termYears: 10, totalValueUsd: 9e8, announced: '2026-01', source: 'press release' };

  it('defaults optional fields and derives an id', () => {
    const parsed = DealInputSchema.parse(row);
    const d = dealFromInput(parsed);
    expect(d).toMatchObject({ id: 'acme-neo-2026-01', kind: 'lease', annualUsd: null, escalatorPct: null, siteOrNote: '' });
    expect(dealId('Hut 8', 'Fluidstack', '2025-12')).toBe('hut-8-fluidstack-2025-12');
  });

  it('requires exactly one of totalValueUsd / annualUsd and a YYYY-MM date', () => {
    const both = DealInputSchema.safeParse({ ...row, annualUsd: 1 });
    expect(both.success).toBe(false);
    expect(both.error?.issues[0]?.path).toEqual(['totalValueUsd']);
    const badDate = DealInputSchema.safeParse({ ...row, announced: '2026-13' });
    expect(badDate.error?.issues[0]?.message).toMatch(/YYYY-MM/);
    expect(DealInputSchema.safeParse({ ...row, itMW: Infinity }).success).toBe(false);
  });

  it('accepts a bare list or a deals: list and flags duplicate ids by index', () => {
    expect(dealsFileSchema([row]).parse([row]).deals).toHaveLength(1);
    const obj = { deals: [row, row] };
    const res = dealsFileSchema(obj).safeParse(obj);
    expect(res.success).toBe(false);
    expect(res.error?.issues[0]?.path).toEqual(['deals', 1, 'id']);
  });

  it('merges: same id overrides in place, new ids append', () => {
    const replaced: Deal = { ...deal('cipher-fluidstack-2025-09'), totalValueUsd: 3.1e9 };
    const extra = dealFromInput(DealInputSchema.parse(row));
    const merged = mergeDeals(PUBLISHED_DEALS, [replaced, extra]);
    expect(merged.deals).toHaveLength(PUBLISHED_DEALS.length + 1);
    expect(merged.deals.find((d) => d.id === replaced.id)?.totalValueUsd).toBe(3.1e9);
    expect(merged.overrides).toEqual(["user file overrides built-in deal 'cipher-fluidstack-2025-09'"]);
  });
});

describe('compareProposal', () => {
  it('places a proposal among deals of the same kind by level USD/kW-month', () => {
    const leases = PUBLISHED_DEALS.filter((d) => d.kind === 'lease').map((d) => dealMetrics(d).usdPerKwMonth).sort((a, b) => a - b);
    const top = compareProposal(1000, 'lease', PUBLISHED_DEALS);
    expect(top.peers).toBe(leases.length);
    expect(top.peersBelow).toBe(leases.length);
    expect(top.percentile).toBe(100);
    const bottom = compareProposal(1, 'lease', PUBLISHED_DEALS);
    expect(bottom.peersBelow).toBe(0);
    expect(bottom.medianPeerUsdPerKwMonth).toBeCloseTo(leases[Math.floor(leases.length / 2)] as number, 9);
    // GPU-cloud prices include the GPUs: never compared with leases.
    expect(compareProposal(500, 'gpu-cloud', PUBLISHED_DEALS).peers).toBe(PUBLISHED_DEALS.filter((d) => d.kind === 'gpu-cloud').length);
  });
});
