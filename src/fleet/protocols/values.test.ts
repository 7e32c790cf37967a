import { describe, expect, it } from 'vitest';
import { isStrictJson, LenientJsonError, parseLenientJson, unwrapJsonp } from './lenient-json.js';
import { bool, bracketFields, hyphenList, num, pickNum, rateUnit, toThs } from './values.js';

describe('parseLenientJson', () => {
  it('takes strict JSON unchanged', () => {
    expect(parseLenientJson('{"a":[1,2.5,-3e2],"b":"x"}')).toEqual({ a: [1, 2.5, -300], b: 'x' });
  });

  it('tolerates the recorded quirks', () => {
    expect(parseLenientJson('{"STATS":[{"a":1}{"b":2}]}')).toEqual({ STATS: [{ a: 1 }, { b: 2 }] });
    expect(parseLenientJson('{"x":nan,"y":-inf,"z":inf,"w":NaN}')).toEqual({ x: null, y: null, z: null, w: null });
    expect(parseLenientJson(String.raw`{"v":"\'1.2\'"}`)).toEqual({ v: "'1.2'" });
    expect(parseLenientJson('{"a":1, }')).toEqual({ a: 1 });
    expect(parseLenientJson('{"a":"x"}"')).toEqual({ a: 'x' }); // stray quote after the value
    expect(parseLenientJson('{"d":0E-8}')).toEqual({ d: 0 });
  });

  it('never pollutes prototypes', () => {
    const o = parseLenientJson('{"__proto__":{"polluted":1},"a":nan}') as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(o)).toContain('__proto__');
  });

  it('reports truncation (atEnd) separately from garbage', () => {
    const caught = (text: string): unknown => {
      try {
        parseLenientJson(text);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const cut = caught('{"a":[1,2');
    expect(cut).toBeInstanceOf(LenientJsonError);
    expect((cut as LenientJsonError).atEnd).toBe(true);
    const junk = caught('{"a":]}');
    expect((junk as LenientJsonError).atEnd).toBe(false);
    expect(() => parseLenientJson('{"a":1}{"b":2}')).toThrow(LenientJsonError);
    expect(isStrictJson('{"a":nan}')).toBe(false);
  });

  it('unwraps JSONP', () => {
    expect(unwrapJsonp('cb({"a":1});')).toBe('{"a":1}');
    expect(unwrapJsonp('{"a":1}')).toBe('{"a":1}');
  });
});

describe('field readers', () => {
  it('num: numbers, numeric strings with units, never NaN', () => {
    expect(num(5)).toBe(5);
    expect(num('3250 W')).toBe(3250);
    expect(num('1.2009939119E+13')).toBe(12009939119000);
    expect(num('0.00')).toBe(0);
    expect(num('')).toBeNull();
    expect(num('abc')).toBeNull();
    expect(num('12 34')).toBeNull();
    expect(num(Number.NaN)).toBeNull();
    expect(num(Infinity)).toBeNull();
    expect(num(null)).toBeNull();
  });

  it('pickNum follows key drift and skips empty strings', () => {
    expect(pickNum({ 'total rate': 1.5 }, 'total rate', 'total_rate')).toBe(1.5);
    expect(pickNum({ total_rate: '2' }, 'total rate', 'total_rate')).toBe(2);
    expect(pickNum({ 'GHS 5s': '', 'GHS av': 3 }, 'GHS 5s', 'GHS av')).toBe(3);
    expect(pickNum({}, 'x')).toBeNull();
  });

  it('hyphenList: separators vs minus signs (hand-checked)', () => {
    expect(hyphenList('73-45-64-65')).toEqual([73, 45, 64, 65]);
    expect(hyphenList('2--1-20-22')).toEqual([2, -1, 20, 22]);
    expect(hyphenList('-8--11-10-12')).toEqual([-8, -11, 10, 12]);
    expect(hyphenList('1--2-21-19')).toEqual([1, -2, 21, 19]);
    expect(hyphenList('m-m-m-m')).toBeNull();
    expect(hyphenList('')).toBeNull();
    expect(hyphenList('1---2')).toBeNull();
    expect(hyphenList([59, 59, 73])).toEqual([59, 59, 73]);
  });

  it('bool, units, bracket strings', () => {
    expect(bool('true')).toBe(true);
    expect(bool('N')).toBe(false);
    expect(bool('maybe')).toBeNull();
    expect(rateUnit('GH/s')).toBe('GH');
    expect(rateUnit('MHS')).toBe('MH');
    expect(rateUnit('weird')).toBeNull();
    expect(toThs(203007.01, 'GH')).toBeCloseTo(203.00701, 9);
    expect(toThs(15740915.84, 'MH')).toBeCloseTo(15.74091584, 9);
    const f = bracketFields('Ver[1047-2005] SYSTEMSTATU[Work: In Work, Hash Board: 2 ] Fan1[2896] MGHS[12362.61 12812.16] WALLPOWER[3731]');
    expect(f.get('SYSTEMSTATU')).toBe('Work: In Work, Hash Board: 2');
    expect(f.get('Fan1')).toBe('2896');
    expect(f.get('WALLPOWER')).toBe('3731');
  });
});
