import { describe, expect, it } from 'vitest';
import { runCapture } from '../../testing/cli.js';

describe('mullet network what-if', () => {
  it('--json: slower blocks, one retarget, stayers earn more', async () => {
    const r = await runCapture(['network', 'what-if', '--exit-ehs', '100', '--over-days', '0', '--from', '2026-02-01', '--days', '20', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { retargets: unknown[]; summary: { maxBlockTimeS: number; stayerHashpriceVsBaselinePct: number; difficultyChangePct: number }; days: unknown[]; startState: { source: string } };
    expect(j.days).toHaveLength(20);
    expect(j.summary.maxBlockTimeS).toBeGreaterThan(640);
    expect(j.retargets.length).toBeGreaterThanOrEqual(1);
    expect(j.summary.difficultyChangePct).toBeLessThan(-5);
    expect(j.summary.stayerHashpriceVsBaselinePct).toBeGreaterThan(5);
    expect(j.startState.source).toContain('built-in state');
  });

  it('human output and bad input', async () => {
    const r = await runCapture(['network', 'what-if', '--exit-ehs', '50', '--over-days', '30']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('50.0 EH/s leave over 30 days');
    const bad = await runCapture(['network', 'what-if', '--exit-ehs', '100000', '--over-days', '1']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--exit-ehs');
    const neg = await runCapture(['network', 'what-if', '--exit-ehs', '10', '--over-days', '-1']);
    expect(neg.code).toBe(2);
  });
});
