import { MulletError, badInput, isMulletError, type ErrorCode } from '../core/errors.js';

/**
 * The one HTTP client every outbound call uses (market fetchers, the agent's price feed, the CLI
 * talking to an agent): one request per attempt under a deadline
 * (AbortSignal.any of the caller's signal and AbortSignal.timeout), typed MulletErrors, and retries
 * with exponential backoff and jitter for transient failures only.
 *
 *   TIMEOUT  deadline passed                   transient
 *   NETWORK  refused / reset / DNS             transient
 *   PROTOCOL 429 and 5xx                        transient
 *   AUTH     401, 403                           permanent
 *   PROTOCOL other 4xx, body too large          permanent
 *   PARSE    body is not the expected JSON      permanent
 *   ABORTED  the caller's signal fired          permanent (never retried)
 *
 * The wire is behind `Transport`, so tests replay recorded responses without a network.
 */

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Fires on the caller's abort or the per-attempt deadline; the transport must honour it. */
  signal: AbortSignal;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
}

export interface HttpResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Sends one request; throws on transport failure (classified by the client), never retries. */
export interface Transport {
  send(req: HttpRequest): Promise<HttpResponse>;
}

export interface RetryPolicy {
  /** Total tries including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 8_000 };
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/** A server's Retry-After is honoured up to this, in ms; beyond it we would rather fail. */
const MAX_RETRY_AFTER_MS = 60_000;

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface RetryInfo {
  url: string;
  attempt: number;
  delayMs: number;
  error: MulletError;
}

export interface HttpClientDeps {
  transport?: Transport;
  retry?: Partial<RetryPolicy>;
  sleep?: Sleep;
  /** Uniform [0, 1); injected so backoff jitter is deterministic in tests. */
  random?: () => number;
  userAgent?: string;
  defaultTimeoutMs?: number;
  maxBytes?: number;
  onRetry?: (info: RetryInfo) => void;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Deadline per attempt (connect + headers + body), ms. */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface HttpClient {
  fetchText(url: string, opts?: RequestOptions): Promise<string>;
  /** Parsed JSON as `unknown`: the caller validates it with a schema. */
  fetchJson(url: string, opts?: RequestOptions): Promise<unknown>;
  fetchBytes(url: string, opts?: RequestOptions): Promise<Uint8Array>;
  /** POST application/x-www-form-urlencoded, JSON answer. The form never appears in errors. */
  postFormJson(url: string, form: Record<string, string>, opts?: RequestOptions): Promise<unknown>;
  /**
   * One JSON exchange, no retries and no status handling: for callers that read their peer's error
   * bodies and own their retry loop (the CLI and a Mullet agent). Transport failures are classified
   * as everywhere else (TIMEOUT, NETWORK, ABORTED); the status and the parsed body come back
   * whatever the status (PARSE when the body is not JSON).
   */
  exchangeJson(method: HttpMethod, url: string, body: unknown, opts?: RequestOptions): Promise<{ status: number; body: unknown }>;
}

/** The real wire: Node's global fetch (undici), redirects followed, body read under the signal. */
export const fetchTransport: Transport = {
  async send(req) {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body === undefined ? {} : { body: req.body }),
      signal: req.signal,
      redirect: 'follow',
    });
    const body = await readCapped(res, req.maxBytes, req.url);
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    return { status: res.status, headers, body };
  },
};

async function readCapped(res: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw tooLarge(url, maxBytes);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(url, maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function tooLarge(url: string, maxBytes: number): MulletError {
  return new MulletError('PROTOCOL', `response larger than ${maxBytes} bytes`, { where: url, transient: false });
}

/** Abortable sleep; rejects with ABORTED when the signal fires. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function aborted(signal: AbortSignal | undefined, where?: string): MulletError {
  return new MulletError('ABORTED', 'cancelled', { cause: signal?.reason, transient: false, ...(where ? { where } : {}) });
}

/** Equal-jitter exponential backoff: half the capped exponential step plus a random half. */
export function backoffDelayMs(failedAttempt: number, policy: RetryPolicy, random: () => number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** The peer answered with a non-2xx status; carries the status and any Retry-After wait. */
export class HttpStatusError extends MulletError {
  constructor(
    code: ErrorCode,
    message: string,
    where: string,
    transient: boolean,
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(code, message, { where, transient });
  }
}

/** Maps an HTTP status to an error (undefined for 2xx): 401/403 AUTH, 429/5xx transient, other 4xx permanent. */
export function statusError(res: HttpResponse, url: string): HttpStatusError | undefined {
  const { status } = res;
  if (status >= 200 && status < 300) return undefined;
  const snippet = textSnippet(res.body);
  const detail = `HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
  let code: ErrorCode = 'PROTOCOL';
  let transient = false;
  if (status === 401 || status === 403) code = 'AUTH';
  else if (status === 429 || status >= 500) transient = true;
  return new HttpStatusError(code, detail, url, transient, status, retryAfterMs(res.headers));
}

function textSnippet(body: Uint8Array): string {
  const text = new TextDecoder().decode(body.subarray(0, 300)).replace(/\s+/g, ' ').trim();
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

function networkCode(err: unknown): string | undefined {
  // undici wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }).
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function retryAfterMs(headers: Record<string, string>): number | undefined {
  const raw = headers['retry-after'];
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : undefined;
}

export function decodeUtf8(body: Uint8Array): string {
  const text = new TextDecoder('utf-8').decode(body);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Builds a client; every dependency is injectable (transport, sleep, random). */
export function createHttpClient(deps: HttpClientDeps = {}): HttpClient {
  const transport = deps.transport ?? fetchTransport;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry };
  const sleep = deps.sleep ?? realSleep;
  const random = deps.random ?? Math.random;
  const maxBytes = deps.maxBytes ?? DEFAULT_MAX_BYTES;
  const userAgent = deps.userAgent ?? 'mullet/0.1';

  async function attempt(method: HttpMethod, url: string, body: string | undefined, opts: RequestOptions, extraHeaders: Record<string, string>): Promise<HttpResponse> {
    const res = await sendOnce(method, url, body, opts, extraHeaders);
    const failure = statusError(res, url);
    if (failure) throw failure;
    return res;
  }

  async function sendOnce(method: HttpMethod, url: string, body: string | undefined, opts: RequestOptions, extraHeaders: Record<string, string>): Promise<HttpResponse> {
    checkUrl(url);
    const timeoutMs = opts.timeoutMs ?? deps.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const headers = { 'user-agent': userAgent, ...extraHeaders, ...opts.headers };
    let res: HttpResponse;
    try {
      res = await transport.send({ method, url, headers, ...(body === undefined ? {} : { body }), signal, maxBytes });
    } catch (err) {
      if (isMulletError(err)) throw err;
      if (opts.signal?.aborted) throw aborted(opts.signal, url);
      if (deadline.aborted) {
        throw new MulletError('TIMEOUT', `no complete answer within ${timeoutMs} ms`, { where: url, cause: err });
      }
      const code = networkCode(err);
      const host = safeHost(url);
      throw new MulletError('NETWORK', `cannot reach ${host}${code ? ` (${code})` : ''}`, { where: url, cause: err });
    }
    return res;
  }

  async function withRetry(method: HttpMethod, url: string, body: string | undefined, opts: RequestOptions, extraHeaders: Record<string, string>): Promise<HttpResponse> {
    for (let n = 1; ; n++) {
      try {
        return await attempt(method, url, body, opts, extraHeaders);
      } catch (err) {
        if (!isMulletError(err) || !err.transient || n >= policy.attempts || opts.signal?.aborted) {
          throw n > 1 && isMulletError(err) && err.transient ? gaveUp(err, n) : err;
        }
        const serverWait = err instanceof HttpStatusError ? (err.retryAfterMs ?? 0) : 0;
        const delayMs = Math.max(backoffDelayMs(n, policy, random), serverWait);
        deps.onRetry?.({ url, attempt: n, delayMs, error: err });
        await sleep(delayMs, opts.signal);
      }
    }
  }

  return {
    async fetchText(url, opts = {}) {
      return decodeUtf8((await withRetry('GET', url, undefined, opts, {})).body);
    },
    async fetchJson(url, opts = {}) {
      const res = await withRetry('GET', url, undefined, opts, { accept: 'application/json' });
      return parseJsonBody(res.body, url);
    },
    async fetchBytes(url, opts = {}) {
      return (await withRetry('GET', url, undefined, opts, {})).body;
    },
    async postFormJson(url, form, opts = {}) {
      const body = new URLSearchParams(form).toString();
      const res = await withRetry('POST', url, body, opts, {
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
      });
      return parseJsonBody(res.body, url);
    },
    async exchangeJson(method, url, body, opts = {}) {
      const headers: Record<string, string> = { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
      const res = await sendOnce(method, url, body === undefined ? undefined : JSON.stringify(body), opts, headers);
      // 204 No Content (a PATCH many BMCs answer with) has no body to parse.
      return { status: res.status, body: res.body.byteLength === 0 ? null : parseJsonBody(res.body, url) };
    },
  };
}

function gaveUp(err: MulletError, attempts: number): MulletError {
  return new MulletError(err.code, `${err.message} (gave up after ${attempts} attempts)`, {
    cause: err,
    transient: err.transient,
    ...(err.where === undefined ? {} : { where: err.where }),
  });
}

function parseJsonBody(body: Uint8Array, url: string): unknown {
  const text = decodeUtf8(body);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new MulletError('PARSE', `expected JSON, got: ${textSnippet(body) || '(empty body)'}`, { where: url, cause: err });
  }
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw badInput(`not a valid URL: '${url}'`, url, err);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw badInput(`only http and https URLs are supported, got '${parsed.protocol}'`, url);
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Joins a base URL (with or without trailing slash) and a path starting with '/'. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}
