/**
 * Whatsminer (MicroBT btminer) API v2 on TCP 4028. Reads are plaintext; writes are AES-256-ECB
 * encrypted with a key derived from the admin password and a per-token salt.
 *
 * Message codes (Whatsminer API v2.0.x): 14 invalid API command or data, 23 invalid JSON
 * message ("enc json load err"), 45 permission denied ("can't access write cmd": write API off),
 * 131 command OK, 132 command error, 134 get token message OK, 135 check token error,
 * 136 token over max times, 137 base64 decode error. One IP may hold 32 tokens, 16 IPs at most;
 * a token lives 30 minutes.
 *
 * Annotated example — `{"cmd":"get_token"}` (M31S, API "whatsminer v1.1"):
 *   {"STATUS":"S","When":1608417125,"Code":134,          ← STATUS is a bare string here
 *    "Msg":{"time":"6915",                              ← short string, not an epoch
 *           "salt":"BQ5hoXV9","newsalt":"a5TtWui2"},
 *    "Description":"whatsminer v1.1"}
 * key  = md5crypt(password, salt) hash part                (`openssl passwd -1 -salt $salt $pw`)
 * sign = md5crypt(key + time, newsalt) hash part           ("token" of the command)
 * aes  = AES-256-ECB with key SHA-256(key); plaintext NUL-padded to 16 bytes
 * request: {"enc":1,"data":base64(aes(JSON {"cmd":"power_off","respbefore":"true","token":sign}))}
 * reply:   {"enc":"<base64>"} → decrypts to
 *   {"STATUS":"S","When":1608417125,"Code":131,"Msg":"","Description":"whatsminer v1.1"}\0\0…
 * `{"cmd":"status"}` → {"STATUS":"S","Code":131,"Msg":{"btmineroff":"true",...}} (newer firmware:
 * "mineroff", "power_mode", "power_limit_set":"3600" W, all strings).
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import type { Clock } from '../../core/time.js';
import { checkCall, type CallContext } from './call.js';
import { cgminerCommand, cgminerRaw, checkStatus, parseReplyText, readStatus, type CgminerEndpoint, type CgminerReply } from './cgminer.js';
import { isMinerError, MinerError } from './errors.js';
import { md5CryptHash } from './md5-crypt.js';
import { trimEndNul } from './text.js';
import { isObj, str, type Obj } from './values.js';

export const WM_CODE = {
  invalidCommand: 14,
  invalidJson: 23,
  permissionDenied: 45,
  ok: 131,
  error: 132,
  tokenOk: 134,
  tokenCheckError: 135,
  tokenOverMax: 136,
  base64Error: 137,
} as const;

/** Default token reuse window, ms (tokens live 30 min on the miner). */
export const WM_TOKEN_REUSE_MS = 25 * 60_000;

export interface WhatsminerToken {
  time: string;
  salt: string;
  newsalt: string;
}

export interface WhatsminerKeys {
  /** md5crypt(password, salt) hash part. */
  key: string;
  /** SHA-256 of `key`: the AES-256 key. */
  aesKey: Buffer;
  /** md5crypt(key + time, newsalt) hash part: the command token. */
  sign: string;
}

/** Derives the AES key and command signature from the admin password and a token. */
export function whatsminerKeys(password: string, token: WhatsminerToken, known?: Pick<WhatsminerKeys, 'key' | 'aesKey'>): WhatsminerKeys {
  // The salt is fixed per device, so `key` (one md5-crypt) can be reused across tokens.
  const key = known?.key ?? md5CryptHash(password, token.salt);
  const aesKey = known?.aesKey ?? createHash('sha256').update(key, 'utf8').digest();
  return { key, aesKey, sign: md5CryptHash(key + token.time, token.newsalt) };
}

/** AES-256-ECB, NUL-padded to the block size, base64 (what btminer expects). */
export function aesEncryptBase64(aesKey: Buffer, plaintext: string): string {
  const data = Buffer.from(plaintext, 'utf8');
  const padded = Buffer.alloc(Math.ceil(Math.max(1, data.length) / 16) * 16, 0);
  data.copy(padded);
  const c = createCipheriv('aes-256-ecb', aesKey, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(padded), c.final()]).toString('base64');
}

/** Decrypts a base64 AES-256-ECB payload and strips the NUL padding. */
export function aesDecryptBase64(aesKey: Buffer, b64: string): string {
  const data = Buffer.from(b64, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) throw new Error(`ciphertext length ${data.length} is not a multiple of 16`);
  const d = createDecipheriv('aes-256-ecb', aesKey, null);
  d.setAutoPadding(false);
  return trimEndNul(Buffer.concat([d.update(data), d.final()]).toString('utf8'));
}

/** Reads `Msg` of a get_token reply; null when malformed (e.g. Msg "over max connect"). */
export function parseToken(body: Obj): WhatsminerToken | null {
  const msg = body.Msg;
  if (!isObj(msg)) return null;
  const time = str(msg.time);
  const salt = str(msg.salt);
  const newsalt = str(msg.newsalt);
  return time !== null && salt !== null && newsalt !== null ? { time, salt, newsalt } : null;
}

export interface WhatsminerClientOptions {
  clock: Clock;
  password: string;
  tokenReuseMs?: number;
}

export class WhatsminerClient {
  private keys: WhatsminerKeys | null = null;
  private keysAtMs = -Infinity;
  private saltKeys: { salt: string; key: string; aesKey: Buffer } | undefined;

  constructor(
    readonly ep: CgminerEndpoint,
    private readonly o: WhatsminerClientOptions,
  ) {}

  private get where(): string {
    return `${this.ep.host}:${this.ep.port ?? 4028}`;
  }

  /** A plaintext v2 read command (`{"cmd":...}`), e.g. status, get_version. */
  read(ctx: CallContext, cmd: string): Promise<CgminerReply> {
    return cgminerCommand(this.ep, cmd, { key: 'cmd' }, ctx);
  }

  /** A classic cgminer read (`{"command":...}`), accepted by every firmware generation. */
  readClassic(ctx: CallContext, command: string): Promise<CgminerReply> {
    return cgminerCommand(this.ep, command, {}, ctx);
  }

  async getToken(ctx: CallContext): Promise<WhatsminerToken> {
    const r = await cgminerCommand(this.ep, 'get_token', { key: 'cmd', allowError: true }, ctx);
    const token = parseToken(r.body);
    if (r.status.letter === 'S' && token) return token;
    const msg = typeof r.status.msg === 'string' ? r.status.msg : JSON.stringify(r.status.msg);
    if (r.status.code === WM_CODE.tokenOverMax || /over max/i.test(msg)) {
      throw new MinerError('status', `get_token refused: ${msg} (too many tokens; they expire after 30 min)`, { where: this.where, statusCode: r.status.code ?? WM_CODE.tokenOverMax, reason: 'token-over-max', transient: true });
    }
    throw new MinerError('auth', `get_token failed: ${msg}`, { where: this.where, ...(r.status.code === null ? {} : { statusCode: r.status.code }), reason: 'token' });
  }

  /** Fetches a token now (if none is fresh) so the next write is a single round trip. */
  async prepare(ctx: CallContext): Promise<void> {
    checkCall(ctx, this.where);
    await this.ensureKeys(ctx);
  }

  private async ensureKeys(ctx: CallContext): Promise<WhatsminerKeys> {
    const age = this.o.clock.nowMs() - this.keysAtMs;
    if (this.keys && age < (this.o.tokenReuseMs ?? WM_TOKEN_REUSE_MS)) return this.keys;
    const token = await this.getToken(ctx);
    const known = this.saltKeys?.salt === token.salt ? this.saltKeys : undefined;
    this.keys = whatsminerKeys(this.o.password, token, known);
    this.saltKeys = { salt: token.salt, key: this.keys.key, aesKey: this.keys.aesKey };
    this.keysAtMs = this.o.clock.nowMs();
    return this.keys;
  }

  /**
   * An encrypted (privileged) command. A "check token error" (135) refreshes the token once.
   * Codes: 45 → PROTOCOL access-denied (write API disabled), 136 → transient, 132 → PROTOCOL.
   */
  async privileged(ctx: CallContext, cmd: string, params: Record<string, string> = {}): Promise<CgminerReply> {
    for (let attempt = 0; ; attempt++) {
      const keys = await this.ensureKeys(ctx);
      const plaintext = JSON.stringify({ cmd, ...params, token: keys.sign });
      const envelope = JSON.stringify({ enc: 1, data: aesEncryptBase64(keys.aesKey, plaintext) });
      const { text, complete, where } = await cgminerRaw(ctx, this.ep, envelope);
      const outer = parseReplyText(text, where, complete);
      let body: Obj = outer;
      if (typeof outer.enc === 'string') {
        let decrypted: string;
        try {
          decrypted = aesDecryptBase64(keys.aesKey, outer.enc);
        } catch (err) {
          throw new MinerError('garbage', `cannot decrypt reply: ${(err as Error).message}`, { where, cause: err });
        }
        body = parseReplyText(decrypted, where, true);
      }
      const status = readStatus(body);
      if (status?.code === WM_CODE.tokenCheckError && attempt === 0) {
        this.keys = null; // token expired or the miner rebooted: fetch a fresh one
        checkCall(ctx, where);
        continue;
      }
      try {
        return { command: cmd, status: checkStatus({ command: cmd, status, body }, where), body };
      } catch (err) {
        throw classify(err, status?.code ?? null);
      }
    }
  }

  /** `power_off`; respbefore answers before the hashboards stop (otherwise the reply can be lost). */
  powerOff(ctx: CallContext, respbefore = true): Promise<CgminerReply> {
    return this.privileged(ctx, 'power_off', { respbefore: respbefore ? 'true' : 'false' });
  }

  powerOn(ctx: CallContext): Promise<CgminerReply> {
    return this.privileged(ctx, 'power_on');
  }

  /** `adjust_power_limit`, W (the miner restarts its mining process to apply it). */
  adjustPowerLimit(ctx: CallContext, watts: number): Promise<CgminerReply> {
    return this.privileged(ctx, 'adjust_power_limit', { power_limit: String(Math.round(watts)) });
  }
}

function classify(err: unknown, code: number | null): unknown {
  if (!isMinerError(err) || err.fault !== 'status') return err;
  if (code === WM_CODE.tokenCheckError) return new MinerError('auth', `${err.message}: check token error (wrong admin password?)`, { where: err.where ?? '', statusCode: code, reason: 'token' });
  if (code === WM_CODE.tokenOverMax) return new MinerError('status', err.message, { where: err.where ?? '', statusCode: code, reason: 'token-over-max', transient: true });
  if (code === WM_CODE.permissionDenied) return new MinerError('status', `${err.message} (enable API write access in WhatsMinerTool)`, { where: err.where ?? '', statusCode: code, reason: 'access-denied' });
  return err;
}
