import { createHash } from 'node:crypto';
import { md5 } from './md5.js';

/**
 * MD5-crypt (`$1$`), Poul-Henning Kamp's FreeBSD algorithm, as `openssl passwd -1 -salt S PW`
 * computes it. Whatsminer API v2 derives its AES key and command signature from it.
 * Example: md5Crypt('password', '3azHgidD') === '$1$3azHgidD$SrJPt7B.9rekpmwJwtON31'.
 */
const MAGIC = '$1$';
const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The full `$1$salt$hash` string. The salt is cut at 8 characters or the first '$'. */
export function md5Crypt(password: string, salt: string): string {
  const pw = Buffer.from(password, 'utf8');
  const cleanSalt = (salt.startsWith(MAGIC) ? salt.slice(MAGIC.length) : salt).split('$')[0]?.slice(0, 8) ?? '';
  const sl = Buffer.from(cleanSalt, 'utf8');

  const alt = createHash('md5').update(pw).update(sl).update(pw).digest();
  const ctx = createHash('md5').update(pw).update(MAGIC).update(sl);
  for (let pl = pw.length; pl > 0; pl -= 16) ctx.update(alt.subarray(0, Math.min(16, pl)));
  // The original C code passes `final` after zeroing it, i.e. a NUL byte, on odd bits.
  for (let i = pw.length; i > 0; i >>= 1) ctx.update(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let fin: Buffer = ctx.digest();

  // The 1000 rounds dominate the cost; a JS MD5 on a reused buffer avoids ~3 µs of binding
  // overhead per round, which matters when a controller derives thousands of tokens at once.
  const buf = Buffer.allocUnsafe(2 * pw.length + sl.length + 16);
  for (let i = 0; i < 1000; i++) {
    let n = (i & 1 ? pw : fin).copy(buf, 0);
    if (i % 3) n += sl.copy(buf, n);
    if (i % 7) n += pw.copy(buf, n);
    n += (i & 1 ? fin : pw).copy(buf, n);
    fin = md5(buf.subarray(0, n));
  }

  const b = (i: number): number => fin[i] as number;
  let out = '';
  const to64 = (v: number, n: number): void => {
    for (let k = 0; k < n; k++) {
      out += ITOA64[v & 0x3f];
      v >>>= 6;
    }
  };
  to64((b(0) << 16) | (b(6) << 8) | b(12), 4);
  to64((b(1) << 16) | (b(7) << 8) | b(13), 4);
  to64((b(2) << 16) | (b(8) << 8) | b(14), 4);
  to64((b(3) << 16) | (b(9) << 8) | b(15), 4);
  to64((b(4) << 16) | (b(10) << 8) | b(5), 4);
  to64(b(11), 2);
  return `${MAGIC}${cleanSalt}$${out}`;
}

/** Only the hash part after the last '$' (what `... | cut -f 4 -d '$'` gives). */
export function md5CryptHash(password: string, salt: string): string {
  const full = md5Crypt(password, salt);
  return full.slice(full.lastIndexOf('$') + 1);
}
