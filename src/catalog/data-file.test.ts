import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isMulletError } from '../core/errors.js';
import { formatDataPath, parseDataText } from './data-file.js';

const Schema = z.strictObject({
  items: z.array(z.strictObject({ name: z.string(), powerW: z.number().positive('powerW must be > 0') })),
});

function failure(f: () => unknown): { code: string; where: string | undefined; message: string } {
  try {
    f();
  } catch (err) {
    if (isMulletError(err)) return { code: err.code, where: err.where, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

describe('parseDataText', () => {
  it('parses YAML and JSON', () => {
    expect(parseDataText('items:\n  - name: a\n    powerW: 5\n', 'x.yaml', Schema).items[0]?.powerW).toBe(5);
    expect(parseDataText('{"items":[{"name":"a","powerW":5}]}', 'x.json', Schema).items).toHaveLength(1);
  });
  it('reports file:line and the data path of a bad value', () => {
    const text = 'items:\n  - name: a\n    powerW: 5\n  - name: b\n    powerW: -1\n';
    expect(failure(() => parseDataText(text, 'x.yaml', Schema))).toEqual({ code: 'BAD_INPUT', where: 'x.yaml:5', message: 'items[1].powerW: powerW must be > 0' });
  });
  it('points a missing key at its parent and an unknown key at itself', () => {
    expect(failure(() => parseDataText('items:\n  - name: a\n', 'x.yaml', Schema)).where).toBe('x.yaml:2');
    const unknownKey = failure(() => parseDataText('items:\n  - name: a\n    powerW: 1\n    colour: red\n', 'x.yaml', Schema));
    expect(unknownKey.where).toBe('x.yaml:4');
    expect(unknownKey.message).toMatch(/items\[0\]: .*colour/);
  });
  it('lists every problem when there are several', () => {
    const e = failure(() => parseDataText('items:\n  - name: a\n    powerW: .nan\n  - name: b\n    powerW: .inf\n', 'x.yaml', Schema));
    expect(e.where).toBe('x.yaml');
    expect(e.message).toMatch(/^2 problems:\n {2}x\.yaml:3: items\[0\]\.powerW: .*\n {2}x\.yaml:5: items\[1\]\.powerW: /);
  });
  it('reports YAML syntax errors with a line', () => {
    const e = failure(() => parseDataText('items:\n  - name: a\n   powerW: [1\n', 'x.yaml', Schema));
    expect(e.code).toBe('BAD_INPUT');
    expect(e.where).toMatch(/^x\.yaml:\d+:\d+$/);
    expect(e.message).toMatch(/^not valid YAML\/JSON/);
  });
  it('formats data paths', () => {
    expect(formatDataPath(['deals', 2, 'itMW'])).toBe('deals[2].itMW');
    expect(formatDataPath([0, 'model'])).toBe('[0].model');
    expect(formatDataPath([])).toBe('(root)');
  });
});
