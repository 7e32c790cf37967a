import { describe, expect, it } from 'vitest';
import {
  cptDayHours,
  cptDstBoundsUtcMs,
  cptOffsetMinutes,
  cptWallToUtcMs,
  ercotIntervalStartUtcMs,
  formatCpt,
  parseErcotDate,
  parseHourEnding,
} from './ercot-time.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('CPT daylight-saving bounds', () => {
  it('uses the 2007+ rule (second Sunday of March, first Sunday of November)', () => {
    const b = cptDstBoundsUtcMs(2024);
    expect(iso(b.startMs)).toBe('2024-03-10T08:00:00.000Z');
    expect(iso(b.endMs)).toBe('2024-11-03T07:00:00.000Z');
    expect(iso(cptDstBoundsUtcMs(2022).startMs)).toBe('2022-03-13T08:00:00.000Z');
    expect(iso(cptDstBoundsUtcMs(2025).endMs)).toBe('2025-11-02T07:00:00.000Z');
  });
  it('uses the 1987–2006 rule (first Sunday of April, last Sunday of October)', () => {
    const b = cptDstBoundsUtcMs(2006);
    expect(iso(b.startMs)).toBe('2006-04-02T08:00:00.000Z');
    expect(iso(b.endMs)).toBe('2006-10-29T07:00:00.000Z');
  });
  it('refuses years without a rule', () => {
    expect(() => cptDstBoundsUtcMs(1980)).toThrow(RangeError);
  });
  it('gives the offset at an instant', () => {
    expect(cptOffsetMinutes(Date.parse('2024-01-15T12:00:00Z'))).toBe(-360);
    expect(cptOffsetMinutes(Date.parse('2024-07-15T12:00:00Z'))).toBe(-300);
    expect(cptOffsetMinutes(Date.parse('2024-11-03T06:59:59Z'))).toBe(-300);
    expect(cptOffsetMinutes(Date.parse('2024-11-03T07:00:00Z'))).toBe(-360);
  });
});

describe('hour-ending labels to UTC interval starts', () => {
  it('maps an ordinary winter and summer hour', () => {
    // HE 01 on 2020-01-01 starts at 00:00 CST = 06:00 UTC (PROVENANCE: 11.23 $/MWh interval).
    expect(iso(ercotIntervalStartUtcMs({ year: 2020, month: 1, day: 1 }, 1, false))).toBe('2020-01-01T06:00:00.000Z');
    expect(iso(ercotIntervalStartUtcMs({ year: 2024, month: 7, day: 1 }, 24, false))).toBe('2024-07-02T04:00:00.000Z');
  });
  it('maps NP6-905 hour 1 interval 4 of 2024-03-29 to 05:45 UTC', () => {
    expect(iso(ercotIntervalStartUtcMs({ year: 2024, month: 3, day: 29 }, 1, false, 4, 4))).toBe('2024-03-29T05:45:00.000Z');
  });
  it('spring-forward day has 23 hours and no HE 03', () => {
    const d = { year: 2024, month: 3, day: 10 };
    expect(cptDayHours(d)).toBe(23);
    expect(iso(ercotIntervalStartUtcMs(d, 2, false))).toBe('2024-03-10T07:00:00.000Z');
    expect(() => ercotIntervalStartUtcMs(d, 3, false)).toThrow(/does not exist/);
    expect(iso(ercotIntervalStartUtcMs(d, 4, false))).toBe('2024-03-10T08:00:00.000Z');
    const starts = [1, 2, ...Array.from({ length: 21 }, (_, i) => i + 4)].map((he) => ercotIntervalStartUtcMs(d, he, false));
    for (let i = 1; i < starts.length; i++) expect((starts[i] as number) - (starts[i - 1] as number)).toBe(3_600_000);
  });
  it('fall-back day has 25 hours; the flagged repeat of HE 02 is 01:00 CST', () => {
    const d = { year: 2024, month: 11, day: 3 };
    expect(cptDayHours(d)).toBe(25);
    expect(iso(ercotIntervalStartUtcMs(d, 1, false))).toBe('2024-11-03T05:00:00.000Z');
    expect(iso(ercotIntervalStartUtcMs(d, 2, false))).toBe('2024-11-03T06:00:00.000Z');
    expect(iso(ercotIntervalStartUtcMs(d, 2, true))).toBe('2024-11-03T07:00:00.000Z');
    expect(iso(ercotIntervalStartUtcMs(d, 3, false))).toBe('2024-11-03T08:00:00.000Z');
    expect(iso(ercotIntervalStartUtcMs(d, 2, true, 4, 4))).toBe('2024-11-03T07:45:00.000Z');
    expect(() => ercotIntervalStartUtcMs(d, 3, true)).toThrow(/not repeated/);
  });
  it('ordinary days have 24 hours', () => {
    expect(cptDayHours({ year: 2023, month: 6, day: 1 })).toBe(24);
    expect(cptDayHours({ year: 2023, month: 12, day: 31 })).toBe(24);
  });
  it('converts wall-clock minutes', () => {
    expect(iso(cptWallToUtcMs({ year: 2022, month: 10, day: 10 }, 13 * 60))).toBe('2022-10-10T18:00:00.000Z');
  });
});

describe('label parsing and formatting', () => {
  it('parses ERCOT dates and hour endings', () => {
    expect(parseErcotDate('04/11/2025')).toEqual({ year: 2025, month: 4, day: 11 });
    expect(() => parseErcotDate('02/30/2025')).toThrow(RangeError);
    expect(() => parseErcotDate('2025-04-11')).toThrow(RangeError);
    expect(parseHourEnding('01:00')).toBe(1);
    expect(parseHourEnding('24:00')).toBe(24);
    expect(parseHourEnding('7')).toBe(7);
    expect(() => parseHourEnding('25:00')).toThrow(RangeError);
    expect(() => parseHourEnding('01:15')).toThrow(RangeError);
    expect(() => parseHourEnding('0')).toThrow(RangeError);
  });
  it('formats a UTC instant in CPT with its offset', () => {
    expect(formatCpt(Date.parse('2024-11-03T06:00:00Z'))).toBe('2024-11-03T01:00:00-05:00');
    expect(formatCpt(Date.parse('2024-11-03T07:00:00Z'))).toBe('2024-11-03T01:00:00-06:00');
  });
});
