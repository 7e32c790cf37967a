/**
 * A small HTTP/1.1 client with Digest access authentication (RFC 7616, and RFC 2617's MD5 with
 * qop=auth), written for miner web UIs: stock Antminer CGI (lighttpd, realm "antMiner
 * Configuration", default user root/root), over the hand-framed HTTP/1.1 of http1.ts. A request
 * has its own socket unless the caller passes an HttpSession (a command and its read-back sharing
 * one connection, closed by the caller), so a fleet call never leaves sockets behind. Every request
 * has a connect and read deadline and honours the call's AbortSignal.
 *
 * Annotated example — `GET /cgi-bin/get_miner_conf.cgi` without credentials:
 *
 *   HTTP/1.1 401 Unauthorized
 *   WWW-Authenticate: Digest realm="antMiner Configuration",   ← realm goes into HA1
 *                     nonce="5d4e…", qop="auth",               ← server nonce; we send nc + cnonce
 *                     algorithm="MD5", opaque="…"             ← echoed back untouched
 *
 * then the retry with
 *   Authorization: Digest username="root", realm="antMiner Configuration", nonce="5d4e…",
 *     uri="/cgi-bin/get_miner_conf.cgi", algorithm=MD5, qop=auth, nc=00000001,
 *     cnonce="0a4f113b", response="<hex(H(HA1:nonce:nc:cnonce:qop:HA2))>", opaque="…"
 * answers 200 with the JSON body. The challenge is cached per client so later requests send
 * credentials up front (nc increments); a 401 with stale=true refreshes the nonce once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostPort, type CallContext } from './call.js';
import { MinerError } from './errors.js';
import { httpExchange, type HttpRequestSpec, type HttpResponse, type HttpSession } from './http1.js';

// ---------------------------------------------------------------------------------------------
// Digest computation (pure; shared by the client, the replay server and the simulator)

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** Offered qop values, lower-cased (e.g. ['auth', 'auth-int']); empty for RFC 2069 servers. */
  qop: string[];
  algorithm: DigestAlgorithm;
  opaque?: string;
  stale: boolean;
}

/** Parses `key=value, key="quoted, value"` auth-params (quoted strings may contain escapes). */
export function parseAuthParams(s: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  for (let m = re.exec(s); m !== null && m[0] !== ''; m = re.exec(s)) {
    const key = (m[1] ?? '').toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    out.set(key, value);
  }
  return out;
}

/** Reads the Digest challenge from a WWW-Authenticate header; null if none or unusable. */
export function parseDigestChallenge(header: string | string[] | undefined): DigestChallenge | null {
  const all = Array.isArray(header) ? header : header === undefined ? [] : [header];
  for (const h of all) {
    const at = h.search(/\bDigest\s+/i);
    if (at < 0) continue;
    const params = parseAuthParams(h.slice(at).replace(/^Digest\s+/i, ''));
    const realm = params.get('realm');
    const nonce = params.get('nonce');
    if (realm === undefined || nonce === undefined) continue;
    const algo = (params.get('algorithm') ?? 'MD5').toUpperCase();
    const algorithm: DigestAlgorithm | null =
      algo === 'MD5' ? 'MD5' : algo === 'MD5-SESS' ? 'MD5-sess' : algo === 'SHA-256' ? 'SHA-256' : algo === 'SHA-256-SESS' ? 'SHA-256-sess' : null;
    if (!algorithm) continue;
    const qop = (params.get('qop') ?? '')
      .split(',')
      .map((q) => q.trim().toLowerCase())
      .filter((q) => q !== '');
    const opaque = params.get('opaque');
    return { realm, nonce, qop, algorithm, ...(opaque === undefined ? {} : { opaque }), stale: (params.get('stale') ?? '').toLowerCase() === 'true' };
  }
  return null;
}

function hashHex(algorithm: DigestAlgorithm, data: string): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(data, 'utf8')
    .digest('hex');
}

export interface DigestInputs {
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  algorithm: DigestAlgorithm;
  /** 'auth' or undefined (RFC 2069 compatibility: no nc/cnonce). */
  qop: 'auth' | undefined;
  /** Nonce count, 1-based. */
  nc: number;
  cnonce: string;
}

/**
 * H(username:realm:password), remembered for the last credentials: a fleet shares one login and
 * realm, so a controller signing thousands of requests (and the simulator checking them) hashes it
 * once instead of per request.
 */
let lastHa1: { key: string; ha1: string } | null = null;
function credentialHash(i: DigestInputs): string {
  const key = `${i.algorithm}\0${i.username}\0${i.realm}\0${i.password}`;
  if (lastHa1?.key !== key) lastHa1 = { key, ha1: hashHex(i.algorithm, `${i.username}:${i.realm}:${i.password}`) };
  return lastHa1.ha1;
}

/** The request-digest ("response") value, lower-case hex. */
export function digestResponse(i: DigestInputs): string {
  let ha1 = credentialHash(i);
  if (i.algorithm.endsWith('-sess')) ha1 = hashHex(i.algorithm, `${ha1}:${i.nonce}:${i.cnonce}`);
  const ha2 = hashHex(i.algorithm, `${i.method}:${i.uri}`);
  return i.qop
    ? hashHex(i.algorithm, `${ha1}:${i.nonce}:${ncHex(i.nc)}:${i.cnonce}:${i.qop}:${ha2}`)
    : hashHex(i.algorithm, `${ha1}:${i.nonce}:${ha2}`);
}

function ncHex(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

function quote(s: string): string {
  return `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

/** Builds the Authorization header value for a challenge. */
export function digestAuthorization(i: DigestInputs, opaque?: string): string {
  const parts = [
    `username=${quote(i.username)}`,
    `realm=${quote(i.realm)}`,
    `nonce=${quote(i.nonce)}`,
    `uri=${quote(i.uri)}`,
    `algorithm=${i.algorithm}`,
    `response=${quote(digestResponse(i))}`,
  ];
  if (i.qop) parts.push(`qop=${i.qop}`, `nc=${ncHex(i.nc)}`, `cnonce=${quote(i.cnonce)}`);
  if (opaque !== undefined) parts.push(`opaque=${quote(opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

export interface DigestVerifyOptions {
  method: string;
  realm: string;
  /** Password for a user name, or undefined for an unknown user. */
  passwordFor: (username: string) => string | undefined;
  /** Whether the server issued this nonce and it is still fresh. */
  nonceValid: (nonce: string) => boolean;
  /** Request path the client asked for; the `uri` parameter must match it. */
  path: string;
}

export type DigestVerdict = { ok: true; username: string } | { ok: false; stale: boolean; why: string };

/** Server side: checks an Authorization header (used by the replay server and the simulator). */
export function verifyDigestAuthorization(header: string | undefined, o: DigestVerifyOptions): DigestVerdict {
  if (!header || !/^Digest\s+/i.test(header)) return { ok: false, stale: false, why: 'no digest credentials' };
  const p = parseAuthParams(header.replace(/^Digest\s+/i, ''));
  const username = p.get('username');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
    return { ok: false, stale: false, why: 'incomplete credentials' };
  }
  if (p.get('realm') !== o.realm) return { ok: false, stale: false, why: 'wrong realm' };
  if (uri !== o.path) return { ok: false, stale: false, why: 'uri does not match the request' };
  const password = o.passwordFor(username);
  if (password === undefined) return { ok: false, stale: false, why: 'unknown user' };
  const algoRaw = (p.get('algorithm') ?? 'MD5').toUpperCase();
  const algorithm: DigestAlgorithm = algoRaw === 'MD5-SESS' ? 'MD5-sess' : algoRaw === 'SHA-256' ? 'SHA-256' : algoRaw === 'SHA-256-SESS' ? 'SHA-256-sess' : 'MD5';
  const qop = p.get('qop') === 'auth' ? 'auth' : undefined;
  const nc = parseInt(p.get('nc') ?? '1', 16);
  const expected = digestResponse({ username, password, realm: o.realm, nonce, method: o.method, uri, algorithm, qop, nc: Number.isFinite(nc) ? nc : 1, cnonce: p.get('cnonce') ?? '' });
  if (expected !== response.toLowerCase()) return { ok: false, stale: false, why: 'wrong password' };
  if (!o.nonceValid(nonce)) return { ok: false, stale: true, why: 'stale nonce' };
  return { ok: true, username };
}

// ---------------------------------------------------------------------------------------------
// Client

export interface DigestCredentials {
  username: string;
  password: string;
}

/**
 * Digest-authenticating HTTP client for one device. Holds the last challenge so requests after
 * the first carry credentials up front. Final 401 → AUTH MinerError (permanent: wrong password).
 */
export class DigestHttpClient {
  private challenge: DigestChallenge | null = null;
  private nc = 0;

  constructor(
    private readonly creds: DigestCredentials,
    private readonly cnonce: () => string = () => randomBytes(8).toString('hex'),
  ) {}

  /** One request, on `session`'s connection when given (kept open for the next), else its own. */
  async request(ctx: CallContext, spec: HttpRequestSpec, session?: HttpSession): Promise<HttpResponse> {
    const where = `http://${hostPort(spec.host, spec.port)}${spec.path}`;
    const send = (s: HttpRequestSpec): Promise<HttpResponse> => (session ? session.request(ctx, s) : httpExchange(ctx, s));
    let res = await send(this.withAuth(spec));
    if (res.status === 401) {
      const fresh = parseDigestChallenge(res.headers['www-authenticate']);
      if (!fresh) throw new MinerError('auth', 'HTTP 401 without a usable Digest challenge', { where, statusCode: 401 });
      // The same nonce rejected without stale=true means bad credentials; anything else (first
      // contact, expired cached nonce) is worth exactly one more try.
      const sent = this.challenge;
      const rejectedSame = sent !== null && sent.nonce === fresh.nonce && !fresh.stale;
      if (!rejectedSame) {
        this.challenge = fresh;
        this.nc = 0;
        res = await send(this.withAuth(spec));
      }
    }
    if (res.status === 401) {
      this.challenge = null;
      throw new MinerError('auth', `credentials rejected for user '${this.creds.username}'`, { where, statusCode: 401 });
    }
    return res;
  }

  private withAuth(spec: HttpRequestSpec): HttpRequestSpec {
    const ch = this.challenge;
    if (!ch) return spec;
    const qop = ch.qop.length === 0 ? undefined : ch.qop.includes('auth') ? 'auth' : undefined;
    this.nc += 1;
    const auth = digestAuthorization(
      { username: this.creds.username, password: this.creds.password, realm: ch.realm, nonce: ch.nonce, method: spec.method, uri: spec.path, algorithm: ch.algorithm, qop, nc: this.nc, cnonce: this.cnonce() },
      ch.opaque,
    );
    return { ...spec, headers: { ...spec.headers, Authorization: auth } };
  }
}
