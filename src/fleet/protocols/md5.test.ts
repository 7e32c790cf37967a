import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { md5 } from './md5.js';

/** Deterministic pseudo-random bytes (xorshift32) so the test is reproducible. */
function bytes(seed: number, n: number): Buffer {
  let x = seed | 0 || 1;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('md5 (JS)', () => {
  it('RFC 1321 test suite', () => {
    const v: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
    ];
    for (const [input, hex] of v) expect(md5(Buffer.from(input)).toString('hex')).toBe(hex);
  });

  it('agrees with node:crypto on every length 0..300 (block boundaries at 55/56/64)', () => {
    for (let n = 0; n <= 300; n++) {
      const b = bytes(n + 1, n);
      expect(md5(b).toString('hex'), `length ${n}`).toBe(createHash('md5').update(b).digest('hex'));
    }
  });
});
