import { describe, expect, it } from 'vitest';
import { cptDatePlus, cptDayRangeMs, nextDaPollMs, nextOnGridMs, retryDelayMs, seededRandom } from './schedule.js';

const at = (iso: string) => Date.parse(iso);
const MIN = 60_000;

describe('schedule: grid polls (RT, load, mempool)', () => {
  it('RT polls 2 minutes after each 15-minute interval ends, strictly after now', () => {
    const every = 15 * MIN;
    const delay = 2 * MIN;
    expect(nextOnGridMs(at('2024-03-29T06:00:00Z'), every, delay)).toBe(at('2024-03-29T06:02:00Z'));
    expect(nextOnGridMs(at('2024-03-29T06:02:00Z'), every, delay)).toBe(at('2024-03-29T06:17:00Z'));
    expect(nextOnGridMs(at('2024-03-29T06:16:59.999Z'), every, delay)).toBe(at('2024-03-29T06:17:00Z'));
  });

  it('the 5-minute grid follows every SCED run; load polls hourly at :10', () => {
    expect(nextOnGridMs(at('2024-03-29T06:03:00Z'), 5 * MIN, 90_000)).toBe(at('2024-03-29T06:06:30Z'));
    expect(nextOnGridMs(at('2024-03-29T06:10:00Z'), 60 * MIN, 10 * MIN)).toBe(at('2024-03-29T07:10:00Z'));
    expect(nextOnGridMs(at('2024-03-29T06:09:00Z'), 60 * MIN, 10 * MIN)).toBe(at('2024-03-29T06:10:00Z'));
  });

  it('rejects a non-positive period', () => {
    expect(() => nextOnGridMs(0, 0)).toThrow(RangeError);
  });
});

describe('schedule: day-ahead', () => {
  const o = { publishAtMinuteCpt: 13 * 60 + 30, retryEveryMs: 15 * MIN };

  it('waits for 13:30 CPT (CDT in April: 18:30 UTC), then retries every 15 min until tomorrow is in', () => {
    expect(nextDaPollMs(at('2025-04-10T15:00:00Z'), { ...o, haveTomorrow: false })).toBe(at('2025-04-10T18:30:00Z'));
    expect(nextDaPollMs(at('2025-04-10T18:30:00Z'), { ...o, haveTomorrow: false })).toBe(at('2025-04-10T18:45:00Z'));
    expect(nextDaPollMs(at('2025-04-10T22:00:00Z'), { ...o, haveTomorrow: false })).toBe(at('2025-04-10T22:15:00Z'));
  });

  it('with tomorrow held, the next poll is the following afternoon', () => {
    expect(nextDaPollMs(at('2025-04-10T18:31:00Z'), { ...o, haveTomorrow: true })).toBe(at('2025-04-11T18:30:00Z'));
    // 20:00 CDT on the 10th is already the 11th in UTC: the CPT day decides.
    expect(nextDaPollMs(at('2025-04-11T01:00:00Z'), { ...o, haveTomorrow: true })).toBe(at('2025-04-11T18:30:00Z'));
  });

  it('in winter 13:30 CPT is 19:30 UTC; across the fall-back day the offset changes', () => {
    expect(nextDaPollMs(at('2024-12-02T12:00:00Z'), { ...o, haveTomorrow: false })).toBe(at('2024-12-02T19:30:00Z'));
    expect(nextDaPollMs(at('2024-11-02T19:00:00Z'), { ...o, haveTomorrow: true })).toBe(at('2024-11-03T19:30:00Z'));
  });

  it('on the spring-forward day 13:30 CDT is 18:30 UTC (the day before it was 19:30)', () => {
    expect(nextDaPollMs(at('2024-03-09T12:00:00Z'), { ...o, haveTomorrow: false })).toBe(at('2024-03-09T19:30:00Z'));
    expect(nextDaPollMs(at('2024-03-09T20:00:00Z'), { ...o, haveTomorrow: true })).toBe(at('2024-03-10T18:30:00Z'));
  });

  it('CPT days are 23, 24 or 25 hours long', () => {
    const len = (d: string) => {
      const r = cptDayRangeMs(d);
      return (r.endMs - r.startMs) / 3_600_000;
    };
    expect([len('2024-03-10'), len('2024-03-11'), len('2024-11-03')]).toEqual([23, 24, 25]);
    expect(cptDatePlus(at('2025-04-11T04:59:00Z'), 1)).toBe('2025-04-11');
    expect(cptDatePlus(at('2025-04-11T05:00:00Z'), 1)).toBe('2025-04-12');
  });
});

describe('backoff with seeded jitter', () => {
  const policy = { baseDelayMs: 5_000, maxDelayMs: 600_000 };

  it('the same seed gives the same delays; each is within [step/2, step] of the doubling step', () => {
    const r1 = seededRandom(7);
    const r2 = seededRandom(7);
    const d1 = [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, policy, r1));
    const d2 = [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, policy, r2));
    expect(d1).toEqual(d2);
    d1.forEach((d, i) => {
      const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** i);
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    });
    expect(seededRandom(8)()).not.toBe(seededRandom(7)());
  });

  it('is capped at maxDelay however many failures', () => {
    const r = seededRandom(1);
    for (const n of [10, 20, 59, 60, 1000]) {
      const d = retryDelayMs(n, policy, r);
      expect(d).toBeGreaterThanOrEqual(300_000);
      expect(d).toBeLessThanOrEqual(600_000);
    }
    expect(retryDelayMs(1, policy, () => 0)).toBe(2_500);
    expect(retryDelayMs(1, policy, () => 0.999999)).toBe(5_000);
  });
});
