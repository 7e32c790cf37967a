import { describe, expect, it } from 'vitest';
import { runCapture } from '../../testing/cli.js';

describe('mullet demo', () => {
  it('runs offline on the synthetic market and labels it everywhere', async () => {
    const r = await runCapture(['demo', '--days', '7']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('SYNTHETIC');
    expect(r.out).toContain('mullet data import');
    expect(r.out).toContain('break-even USD/MWh');
  });

  it('is deterministic for a seed and prints one JSON document', async () => {
    const a = await runCapture(['demo', '--days', '5', '--seed', '3', '--json']);
    const b = await runCapture(['demo', '--days', '5', '--seed', '3', '--json']);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    const j = JSON.parse(a.out) as { synthetic: boolean; label: string; mining: { strikeMarginUsdPerMwDay: number; alwaysOnMarginUsdPerMwDay: number }[] };
    expect(j.synthetic).toBe(true);
    expect(j.label).toMatch(/SYNTHETIC/);
    // Sleeping above break-even can only add margin.
    for (const m of j.mining) expect(m.strikeMarginUsdPerMwDay).toBeGreaterThanOrEqual(m.alwaysOnMarginUsdPerMwDay);
  });

  it('rejects a bad day count with exit 2', async () => {
    const r = await runCapture(['demo', '--days', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--days');
  });
});
