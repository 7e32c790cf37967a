import { createHmac } from 'node:crypto';
import { verifyDigestAuthorization } from '../protocols/http-digest.js';

/**
 * Server side of HTTP Digest auth as lighttpd on a stock Antminer does it (MD5, qop=auth, realm
 * "antMiner Configuration"). Nonces are stateless: 8 hex digits of the issue time (wall seconds)
 * plus an HMAC over it and the miner's auth epoch, so 50,000 miners keep no nonce tables. Valid
 * credentials with a nonce that is older than the TTL, minted in an earlier epoch (auth-expiry
 * bumps it) or not ours get 401 with stale=true; wrong credentials get a plain 401. The header
 * check itself is the shared verifyDigestAuthorization (protocols/http-digest.ts).
 * Not checked: nc replay (lighttpd does not either).
 */
export const ANTMINER_REALM = 'antMiner Configuration';

export interface DigestPolicy {
  readonly realm: string;
  readonly username: string;
  readonly password: string;
  /** Per-miner secret for the nonce HMAC. */
  readonly secret: string;
  /** Nonce lifetime, wall ms. */
  readonly nonceTtlMs: number;
}

export type DigestCheck = { readonly ok: true } | { readonly ok: false; readonly stale: boolean; readonly reason: string };

function nonceMac(secret: string, epoch: number, tsHex: string): string {
  return createHmac('sha256', secret).update(`${epoch}:${tsHex}`).digest('hex').slice(0, 24);
}

/** A fresh nonce for the wall time `wallMs` (32 lower-case hex characters, like lighttpd's). */
export function issueNonce(policy: DigestPolicy, wallMs: number, epoch: number): string {
  const tsHex = Math.floor(wallMs / 1000)
    .toString(16)
    .padStart(8, '0');
  return tsHex + nonceMac(policy.secret, epoch, tsHex);
}

/** The WWW-Authenticate header value of a 401 challenge. */
export function challengeHeader(policy: DigestPolicy, wallMs: number, epoch: number, stale: boolean): string {
  return `Digest realm="${policy.realm}", charset="UTF-8", algorithm="MD5", nonce="${issueNonce(policy, wallMs, epoch)}", qop="auth"${stale ? ', stale="true"' : ''}`;
}

/** Verifies an Authorization header for `method` and the request `url` in the miner's current auth `epoch`. */
export function checkDigest(policy: DigestPolicy, header: string | undefined, method: string, url: string, wallMs: number, epoch: number): DigestCheck {
  const verdict = verifyDigestAuthorization(header, {
    method,
    realm: policy.realm,
    path: url,
    passwordFor: (u) => (u === policy.username ? policy.password : undefined),
    nonceValid: (nonce) => {
      if (!/^[0-9a-f]{32}$/.test(nonce) || nonceMac(policy.secret, epoch, nonce.slice(0, 8)) !== nonce.slice(8)) return false;
      return wallMs - Number.parseInt(nonce.slice(0, 8), 16) * 1000 <= policy.nonceTtlMs;
    },
  });
  return verdict.ok ? { ok: true } : { ok: false, stale: verdict.stale, reason: verdict.why };
}
