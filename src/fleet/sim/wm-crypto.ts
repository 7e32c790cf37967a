import { createHash } from 'node:crypto';
import { md5CryptHash } from '../protocols/md5-crypt.js';
import { aesDecryptBase64, aesEncryptBase64 } from '../protocols/whatsminer.js';

/**
 * Whatsminer API v2 privileged-command crypto, server side (the AES and md5-crypt primitives are
 * the client's, in protocols/):
 *   key   = md5crypt(adminPassword, salt) hash part          (salt is fixed per device)
 *   aes   = AES-256-ECB with sha256(key) as the 32-byte key, plaintext NUL-padded to 16 bytes
 *   sign  = md5crypt(key + time, newsalt) hash part          (the token the client puts in commands)
 * Requests arrive as {"enc":1,"data":base64(aes(json))}; replies go back as {"enc":base64(aes(json))}.
 */
export function whatsminerKey(password: string, salt: string): string {
  return md5CryptHash(password, salt);
}

/** AES-256 key bytes for a derived `key` string. */
export function whatsminerAesKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The token a client derives from get_token's time/newsalt. */
export function whatsminerSign(key: string, time: string, newsalt: string): string {
  return md5CryptHash(key + time, newsalt);
}

/** Encrypts text as the firmware does (NUL padding to the block size), base64. */
export function whatsminerEncrypt(aesKey: Buffer, plaintext: string): string {
  return aesEncryptBase64(aesKey, plaintext);
}

export type DecryptResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: 'base64' | 'cipher' };

/** Decrypts a base64 AES-256-ECB payload; tells a base64 problem (137) from a cipher one (23). */
export function whatsminerDecrypt(aesKey: Buffer, b64: string): DecryptResult {
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(b64)) return { ok: false, reason: 'base64' };
  const len = Buffer.from(b64, 'base64').length;
  if (len === 0 || len % 16 !== 0) return { ok: false, reason: 'base64' };
  try {
    return { ok: true, text: aesDecryptBase64(aesKey, b64) };
  } catch {
    return { ok: false, reason: 'cipher' };
  }
}
