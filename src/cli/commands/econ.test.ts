import { describe, expect, it } from 'vitest';
import { runCapture } from '../../testing/cli.js';

describe('mullet econ compare', () => {
  it('prices mining per MWh from hashprice and AI from lease and GPU-hour rates', async () => {
    const r = await runCapture(['econ', 'compare', '--hashprice-usd-per-ph-day', '35', '--pool-fee-pct', '0', '--mining-pue', '1',
      '--lease-usd-per-kw-month', '150', '--gpu-usd-per-hour', '2', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { rows: { use: string; name: string; revenueUsdPerMWh: number; efficiencyJPerTh?: number }[] };
    const s21 = j.rows.find((x) => x.name === 'Antminer S21');
    // 35 / (0.024 × 17.5) = 83.33 USD/MWh
    expect(s21?.revenueUsdPerMWh).toBeCloseTo(35 / (0.024 * (s21?.efficiencyJPerTh ?? NaN)), 9);
    const lease = j.rows.find((x) => x.use === 'ai-lease');
    // 150 USD/kW-month × 1000 / 730 h / PUE 1.3
    expect(lease?.revenueUsdPerMWh).toBeCloseTo((150 * 1000) / 730 / 1.3, 9);
    const gpu = j.rows.find((x) => x.use === 'gpu-cloud');
    expect(gpu?.revenueUsdPerMWh).toBeGreaterThan(500);
    expect(r.err).toBe('');
  });

  it('prints a table with units in the headers', async () => {
    const r = await runCapture(['econ', 'compare', '--hashprice-usd-per-ph-day', '50', '--power-price-usd-per-mwh', '40']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('USD/MWh at meter');
    expect(r.out).toContain('margin USD/MWh @ 40 USD/MWh');
    expect(r.out).not.toContain('NaN');
  });

  it('computes margins for AI rows too: a pass-through lease keeps its rent, GPU cloud and a site-paid lease pay the power', async () => {
    const argv = ['econ', 'compare', '--hashprice-usd-per-ph-day', '50', '--power-price-usd-per-mwh', '40', '--lease-usd-per-kw-month', '150', '--gpu-usd-per-hour', '2', '--json'];
    const j = JSON.parse((await runCapture(argv)).out) as { rows: { use: string; revenueUsdPerMWh: number; marginUsdPerMWh: number; sitePaysPower: boolean }[]; powerPriceUsdPerMWh: number };
    expect(j.powerPriceUsdPerMWh).toBe(40);
    for (const row of j.rows) expect(Number.isFinite(row.marginUsdPerMWh)).toBe(true);
    const lease = j.rows.find((x) => x.use === 'ai-lease');
    expect(lease?.sitePaysPower).toBe(false);
    expect(lease?.marginUsdPerMWh).toBeCloseTo(lease?.revenueUsdPerMWh ?? NaN, 9);
    const gpu = j.rows.find((x) => x.use === 'gpu-cloud');
    expect(gpu?.marginUsdPerMWh).toBeCloseTo((gpu?.revenueUsdPerMWh ?? NaN) - 40, 9);
    const sitePays = JSON.parse((await runCapture([...argv, '--lease-site-pays-power'])).out) as typeof j;
    const l2 = sitePays.rows.find((x) => x.use === 'ai-lease');
    expect(l2?.marginUsdPerMWh).toBeCloseTo((l2?.revenueUsdPerMWh ?? NaN) - 40, 9);
  });

  it('exits 2 on conflicting or missing inputs, naming the flag', async () => {
    const both = await runCapture(['econ', 'compare', '--date', '2024-01-01', '--hashprice-usd-per-ph-day', '50']);
    expect(both.code).toBe(2);
    expect(both.err).toContain('--date');
    const none = await runCapture(['econ', 'compare']);
    expect(none.code).toBe(2);
    const bad = await runCapture(['econ', 'compare', '--hashprice-usd-per-ph-day', '50', '--utilization', '1.5']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--utilization');
    const gpu = await runCapture(['econ', 'compare', '--hashprice-usd-per-ph-day', '50', '--gpu', 'Voodoo2']);
    expect(gpu.code).toBe(2);
  });

  it('fails with exit 1 and a clear message when the store file is absent', async () => {
    const r = await runCapture(['econ', 'compare', '--date', '2024-01-01', '--db', '/nonexistent/m.db']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('does not exist');
  });
});
