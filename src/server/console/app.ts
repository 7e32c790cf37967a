/**
 * The console API as a Hono app, built from the route table: every request is authenticated
 * (session cookie or `Authorization: Bearer` key; 401 on every route but login and health, unknown
 * paths included), parsed against the route's zod schemas, authorized (role, site scope, session
 * vs key), handled, and — when it is a write — recorded in the audit log with its result, whether
 * it succeeded, failed or was refused. `mountConsole` puts it on an existing app (`mullet ops`).
 */
import type { Context, Hono as HonoApp, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { describeError, isMulletError, MulletError } from '../../core/errors.js';
import { actorName, RateLimitedError, type Principal } from '../../console/auth-service.js';
import { FailureLimiter } from '../../console/rate-limit.js';
import type { AuditResult } from '../../console/audit.js';
import { errorBody, httpStatusFor } from '../errors.js';
import { cappedBodies, jsonBody, jsonWrites, sameSiteOnly, securityHeaders } from '../guards.js';
import { isWrite, route, type AnyRoute, type AuditNote } from './define.js';
import { openApiDocument } from './openapi.js';
import { consoleRoutes, type ConsoleDeps } from './routes.js';
import { opsConsoleRoutes } from './ops-routes.js';
import { alertConsoleRoutes } from './alert-routes.js';
import { fleetRoutes } from './fleet-routes.js';
import { dealsRoutes } from './deals-routes.js';
import { industryRoutes, type IndustryDeps } from './industry-routes.js';
import { strategyRoutes, type StrategyDeps } from './strategy-routes.js';
import { sessionToken } from './session-cookie.js';
import { z } from 'zod';

export const CONSOLE_API_BASE = '/api/v1';

/** What the fleet, analyst and strategy pages need beyond `ConsoleDeps` (each optional: its routes say what is missing). */
export type PagesDeps = Omit<IndustryDeps, 'clock'> & StrategyDeps;
const API_VERSION = '1.0.0';

export interface ConsoleApiOptions {
  /** Host names the console may be reached by besides addresses and localhost (behind a proxy). */
  allowedHosts?: readonly string[];
  /** Where failures of the audit log itself and internal errors are reported. */
  log?: (line: string) => void;
}

function clientAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

function parsePart<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: z.ZodError } }, raw: unknown, part: string): T {
  const p = schema.safeParse(raw);
  if (p.success) return p.data;
  const i = p.error.issues[0];
  const where = i && i.path.length > 0 ? i.path.map(String).join('.') : part;
  throw new MulletError('BAD_INPUT', `${part}: ${i?.message ?? 'invalid'}`, { where });
}

/** Strips secrets from a request before it is recorded. */
function redact(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) out[k] = /password|secret|token/i.test(k) ? '(redacted)' : v;
  return out;
}

/** Headers of every console reply beyond the shared ones: nothing may embed or script it. */
function consoleHeaders(secure: boolean): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
    c.header('cross-origin-opener-policy', 'same-origin');
    c.header('cross-origin-resource-policy', 'same-origin');
    if (secure) c.header('strict-transport-security', 'max-age=31536000');
  };
}

/** The console API (relative paths; mount under /api/v1). Tests call `.request()` on it. */
export function consoleApi(d: ConsoleDeps & PagesDeps, o: ConsoleApiOptions = {}, base = CONSOLE_API_BASE): Hono {
  const log = o.log ?? (() => undefined);
  const site = d.agent.siteName;
  // Writes refused for a bad credential (401) are recorded at most 20 per address per 15 min: a
  // flood of forged keys must not grow the append-only log (a key cannot be guessed anyway).
  const unauthenticatedWrites = new FailureLimiter({ maxFailures: 20, windowMs: 15 * 60_000 });
  const routes = [...consoleRoutes(d), ...(d.ops ? opsConsoleRoutes(d.ops) : []), ...(d.alerts ? alertConsoleRoutes(d.alerts) : []), ...fleetRoutes(d), ...industryRoutes(d), ...strategyRoutes(d), ...dealsRoutes()];
  let doc: unknown;
  routes.push(
    route({
      method: 'get',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This API as an OpenAPI 3.1 document (generated from the route schemas)',
      tag: 'session',
      access: { kind: 'authenticated' },
      replies: { 200: { description: 'the OpenAPI document', schema: z.object({ openapi: z.string() }).loose() } },
      handler: ({ c }) => c.json((doc ??= openApiDocument(routes, { base, title: 'Mullet console', version: API_VERSION })) as Record<string, unknown>),
    }),
  );

  const errorResponse = (c: Context, err: unknown): Response => {
    if (!isMulletError(err)) {
      log(`console: internal error on ${c.req.method} ${c.req.path}: ${describeError(err)}`);
      return c.json({ error: { code: 'INTERNAL', message: 'internal error (see the server log)' } }, 500);
    }
    const status = err instanceof RateLimitedError ? 429 : httpStatusFor(err);
    if (err instanceof RateLimitedError) c.header('retry-after', String(err.retryAfterS));
    if (status === 401) c.header('www-authenticate', 'Bearer realm="mullet"');
    return c.json(errorBody(err), status as 400);
  };

  /** The caller, or AUTH; `credentialed` says whether any credential was presented. */
  const authenticate = async (c: Context, state: { credentialed: boolean }): Promise<Principal> => {
    const authz = c.req.header('authorization');
    if (authz !== undefined) {
      state.credentialed = true;
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
      if (!m) throw new MulletError('AUTH', 'send the API key as `Authorization: Bearer mlt_…`', { where: 'Authorization' });
      return d.auth.keyPrincipal(m[1] as string);
    }
    const token = sessionToken(c, d.secureCookies);
    if (token !== undefined) {
      state.credentialed = true;
      const p = await d.auth.sessionPrincipal(token);
      if (!p) throw new MulletError('AUTH', 'the session has expired or ended: log in again', { where: 'cookie' });
      return p;
    }
    throw new MulletError('AUTH', `log in (POST ${base}/login) or send \`Authorization: Bearer <API key>\``);
  };

  const authorize = (r: AnyRoute, p: Principal): void => {
    const a = r.access;
    if (a.kind === 'public') return;
    if (a.session && p.kind === 'key') throw new MulletError('FORBIDDEN', `${r.operationId} needs a logged-in user (a session), not an API key`);
    if (a.kind === 'permission') d.auth.require(p, a.permission, a.onSite ? site : undefined);
  };

  const record = async (r: AnyRoute, c: Context, res: Response, p: Principal | null, note: AuditNote, err: unknown): Promise<void> => {
    const status = res.status;
    const result: AuditResult = status < 400 ? 'ok' : status === 401 || status === 403 || status === 429 ? 'denied' : 'failed';
    const detail: Record<string, unknown> = {};
    if (note.detail !== undefined) detail.request = redact(note.detail);
    if (err !== null) detail.error = isMulletError(err) ? describeError(err) : 'internal error';
    if (p?.kind === 'key') detail.key = p.name;
    try {
      await d.auth.store.appendAudit({
        atMs: d.clock.nowMs(),
        actorType: note.actor?.type ?? (p ? p.kind : 'anonymous'),
        actor: note.actor?.name ?? (p ? actorName(p) : 'anonymous'),
        action: r.operationId,
        scope: note.scope ?? (r.access.kind === 'permission' && r.access.onSite ? site : p ? (p.grant.site ?? '*') : '*'),
        target: note.target ?? null,
        result,
        status,
        correlationId: note.correlationId ?? null,
        detail: Object.keys(detail).length > 0 ? JSON.stringify(detail).slice(0, 4096) : null,
        ip: clientAddress(c),
      });
    } catch (e) {
      // The action has happened (or been refused): the reply stands; the operator must hear of the gap.
      log(`AUDIT LOG WRITE FAILED for ${r.operationId} by ${p ? actorName(p) : 'anonymous'} (status ${status}): ${describeError(e)}`);
    }
  };

  const handlerFor =
    (r: AnyRoute) =>
    async (c: Context): Promise<Response> => {
      const note: AuditNote = {};
      const state = { credentialed: false };
      let principal: Principal | null = null;
      let res: Response;
      let error: unknown = null;
      try {
        if (r.access.kind !== 'public') principal = await authenticate(c, state);
        const params = r.params ? parsePart(r.params, c.req.param(), 'path') : {};
        const query = r.query ? parsePart(r.query, c.req.query(), 'query') : {};
        const body = r.body ? parsePart(r.body, await jsonBody(c.req), 'body') : undefined;
        if (body !== undefined) {
          note.detail = body;
          const id = (body as { id?: unknown }).id;
          if (typeof id === 'string') note.correlationId = id;
        }
        if (principal) authorize(r, principal);
        res = await r.handler({ c, principal, params, query, body, audit: note, address: clientAddress(c) });
      } catch (err) {
        error = err;
        res = errorResponse(c, err);
      }
      // Writes by anyone who presented a credential (or tried to log in) are recorded; a bare
      // request with no credential at all did nothing and names nobody: 401, not recorded.
      // A lock-out is recorded once, not every refused retry (a flood must not grow the log).
      const repeatLockout = error instanceof RateLimitedError && !error.first;
      let flood = false;
      if (res.status === 401 && isWrite(r.method) && r.access.kind !== 'public') {
        const addr = clientAddress(c);
        const now = d.clock.nowMs();
        flood = unauthenticatedWrites.retryAfterMs(addr, now) > 0;
        if (!flood) unauthenticatedWrites.fail(addr, now);
      }
      if (isWrite(r.method) && !repeatLockout && !flood && (principal !== null || state.credentialed || r.access.kind === 'public')) await record(r, c, res, principal, note, error);
      return res;
    };

  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err));
  app.use('*', consoleHeaders(d.secureCookies), securityHeaders(), sameSiteOnly(o.allowedHosts), cappedBodies(), jsonWrites());
  for (const r of routes) app.on(r.method.toUpperCase(), r.path, handlerFor(r));
  // Wrong method on a known path: 405, unknown path: 404 — both only after authentication, so a
  // stranger learns nothing of the API's shape.
  const known = new Map<string, string[]>();
  for (const r of routes) known.set(r.path, [...(known.get(r.path) ?? []), r.method.toUpperCase()]);
  for (const [path, methods] of known) {
    app.all(path, async (c) => {
      try {
        await authenticate(c, { credentialed: false });
        c.header('allow', methods.join(', '));
        return c.json(errorBody(new MulletError('BAD_INPUT', `${c.req.path} takes ${methods.join(', ')}`)), 405);
      } catch (err) {
        return errorResponse(c, err);
      }
    });
  }
  app.all('*', async (c) => {
    try {
      await authenticate(c, { credentialed: false });
      return c.json(errorBody(new MulletError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}; see GET ${base}/openapi.json`)), 404);
    } catch (err) {
      return errorResponse(c, err);
    }
  });
  return app;
}

/**
 * Mounts the console API on an existing Hono app under `base` (default /api/v1) — how `mullet serve`
 * and `mullet ops` serve it next to whatever else they serve. Returns the mounted sub-app.
 */
export function mountConsole(app: HonoApp, deps: ConsoleDeps & PagesDeps, o: ConsoleApiOptions & { base?: string } = {}): Hono {
  const base = o.base ?? CONSOLE_API_BASE;
  const api = consoleApi(deps, o, base);
  app.route(base, api);
  return api;
}
