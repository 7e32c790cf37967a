import { describe, expect, it } from 'vitest';
import { isStrictJson, LenientJsonError, parseLenientJson, unwrapJsonp } from './lenient-json.js';
import { trimEndNul, trimEndNulAndSpace } from './text.js';
import { bool, bracketFields, hyphenList, num, pickNum, rateUnit, toThs } from './values.js';

/** Seeded strings over a small alphabet that exercises every branch of the hand-written scanners. */
function randomTexts(alphabet: string, count: number, maxLength: number): string[] {
  let state = 12345;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  return Array.from({ length: count }, () => Array.from({ length: next(maxLength) }, () => alphabet[next(alphabet.length)] ?? '').join(''));
}

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

  it('the hand-written scanners agree with the regexes they replace (which are quadratic on long runs)', () => {
    const oldBrackets = (text: string): Map<string, string> => {
      const out = new Map<string, string>();
      const re = /([A-Za-z_][\w ]*?)\[([^\]]*)\]/g;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const key = (m[1] ?? '').trim();
        if (key !== '' && !out.has(key)) out.set(key, (m[2] ?? '').trim());
      }
      return out;
    };
    for (const t of randomTexts('aZ_1 [];-', 3000, 24)) expect(bracketFields(t), JSON.stringify(t)).toEqual(oldBrackets(t));
    const oldJsonp = (text: string): string => /^\s*[A-Za-z_$][\w$]*\s*\(([\s\S]*)\)\s*;?\s*$/.exec(text)?.[1] ?? text;
    for (const t of randomTexts('cb( );{}1 ', 3000, 14)) expect(unwrapJsonp(t), JSON.stringify(t)).toBe(oldJsonp(t));
    for (const t of randomTexts('a \0\t\n\u00a0', 3000, 10)) {
      expect(trimEndNulAndSpace(t), JSON.stringify(t)).toBe(t.replace(/[\0\s]+$/, ''));
      expect(trimEndNul(t), JSON.stringify(t)).toBe(t.replace(/\0+$/, ''));
    }
  });

  it('long runs are read in one pass: 1 MB of spaces, digits or key characters', () => {
    const run = 1_000_000;
    expect(trimEndNulAndSpace(`${' '.repeat(run)}x${'\0 '.repeat(run)}`)).toBe(`${' '.repeat(run)}x`);
    expect(bracketFields(`${'a'.repeat(run)} k[v]`).get(`${'a'.repeat(run)} k`)).toBe('v');
    expect(unwrapJsonp(`cb(1)${' '.repeat(run)}x`)).toBe(`cb(1)${' '.repeat(run)}x`);
  });

  it('a numeric string longer than 64 characters is not a reading', () => {
    expect(num('1'.repeat(64))).toBe(Number('1'.repeat(64)));
    expect(num('1'.repeat(65))).toBeNull();
    expect(num(`${'1'.repeat(1_000_000)}!`)).toBeNull();
  });
});
