/**
 * Password hashing and bearer secrets. Passwords: scrypt (memory-hard; node:crypto, no native
 * dependency), stored as `scrypt$N$r$p$salt$hash` so the cost can rise without breaking old hashes.
 * Session tokens and API key secrets are 256-bit random values: a fast SHA-256 of them is what is
 * stored (a brute force of 2^256 needs no slow hash), compared in constant time.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { MulletError } from '../core/errors.js';

export interface ScryptParams {
  /** CPU/memory cost (power of two); memory ≈ 128 · N · r bytes. */
  N: number;
  r: number;
  p: number;
}

/**
 * N=2^15, r=8, p=1: 32 MiB and ~0.1 s per hash on one core. OWASP lists N=2^17 (128 MiB); we keep
 * 32 MiB so a few logins at once cannot take the memory the agent needs, and cap concurrent
 * verifications in the service. Stored hashes carry their parameters: raising them later is safe.
 */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
/** For tests only: cheap enough to hash hundreds of passwords a second. */
export const TEST_SCRYPT: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };

const KEY_LEN = 32;
export const MIN_PASSWORD_CHARS = 10;
/** Longer inputs are refused before hashing (scrypt cost grows with input; nobody types 1 KiB). */
export const MAX_PASSWORD_CHARS = 1024;

function derive(password: string, salt: Buffer, p: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LEN, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 }, (err, key) => (err ? reject(new MulletError('INTERNAL', `scrypt failed: ${err.message}`, { cause: err })) : resolve(key)));
  });
}

/** Checks a new password's length (the only rule: length beats composition rules). */
export function checkPasswordPolicy(password: string): void {
  if (password.length < MIN_PASSWORD_CHARS) throw new MulletError('BAD_INPUT', `a password needs at least ${MIN_PASSWORD_CHARS} characters`, { where: 'password' });
  if (password.length > MAX_PASSWORD_CHARS) throw new MulletError('BAD_INPUT', `a password has at most ${MAX_PASSWORD_CHARS} characters`, { where: 'password' });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** True when `password` matches `stored`; false for a malformed hash (never throws on bad input). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_CHARS) return false;
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!m) return false;
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (params.N > 2 ** 20 || params.r > 32 || params.p > 16) return false;
  const want = Buffer.from(m[5] as string, 'base64url');
  const got = await derive(password, Buffer.from(m[4] as string, 'base64url'), params);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A hash of a random password: verified against when a login names no known user, so the reply takes as long. */
export function dummyHash(params: ScryptParams): Promise<string> {
  return hashPassword(randomBytes(18).toString('base64url'), params);
}

/** A 256-bit random token, base64url (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 hex of a high-entropy secret (session tokens, key secrets): what is stored. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

const KEY_PREFIX = 'mlt';
/** `mlt_<12 hex id>_<43 base64url secret>`: the id finds the row, the secret proves possession. */
const KEY_RE = /^mlt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function newApiKey(): { id: string; secret: string; key: string } {
  const id = randomBytes(6).toString('hex');
  const secret = newToken();
  return { id, secret, key: `${KEY_PREFIX}_${id}_${secret}` };
}

export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const m = KEY_RE.exec(key);
  return m ? { id: m[1] as string, secret: m[2] as string } : undefined;
}
