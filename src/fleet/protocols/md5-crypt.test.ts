import { describe, expect, it } from 'vitest';
import { md5Crypt, md5CryptHash } from './md5-crypt.js';

describe('md5Crypt ($1$)', () => {
  it('matches the vector published in the passlib md5_crypt documentation', () => {
    expect(md5Crypt('password', '3azHgidD')).toBe('$1$3azHgidD$SrJPt7B.9rekpmwJwtON31');
  });

  // Vectors below were computed with `openssl passwd -1 -salt <salt> <password>`.
  it.each([
    ['my-auth-password', 'BQ5hoXV9', '$1$BQ5hoXV9$WssMFDgz6KlzbAfbu9Jph/'],
    ['password', 'saltstring', '$1$saltstri$qQY4WxjABChYG1ccLpfkz/'], // salt cut at 8 chars
    ['', 'abc', '$1$abc$Or2rbeUYTvt12aiVzMuS/.'], // empty password
    ['a-very-long-password-with-more-than-sixteen-bytes', '12345678', '$1$12345678$Y2KmqcR1zbDvl1T5JpL0M0'],
    ['secret', 'xy', '$1$xy$mkJt1Ht8AivD6sawHd.Cf1'],
  ])('md5Crypt(%j, %j)', (pw, salt, expected) => {
    expect(md5Crypt(pw, salt)).toBe(expected);
  });

  it('accepts a $1$-prefixed salt and stops at the next $', () => {
    expect(md5Crypt('password', '$1$3azHgidD$whatever')).toBe('$1$3azHgidD$SrJPt7B.9rekpmwJwtON31');
  });

  it('md5CryptHash returns the part after the last $', () => {
    expect(md5CryptHash('password', '3azHgidD')).toBe('SrJPt7B.9rekpmwJwtON31');
  });
});
