import { describe, expect, it } from 'vitest';
import { parseSweep, SWEEP_PARAMETERS } from './sweep.js';

describe('--sweep parsing', () => {
  it('takes lists and FROM:TO:STEP ranges', () => {
    expect(parseSweep('risk-pct=90,95,98')).toEqual({ name: 'risk-pct', values: [90, 95, 98] });
    expect(parseSweep('strike-offset=-20:20:10')).toEqual({ name: 'strike-offset', values: [-20, -10, 0, 10, 20] });
    expect(parseSweep('wake-intervals=1:4:1').values).toEqual([1, 2, 3, 4]);
    expect(parseSweep('strike-offset=0:1:0.25').values).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('rejects what cannot be a value of the parameter, naming --sweep', () => {
    expect(() => parseSweep('threshold=1')).toThrow(/unknown parameter 'threshold'; choose from strike-offset, risk-pct, wake-intervals, sleep-intervals/);
    expect(() => parseSweep('risk-pct=101')).toThrow(/outside 0\.\.100/);
    expect(() => parseSweep('wake-intervals=1.5')).toThrow(/whole intervals/);
    expect(() => parseSweep('risk-pct=')).toThrow(/expected numbers/);
    expect(() => parseSweep('strike-offset=10:0:5')).toThrow(/TO >= FROM/);
    expect(() => parseSweep('strike-offset=0:1000:1')).toThrow(/at most 100 per parameter/);
  });

  it('every parameter changes the site it is applied to, and says which policies it moves', () => {
    const base = {
      name: 's',
      market: { iso: 'ERCOT' as const, settlementPoint: 'HB_WEST' },
      interconnect: { importLimitMW: 10 },
      transmission: { coincidentPeak: { months: [8], usdPerKwYear: 60, alerts: { localHours: [14, 19] as [number, number], riskPct: 95 } } },
      ai: [],
      fleets: [],
      dispatch: { strike: { sleepAfterIntervals: 1, wakeAfterIntervals: 2 }, rolling: { horizonHours: 36, stepMinutes: 15, nearTerm: 'rt-persistence' as const }, timeLimitSeconds: 60 },
    };
    for (const [name, spec] of Object.entries(SWEEP_PARAMETERS)) {
      const v = spec.integer ? 3 : 42;
      expect(spec.current(spec.apply(base, v)), name).toBe(v);
      expect(spec.policies.length, name).toBeGreaterThan(0);
    }
    expect(SWEEP_PARAMETERS['strike-offset']?.unusable?.(base)).toBe('the site has no fleets');
  });
});
