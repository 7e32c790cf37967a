/**
 * The agent's HTTP API (default 127.0.0.1:8420):
 *   POST /v1/curtail  {"mw":X} | {"pct":P} | {"all":true}, optional "id"   → 202 new, 200 repeated id
 *   POST /v1/restore  {"id"?}                                              → 202 / 200
 *   GET  /v1/signals/ID[?waitMs=N]   the signal's timing; long-polls up to N ms (≤ 60 s) until settled
 *   GET  /v1/status                  last tick, decision, limits, miners by state
 *   GET  /metrics                    Prometheus text format
 * Errors are JSON {"error":{"code","message","where"}}: 400 bad input, 404, 405, 409 id conflict,
 * 413 body too large, 500. Bodies are `unknown` until zod parses them. No authentication: keep it on
 * loopback or behind an authenticating proxy.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, isMulletError, MulletError } from '../../core/errors.js';
import type { SiteAgent } from './agent.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.js';
import { curtailRequestSchema, restoreRequestSchema, SignalConflictError, signalTiming } from './signals.js';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_WAIT_MS = 60_000;

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

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'BAD_INPUT', `body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
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

/** Starts the API on host:port (port 0 picks a free one). */
export function startAgentHttp(agent: SiteAgent, listen: { host: string; port: number }): Promise<AgentHttpServer> {
  const server = http.createServer((req, res) => {
    void handle(agent, req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return send(res, err.status, { error: { code: err.code, message: err.message, ...(err.where ? { where: err.where } : {}) } });
      if (err instanceof SignalConflictError) return send(res, 409, { error: { code: 'CONFLICT', message: err.message, where: 'id' } });
      if (isMulletError(err) && err.code === 'BAD_INPUT') return send(res, 400, { error: { code: err.code, message: err.message, ...(err.where ? { where: err.where } : {}) } });
      send(res, 500, { error: { code: isMulletError(err) ? err.code : 'INTERNAL', message: describeError(err) } });
    });
  });
  server.requestTimeout = 90_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
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

async function handle(agent: SiteAgent, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://agent');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const only = (m: string): void => {
    if (method !== m) throw new HttpError(405, 'BAD_INPUT', `${path} takes ${m}`);
  };
  if (path === '/v1/curtail') {
    only('POST');
    const p = curtailRequestSchema.safeParse(await readBody(req));
    if (!p.success) throw zodProblem(p.error.issues);
    const { id, ...rest } = p.data;
    const spec = { kind: 'curtail' as const, ...(rest.mw !== undefined ? { mw: rest.mw } : {}), ...(rest.pct !== undefined ? { pct: rest.pct } : {}), ...(rest.all ? { all: true as const } : {}) };
    const r = agent.receiveSignal(spec, id, 'http');
    return send(res, r.duplicate ? 200 : 202, { duplicate: r.duplicate, signal: signalTiming(r.record) });
  }
  if (path === '/v1/restore') {
    only('POST');
    const p = restoreRequestSchema.safeParse(await readBody(req));
    if (!p.success) throw zodProblem(p.error.issues);
    const r = agent.receiveSignal({ kind: 'restore' }, p.data.id, 'http');
    return send(res, r.duplicate ? 200 : 202, { duplicate: r.duplicate, signal: signalTiming(r.record) });
  }
  const sig = /^\/v1\/signals\/([^/]+)$/.exec(path);
  if (sig) {
    only('GET');
    const id = decodeURIComponent(sig[1] as string);
    const waitText = url.searchParams.get('waitMs');
    const waitMs = waitText === null ? 0 : Number(waitText);
    if (!Number.isFinite(waitMs) || waitMs < 0) throw new HttpError(400, 'BAD_INPUT', `waitMs must be a number of ms >= 0, got '${waitText}'`, 'waitMs');
    const ac = new AbortController();
    res.once('close', () => ac.abort());
    const r = await agent.waitForSignal(id, Math.min(waitMs, MAX_WAIT_MS), ac.signal);
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
