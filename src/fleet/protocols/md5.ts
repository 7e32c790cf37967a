/**
 * MD5 (RFC 1321) in plain JavaScript for short inputs. MD5-crypt hashes 1000 tiny messages per
 * derivation; going through node:crypto costs ~3 µs per call in binding overhead, this costs a
 * fraction of that, which decides how fast thousands of Whatsminer tokens can be derived.
 * Tested against node:crypto on random inputs (md5.test.ts). Not for anything security-relevant
 * beyond speaking the Whatsminer protocol.
 */
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;
const S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];

let scratch = new Int32Array(32);

/** MD5 digest of `input` (16 bytes). */
export function md5(input: Uint8Array): Buffer {
  const len = input.length;
  const nBlocks = ((len + 8) >>> 6) + 1;
  const nWords = nBlocks * 16;
  if (scratch.length < nWords) scratch = new Int32Array(nWords);
  const m = scratch;
  m.fill(0, 0, nWords);
  for (let i = 0; i < len; i++) m[i >> 2] = (m[i >> 2] as number) | ((input[i] as number) << ((i & 3) * 8));
  m[len >> 2] = (m[len >> 2] as number) | (0x80 << ((len & 3) * 8));
  m[nWords - 2] = (len * 8) | 0;
  m[nWords - 1] = Math.floor(len / 0x20000000) | 0;

  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  for (let blk = 0; blk < nWords; blk += 16) {
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      f = (f + a + (K[i] as number) + (m[blk + g] as number)) | 0;
      a = d;
      d = c;
      c = b;
      const s = S[i] as number;
      b = (b + ((f << s) | (f >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  const out = Buffer.allocUnsafe(16);
  out.writeInt32LE(a0, 0);
  out.writeInt32LE(b0, 4);
  out.writeInt32LE(c0, 8);
  out.writeInt32LE(d0, 12);
  return out;
}
