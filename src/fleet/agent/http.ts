/**
 * The agent's HTTP API (default 127.0.0.1:8420):
 *   POST /v1/curtail  {"mw":X} | {"pct":P} | {"all":true}, optional "id"   → 202 new, 200 repeated id
 *   POST /v1/restore  {"id"?}                                              → 202 / 200
 *   GET  /v1/signals/ID[?waitMs=N]   the signal's timing; long-polls up to N ms (≤ 60 s) until settled
 *   GET  /v1/status                  last tick, decision, limits, miners by state, recent events
 *   GET  /metrics                    Prometheus text format
 * Errors are JSON {"error":{"code","message","where"}}: 400 bad input, 403 foreign Host/Origin,
 * 404, 405, 409 id conflict, 413 body too large, 415 not JSON, 503 too many waiters, 500.
 *
 * No authentication yet, so the edge refuses what a browser page or a rebinding DNS name could send:
 * a Host header that is not an address, localhost or a configured name (DNS rebinding), an Origin
 * or Sec-Fetch-Site from elsewhere (a page in the operator's browser), and POST bodies that are not
 * application/json (a cross-site form or text/plain "simple request"). It binds loopback unless told
 * otherwise (`allowNonLoopback`, logged loudly). Connections are capped so idle clients cannot take
 * the descriptors the miners need; bodies are capped at 64 KiB.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, isMulletError, MulletError, badInput } from '../../core/errors.js';
import { hostOf, isIpLiteral, isLoopbackHost } from '../../core/net.js';
import type { SiteAgent } from './agent.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.js';
import { curtailRequestSchema, restoreRequestSchema, SignalConflictError, signalTiming } from './signals.js';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_WAIT_MS = 60_000;

export interface AgentHttpOptions {
  /** Most open connections at once (idle keep-alives included); more are closed on arrival. */
  maxConnections?: number;
  /** Long-polls waiting at once; more get 503. */
  maxWaiters?: number;
  /** Host names the API may be reached by besides addresses and localhost (behind a proxy, say). */
  allowedHosts?: readonly string[];
  /** Permit a listen address other machines can reach (no authentication yet: logged as a warning). */
  allowNonLoopback?: boolean;
  log?: (line: string) => void;
}

export const AGENT_HTTP_DEFAULTS = { maxConnections: 64, maxWaiters: 256 };

export interface AgentHttpServer {
  /** Base URL, e.g. http://127.0.0.1:8420 */
  readonly url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly where?: string,
  ) {
    super(message);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, close = false): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > MAX_BODY_BYTES) return Promise.reject(new HttpError(413, 'BAD_INPUT', `body of ${declared} bytes is larger than ${MAX_BODY_BYTES} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      if (size > MAX_BODY_BYTES) return; // already refused: drain, do not keep
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'BAD_INPUT', `body larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve({});
      try {
        resolve(JSON.parse(text) as unknown);
      } catch {
        reject(new HttpError(400, 'BAD_INPUT', 'body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function zodProblem(issues: readonly { path: readonly PropertyKey[]; message: string }[]): HttpError {
  const i = issues[0];
  const where = i && i.path.length > 0 ? i.path.map(String).join('.') : undefined;
  return new HttpError(400, 'BAD_INPUT', i?.message ?? 'invalid body', where);
}

/**
 * Refuses requests a browser could be tricked into sending: a Host that is not ours (DNS
 * rebinding) and an Origin / Sec-Fetch-Site from another site (cross-site requests).
 */
export function checkRequestSource(headers: http.IncomingHttpHeaders, allowedHosts: ReadonlySet<string>): HttpError | null {
  const hostHeader = headers.host;
  if (hostHeader === undefined || hostHeader === '') return new HttpError(400, 'BAD_INPUT', 'missing Host header', 'Host');
  const host = hostOf(hostHeader);
  if (!isIpLiteral(host) && !isLoopbackHost(host) && !allowedHosts.has(host)) {
    return new HttpError(403, 'FORBIDDEN', `Host '${hostHeader}' is not an address of this agent (DNS rebinding?): use an IP address, localhost, or list the name in the agent's allowed hosts`, 'Host');
  }
  const origin = headers.origin;
  if (origin !== undefined && origin !== '') {
    let originHost: string;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      return new HttpError(403, 'FORBIDDEN', `unreadable Origin '${origin}'`, 'Origin');
    }
    if (originHost !== hostHeader.trim().toLowerCase()) return new HttpError(403, 'FORBIDDEN', `cross-origin request from '${origin}' refused`, 'Origin');
  }
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return new HttpError(403, 'FORBIDDEN', `cross-site request (Sec-Fetch-Site: ${String(site)}) refused`, 'Sec-Fetch-Site');
  return null;
}

/** Starts the API on host:port (port 0 picks a free one). */
export function startAgentHttp(agent: SiteAgent, listen: { host: string; port: number }, o: AgentHttpOptions = {}): Promise<AgentHttpServer> {
  const log = o.log ?? (() => undefined);
  if (!isLoopbackHost(listen.host)) {
    if (!o.allowNonLoopback) {
      throw badInput(
        `'${listen.host}' can be reached from other machines and the agent API has no authentication yet: anyone who reaches it can curtail or restore the site. Keep it on loopback (127.0.0.1) behind an authenticating proxy, or pass --allow-non-loopback to accept the risk`,
        '--listen',
      );
    }
    log(`WARNING: the agent API listens on ${listen.host}:${listen.port}, reachable from other machines, WITHOUT AUTHENTICATION: anyone who reaches it can curtail or restore this site`);
  }
  const allowedHosts = new Set((o.allowedHosts ?? []).map((h) => h.toLowerCase()));
  const limits = { ...AGENT_HTTP_DEFAULTS, ...o };
  let waiters = 0;
  const server = http.createServer((req, res) => {
    const refused = checkRequestSource(req.headers, allowedHosts);
    const done = refused ? Promise.reject(refused) : handle(agent, req, res, () => waiters < limits.maxWaiters, (d) => (waiters += d));
    void done.catch((err: unknown) => {
      if (err instanceof HttpError) {
        // A refused or oversized body is not read to its end: close the connection after the answer.
        const close = err.status === 413 || err.status === 403 || err.status === 415;
        send(res, err.status, { error: { code: err.code, message: err.message, ...(err.where ? { where: err.where } : {}) } }, close);
        if (close) res.once('finish', () => req.destroy());
        return;
      }
      if (err instanceof SignalConflictError) return send(res, 409, { error: { code: 'CONFLICT', message: err.message, where: 'id' } });
      if (isMulletError(err) && err.code === 'BAD_INPUT') return send(res, 400, { error: { code: err.code, message: err.message, ...(err.where ? { where: err.where } : {}) } });
      send(res, 500, { error: { code: isMulletError(err) ? err.code : 'INTERNAL', message: describeError(err) } });
    });
  });
  server.maxConnections = limits.maxConnections;
  server.requestTimeout = 90_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 64;
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new MulletError('IO', `cannot listen on ${listen.host}:${listen.port}: ${err.message}`, { where: '--listen', cause: err })));
    server.listen(listen.port, listen.host, () => {
      const a = server.address() as AddressInfo;
      const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      resolve({
        url: `http://${host}:${a.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

function requireJson(req: http.IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'application/json') throw new HttpError(415, 'BAD_INPUT', `send the body as Content-Type: application/json (got '${type || 'none'}')`, 'Content-Type');
}

async function handle(agent: SiteAgent, req: http.IncomingMessage, res: http.ServerResponse, mayWait: () => boolean, countWaiter: (delta: number) => void): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://agent');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const only = (m: string): void => {
    if (method !== m) throw new HttpError(405, 'BAD_INPUT', `${path} takes ${m}`);
  };
  if (path === '/v1/curtail') {
    only('POST');
    requireJson(req);
    const p = curtailRequestSchema.safeParse(await readBody(req));
    if (!p.success) throw zodProblem(p.error.issues);
    const { id, ...rest } = p.data;
    const spec = { kind: 'curtail' as const, ...(rest.mw !== undefined ? { mw: rest.mw } : {}), ...(rest.pct !== undefined ? { pct: rest.pct } : {}), ...(rest.all ? { all: true as const } : {}) };
    const r = agent.receiveSignal(spec, id, 'http');
    return send(res, r.duplicate ? 200 : 202, { duplicate: r.duplicate, signal: signalTiming(r.record) });
  }
  if (path === '/v1/restore') {
    only('POST');
    requireJson(req);
    const p = restoreRequestSchema.safeParse(await readBody(req));
    if (!p.success) throw zodProblem(p.error.issues);
    const r = agent.receiveSignal({ kind: 'restore' }, p.data.id, 'http');
    return send(res, r.duplicate ? 200 : 202, { duplicate: r.duplicate, signal: signalTiming(r.record) });
  }
  const sig = /^\/v1\/signals\/([^/]+)$/.exec(path);
  if (sig) {
    only('GET');
    let id: string;
    try {
      id = decodeURIComponent(sig[1] as string);
    } catch {
      throw new HttpError(400, 'BAD_INPUT', `signal id '${sig[1] as string}' is not valid percent-encoding`, 'id');
    }
    const waitText = url.searchParams.get('waitMs');
    const waitMs = waitText === null ? 0 : Number(waitText);
    if (!Number.isFinite(waitMs) || waitMs < 0) throw new HttpError(400, 'BAD_INPUT', `waitMs must be a number of ms >= 0, got '${waitText}'`, 'waitMs');
    if (waitMs > 0 && !mayWait()) throw new HttpError(503, 'BUSY', 'too many long-polls in progress; retry shortly or poll without waitMs');
    const ac = new AbortController();
    res.once('close', () => ac.abort());
    countWaiter(+1);
    let r;
    try {
      r = await agent.waitForSignal(id, Math.min(waitMs, MAX_WAIT_MS), ac.signal);
    } finally {
      countWaiter(-1);
    }
    if (!r) throw new HttpError(404, 'NOT_FOUND', `no signal with id '${id}'`);
    return send(res, 200, { signal: signalTiming(r) });
  }
  if (path === '/v1/status') {
    only('GET');
    return send(res, 200, agent.status());
  }
  if (path === '/metrics') {
    only('GET');
    const text = agent.metrics.registry.render();
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${path}; see /v1/status, /v1/curtail, /v1/restore, /v1/signals/ID, /metrics`);
}
