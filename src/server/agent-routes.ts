/**
 * The site agent's HTTP API on Hono, over the `AgentApi` interface (never the agent class):
 *   POST /v1/curtail  {"mw":X} | {"pct":P} | {"all":true}, optional "id"   → 202 new, 200 repeated id
 *   POST /v1/restore  {"id"?}                                              → 202 / 200
 *   GET  /v1/signals/ID[?waitMs=N]   the signal's timing; long-polls up to N ms (≤ 60 s) until settled
 *   GET  /v1/status                  last tick, decision, limits, miners by state, recent alerts
 *   GET  /v1/events                  the event stream (Server-Sent Events: recent alerts, then live)
 *   GET  /metrics                    Prometheus text format
 *   /v1/grid/...                     grid deployments, awards and evidence (grid-routes.ts), when given `grid`
 * Errors are JSON {"error":{"code","message","where"}} with the status from errors.ts.
 */
import { Hono, type Context } from 'hono';
import { MulletError } from '../core/errors.js';
import { curtailRequestSchema, restoreRequestSchema, type AgentApi } from '../fleet/agent/api.js';
import type { GridApi } from '../fleet/agent/grid.js';
import { PROMETHEUS_CONTENT_TYPE } from '../fleet/agent/metrics.js';
import { signalTiming, type SignalSpec } from '../fleet/agent/signals.js';
import { errorBody, HttpProblem, httpStatusFor, parse } from './errors.js';
import { eventStream } from './event-stream.js';
import { registerGridRoutes } from './grid-routes.js';
import { cappedBodies, jsonBody, jsonWrites, sameSiteOnly, securityHeaders } from './guards.js';

export const MAX_WAIT_MS = 60_000;

export interface AgentRoutesOptions {
  /** Host names the API may be reached by besides addresses and localhost. */
  allowedHosts?: readonly string[];
  /** Long-polls and event streams at once; more get 503. */
  maxWaiters?: number;
  /** Grid services (deployments, awards, evidence) under /v1/grid. */
  grid?: GridApi;
}


/** The Hono app of the agent API (tests call `app.request()` without a socket). */
export function agentRoutes(api: AgentApi, o: AgentRoutesOptions = {}): Hono {
  const app = new Hono();
  let waiting = 0;
  const maxWaiters = o.maxWaiters ?? 256;
  const slot = (): (() => void) => {
    if (waiting >= maxWaiters) throw new HttpProblem(503, 'IO', 'too many long-polls and streams in progress; retry shortly or poll without waitMs');
    waiting++;
    let released = false;
    return () => {
      if (!released) waiting--;
      released = true;
    };
  };
  app.onError((err, c) => c.json(errorBody(err), httpStatusFor(err) as 400));
  app.notFound((c) => c.json(errorBody(new MulletError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}; see /v1/status, /v1/curtail, /v1/restore, /v1/signals/ID, /v1/events, /metrics`)), 404));
  app.use('*', securityHeaders(), sameSiteOnly(o.allowedHosts), cappedBodies(), jsonWrites());

  const signal = async (c: Context, spec: SignalSpec, id: string | undefined) => {
    const r = await api.receiveSignal(spec, id, 'http');
    return c.json({ duplicate: r.duplicate, signal: signalTiming(r.record) }, r.duplicate ? 200 : 202);
  };
  app.post('/v1/curtail', async (c) => {
    const { id, ...rest } = parse(curtailRequestSchema, await jsonBody(c.req));
    const spec: SignalSpec = { kind: 'curtail', ...(rest.mw !== undefined ? { mw: rest.mw } : {}), ...(rest.pct !== undefined ? { pct: rest.pct } : {}), ...(rest.all ? { all: true as const } : {}) };
    return signal(c, spec, id);
  });
  app.post('/v1/restore', async (c) => signal(c, { kind: 'restore' }, parse(restoreRequestSchema, await jsonBody(c.req)).id));
  app.get('/v1/signals/:id', async (c) => {
    let id: string;
    try {
      id = decodeURIComponent(c.req.path.slice('/v1/signals/'.length));
    } catch {
      throw new MulletError('BAD_INPUT', `signal id '${c.req.path.slice('/v1/signals/'.length)}' is not valid percent-encoding`, { where: 'id' });
    }
    const waitText = c.req.query('waitMs');
    const waitMs = waitText === undefined ? 0 : Number(waitText);
    if (!Number.isFinite(waitMs) || waitMs < 0) throw new MulletError('BAD_INPUT', `waitMs must be a number of ms >= 0, got '${waitText ?? ''}'`, { where: 'waitMs' });
    const release = waitMs > 0 ? slot() : () => undefined;
    try {
      const r = await api.waitForSignal(id, Math.min(waitMs, MAX_WAIT_MS), c.req.raw.signal);
      if (!r) throw new MulletError('NOT_FOUND', `no signal with id '${id}'`);
      return c.json({ signal: signalTiming(r) });
    } finally {
      release();
    }
  });
  app.get('/v1/status', (c) => c.json(api.status()));
  // Snapshot first (the recent alerts in status), then every event as it happens; a slow client is dropped.
  app.get('/v1/events', (c) => eventStream(c, api, slot()));
  app.get('/metrics', (c) => c.body(api.metricsText(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE }));
  if (o.grid) registerGridRoutes(app, o.grid);
  app.all('/v1/curtail', () => {
    throw new HttpProblem(405, 'BAD_INPUT', '/v1/curtail takes POST');
  });
  app.all('/v1/restore', () => {
    throw new HttpProblem(405, 'BAD_INPUT', '/v1/restore takes POST');
  });
  return app;
}
