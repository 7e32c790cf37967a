/**
 * Every route of the console API (under `/api/v1`), described once. The agent's operations
 * (status, events, curtail, restore, signals) call the `AgentApi` interface, never the agent;
 * identity and audit call `AuthService`. Writes are audited by the app (`app.ts`); handlers only
 * add what they know (target, scope, correlation id, the request without secrets).
 */
import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import type { Clock } from '../../core/time.js';
import { ACTOR_TYPES, AUDIT_RESULTS, auditCsv, auditEntrySchema, MAX_AUDIT_PAGE } from '../../console/audit.js';
import { keyView, userView, type AuthService, type Principal } from '../../console/auth-service.js';
import { roleSchema, scopeOf, siteNameSchema } from '../../console/roles.js';
import { createdKeySchema, durationMs, durationSchema, iso, keyIdSchema, keyViewSchema, principalViewSchema, userNameSchema, userViewSchema } from '../../console/views.js';
import { agentStatusSchema, curtailRequestSchema, restoreRequestSchema, type AgentApi } from '../../fleet/agent/api.js';
import { PROMETHEUS_CONTENT_TYPE } from '../../fleet/agent/metrics.js';
import { signalId, signalReplySchema, signalTiming, type SignalSpec } from '../../fleet/agent/signals.js';
import { HttpProblem } from '../errors.js';
import type { OpsConsoleApi } from '../../ops/api.js';
import type { AlertsApi } from '../../alerts/service.js';
import { route, type AnyRoute } from './define.js';
import { eventStream } from '../event-stream.js';
import { clearSessionCookie, setSessionCookie } from './session-cookie.js';
import { gridConsoleRoutes } from './grid-routes.js';
import type { GridApi } from '../../fleet/agent/grid.js';

export const MAX_WAIT_MS = 60_000;

export interface ConsoleDeps {
  agent: AgentApi;
  auth: AuthService;
  clock: Clock;
  /** Cookies marked Secure (and `__Host-` prefixed): the server speaks TLS. */
  secureCookies: boolean;
  /** Long-polls and event streams at once; more get 503. */
  maxWaiters?: number;
  /** `mullet ops`: its figures under /ops (status, ledger, market). */
  ops?: OpsConsoleApi;
  /** Alert history and rules under /alerts and /alert-rules. */
  alerts?: AlertsApi;
  /** Grid services (deployments, awards, evidence) under /grid; absent: no grid routes. */
  grid?: GridApi;
}

const healthSchema = z.object({ status: z.literal('ok'), site: z.string(), setup: z.string().nullable() });
const loginSchema = z.strictObject({ name: z.string().min(1).max(64), password: z.string().min(1).max(1024) });
const newUserSchema = z.strictObject({ name: userNameSchema, password: z.string().min(1).max(1024), role: roleSchema, site: siteNameSchema.nullable().default(null) });
const userPatchSchema = z.strictObject({ role: roleSchema.optional(), site: siteNameSchema.nullable().optional(), disabled: z.boolean().optional(), password: z.string().min(1).max(1024).optional() });
const newKeySchema = z.strictObject({ name: z.string().min(1).max(64), role: roleSchema, site: siteNameSchema.nullable().default(null), expires: durationSchema.optional() });
const auditQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().describe('entries at or after this instant (ISO 8601)'),
  to: z.iso.datetime({ offset: true }).optional().describe('entries before this instant (ISO 8601)'),
  actor: z.string().max(128).optional(),
  actorType: z.enum(ACTOR_TYPES).optional(),
  action: z.string().max(64).optional(),
  result: z.enum(AUDIT_RESULTS).optional(),
  site: z.string().max(128).optional().describe("a site's entries ('*' for those not bound to a site)"),
  correlationId: z.string().max(128).optional(),
  beforeId: z.coerce.number().int().positive().optional().describe('paging: entries older than this id'),
  limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(1000),
  format: z.enum(['json', 'csv']).default('json'),
});
const waitQuerySchema = z.strictObject({ waitMs: z.coerce.number().min(0).optional().describe(`long poll: wait up to this many ms (at most ${MAX_WAIT_MS}) for the signal to settle`) });

function principalView(auth: AuthService, p: Principal): z.infer<typeof principalViewSchema> {
  return { kind: p.kind, name: p.kind === 'key' ? `${p.name} (key ${p.keyId})` : p.name, role: p.grant.role, site: p.grant.site, permissions: auth.permissionsOf(p.grant), expiresAt: iso(p.expiresAtMs) };
}

/** The console routes over `deps` (relative paths; the app mounts them under /api/v1). */
export function consoleRoutes(d: ConsoleDeps): AnyRoute[] {
  const site = d.agent.siteName;
  let waiting = 0;
  const maxWaiters = d.maxWaiters ?? 256;
  const slot = (): (() => void) => {
    if (waiting >= maxWaiters) throw new HttpProblem(503, 'IO', 'too many long-polls and streams in progress; retry shortly');
    waiting++;
    let released = false;
    return () => {
      if (!released) waiting--;
      released = true;
    };
  };
  const signal = async (spec: SignalSpec, id: string | undefined, p: Principal | null, audit: { correlationId?: string; scope?: string; detail?: unknown }, c: { json: (b: unknown, s: 200 | 202) => Response }) => {
    const who = p === null ? 'console' : p.kind === 'key' ? `console:key:${p.keyId}` : `console:user:${p.name}`;
    audit.scope = site;
    const r = await d.agent.receiveSignal(spec, id, who);
    audit.correlationId = r.record.id;
    return c.json({ duplicate: r.duplicate, signal: signalTiming(r.record) }, r.duplicate ? 200 : 202);
  };

  return [
    route({
      method: 'get',
      path: '/health',
      operationId: 'health',
      summary: 'Liveness; says when no user exists yet (how to create the first admin)',
      tag: 'session',
      access: { kind: 'public' },
      replies: { 200: { description: 'the server is up', schema: healthSchema } },
      handler: async ({ c }) => c.json({ status: 'ok' as const, site, setup: (await d.auth.hasUsers()) ? null : 'no user yet: on the server, run `mullet users add NAME --role admin --db FILE` (the same --db as `mullet serve`), then log in' }),
    }),
    route<Record<string, never>, Record<string, never>, z.infer<typeof loginSchema>>({
      method: 'post',
      path: '/login',
      operationId: 'auth.login',
      summary: 'Log in with a name and password: sets the session cookie (HttpOnly, SameSite=Strict)',
      tag: 'session',
      access: { kind: 'public' },
      body: loginSchema,
      replies: { 200: { description: 'logged in', schema: z.object({ me: principalViewSchema }) }, 401: { description: 'wrong user name or password' }, 429: { description: 'too many failed logins: see Retry-After' } },
      handler: async ({ c, body, audit, address }) => {
        audit.actor = { type: 'anonymous', name: body.name.slice(0, 64) };
        audit.detail = { name: body.name.slice(0, 64) };
        const r = await d.auth.login(body.name, body.password, address);
        audit.actor = { type: 'user', name: r.user.name };
        audit.scope = r.user.site ?? '*';
        setSessionCookie(c, r.token, d.auth.sessionTtl, d.secureCookies);
        const p = await d.auth.sessionPrincipal(r.token);
        return c.json({ me: principalView(d.auth, p as Principal) });
      },
    }),
    route({
      method: 'post',
      path: '/logout',
      operationId: 'auth.logout',
      summary: 'End this session (clears the cookie)',
      tag: 'session',
      access: { kind: 'authenticated' },
      replies: { 200: { description: 'logged out', schema: z.object({ ok: z.literal(true) }) } },
      handler: async ({ c, principal }) => {
        if (principal?.kind === 'user') await d.auth.store.deleteSession(principal.sessionHash);
        clearSessionCookie(c, d.secureCookies);
        return c.json({ ok: true as const });
      },
    }),
    route({
      method: 'get',
      path: '/me',
      operationId: 'me',
      summary: 'Who is asking: role, scope, permissions, session or key expiry',
      tag: 'session',
      access: { kind: 'authenticated' },
      replies: { 200: { description: 'the caller', schema: principalViewSchema } },
      handler: ({ c, principal }) => c.json(principalView(d.auth, principal as Principal)),
    }),
    route({
      method: 'get',
      path: '/status',
      operationId: 'site.status',
      summary: "The site agent's status: last tick, decision and limits, miners by state, AI loads, alerts",
      tag: 'site',
      access: { kind: 'permission', permission: 'site:read', onSite: true },
      replies: { 200: { description: 'the status document', schema: agentStatusSchema } },
      handler: ({ c }) => c.json(d.agent.status()),
    }),
    route({
      method: 'get',
      path: '/events',
      operationId: 'site.events',
      summary: 'Live events (Server-Sent Events): a status snapshot, then every agent event; slow clients dropped',
      tag: 'site',
      access: { kind: 'permission', permission: 'site:read', onSite: true },
      replies: { 200: { description: "event: snapshot (the status document), then tick, signal, miner, safe-mode, alert (the agent's event schema); event: dropped when too slow", contentType: 'text/event-stream' } },
      handler: ({ c }) => eventStream(c, d.agent, slot()),
    }),
    route({
      method: 'get',
      path: '/metrics',
      operationId: 'site.metrics',
      summary: "The agent's metrics in Prometheus text format (scrape with a viewer key)",
      tag: 'site',
      access: { kind: 'permission', permission: 'site:read', onSite: true },
      replies: { 200: { description: 'Prometheus text exposition', contentType: PROMETHEUS_CONTENT_TYPE } },
      handler: ({ c }) => c.body(d.agent.metricsText(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE }),
    }),
    route<Record<string, never>, Record<string, never>, z.infer<typeof curtailRequestSchema>>({
      method: 'post',
      path: '/curtail',
      operationId: 'site.curtail',
      summary: 'Curtail mining: by MW, by percent, or all (idempotent by id)',
      description: 'Exactly one of mw, pct or all. The same id again returns the first result (200, duplicate); the same id with another request is 409.',
      tag: 'site',
      access: { kind: 'permission', permission: 'site:signal', onSite: true },
      body: curtailRequestSchema,
      replies: { 202: { description: 'received; see its timing', schema: signalReplySchema }, 200: { description: 'a duplicate of an earlier signal', schema: signalReplySchema }, 409: { description: 'the id was used with another request' } },
      handler: ({ c, body, principal, audit }) => {
        const { id, ...rest } = body;
        audit.detail = body;
        const spec: SignalSpec = { kind: 'curtail', ...(rest.mw !== undefined ? { mw: rest.mw } : {}), ...(rest.pct !== undefined ? { pct: rest.pct } : {}), ...(rest.all ? { all: true as const } : {}) };
        return signal(spec, id, principal, audit, c);
      },
    }),
    route<Record<string, never>, Record<string, never>, z.infer<typeof restoreRequestSchema>>({
      method: 'post',
      path: '/restore',
      operationId: 'site.restore',
      summary: 'Restore mining (most efficient first, in paced batches; idempotent by id)',
      tag: 'site',
      access: { kind: 'permission', permission: 'site:signal', onSite: true },
      body: restoreRequestSchema,
      replies: { 202: { description: 'received', schema: signalReplySchema }, 200: { description: 'a duplicate', schema: signalReplySchema } },
      handler: ({ c, body, principal, audit }) => {
        audit.detail = body;
        return signal({ kind: 'restore' }, body.id, principal, audit, c);
      },
    }),
    route<{ id: string }, z.infer<typeof waitQuerySchema>>({
      method: 'get',
      path: '/signals/:id',
      operationId: 'site.signal',
      summary: "A signal's phases and timing (optionally waiting for it to settle)",
      tag: 'site',
      access: { kind: 'permission', permission: 'signals:read', onSite: true },
      params: z.object({ id: signalId }),
      query: waitQuerySchema,
      replies: { 200: { description: 'the signal', schema: z.object({ signal: signalReplySchema.shape.signal }) }, 404: { description: 'no such signal' } },
      handler: async ({ c, params, query }) => {
        const waitMs = Math.min(query.waitMs ?? 0, MAX_WAIT_MS);
        const release = waitMs > 0 ? slot() : () => undefined;
        try {
          const r = await d.agent.waitForSignal(params.id, waitMs, c.req.raw.signal);
          if (!r) throw new MulletError('NOT_FOUND', `no signal with id '${params.id}'`, { where: 'id' });
          return c.json({ signal: signalTiming(r) });
        } finally {
          release();
        }
      },
    }),
    route<Record<string, never>, z.infer<typeof auditQuerySchema>>({
      method: 'get',
      path: '/audit',
      operationId: 'audit.list',
      summary: 'The audit log, newest first, filtered; `format=csv` for CSV',
      tag: 'audit',
      access: { kind: 'permission', permission: 'audit:read' },
      query: auditQuerySchema,
      replies: { 200: { description: 'entries (JSON {entries}, or text/csv with format=csv)', schema: z.object({ entries: z.array(auditEntrySchema) }) } },
      handler: async ({ c, query: q, principal }) => {
        const entries = await d.auth.readAudit(principal as Principal, {
          ...(q.from !== undefined ? { fromMs: Date.parse(q.from) } : {}),
          ...(q.to !== undefined ? { toMs: Date.parse(q.to) } : {}),
          ...(q.actor !== undefined ? { actor: q.actor } : {}),
          ...(q.actorType !== undefined ? { actorType: q.actorType } : {}),
          ...(q.action !== undefined ? { action: q.action } : {}),
          ...(q.result !== undefined ? { result: q.result } : {}),
          ...(q.site !== undefined ? { scopes: [q.site] } : {}),
          ...(q.correlationId !== undefined ? { correlationId: q.correlationId } : {}),
          ...(q.beforeId !== undefined ? { beforeId: q.beforeId } : {}),
          limit: q.limit,
        });
        if (q.format === 'csv') return c.body(auditCsv(entries), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="mullet-audit.csv"' });
        return c.json({ entries });
      },
    }),
    route({
      method: 'get',
      path: '/users',
      operationId: 'users.list',
      summary: 'Users within your scope (admins, from a session)',
      tag: 'users',
      access: { kind: 'permission', permission: 'users:manage', session: true },
      replies: { 200: { description: 'users', schema: z.object({ users: z.array(userViewSchema) }) } },
      handler: async ({ c, principal }) => c.json({ users: (await d.auth.listUsers(principal as Principal)).map(userView) }),
    }),
    route<Record<string, never>, Record<string, never>, z.infer<typeof newUserSchema>>({
      method: 'post',
      path: '/users',
      operationId: 'users.create',
      summary: 'Create a user with a role on all sites or one (within your own grant)',
      tag: 'users',
      access: { kind: 'permission', permission: 'users:manage', session: true },
      body: newUserSchema,
      replies: { 201: { description: 'created', schema: z.object({ user: userViewSchema }) }, 409: { description: 'the name is taken' } },
      handler: async ({ c, body, principal, audit }) => {
        audit.target = body.name;
        audit.scope = scopeOf({ role: body.role, site: body.site });
        audit.detail = { name: body.name, role: body.role, site: body.site };
        const u = await d.auth.addUser(principal as Principal, body);
        return c.json({ user: userView(u) }, 201);
      },
    }),
    route<{ name: string }, Record<string, never>, z.infer<typeof userPatchSchema>>({
      method: 'patch',
      path: '/users/:name',
      operationId: 'users.update',
      summary: "Change a user's role, scope, password or disabled flag (their sessions end)",
      tag: 'users',
      access: { kind: 'permission', permission: 'users:manage', session: true },
      params: z.object({ name: userNameSchema }),
      body: userPatchSchema,
      replies: { 200: { description: 'changed', schema: z.object({ user: userViewSchema }) }, 404: { description: 'no such user' } },
      handler: async ({ c, params, body, principal, audit }) => {
        audit.target = params.name;
        const { password, ...rest } = body;
        audit.detail = { ...rest, ...(password !== undefined ? { password: '(changed)' } : {}) };
        const u = await d.auth.updateUser(principal as Principal, params.name, body);
        audit.scope = u.site ?? '*';
        return c.json({ user: userView(u) });
      },
    }),
    route({
      method: 'get',
      path: '/keys',
      operationId: 'keys.list',
      summary: 'API keys: your own, or all in your scope with keys:manage (never the secrets)',
      tag: 'keys',
      access: { kind: 'authenticated', session: true },
      replies: { 200: { description: 'keys', schema: z.object({ keys: z.array(keyViewSchema) }) } },
      handler: async ({ c, principal }) => c.json({ keys: (await d.auth.listKeys(principal as Principal)).map((k) => keyView(k, d.clock.nowMs())) }),
    }),
    route<Record<string, never>, Record<string, never>, z.infer<typeof newKeySchema>>({
      method: 'post',
      path: '/keys',
      operationId: 'keys.create',
      summary: 'Create an API key within your own grant; the key is in this reply only',
      tag: 'keys',
      access: { kind: 'authenticated', session: true },
      body: newKeySchema,
      replies: { 201: { description: 'created: store the key now, it is never shown again', schema: createdKeySchema } },
      handler: async ({ c, body, principal, audit }) => {
        audit.scope = scopeOf({ role: body.role, site: body.site });
        audit.detail = body;
        const expiresInMs = body.expires === undefined ? null : durationMs(body.expires);
        const r = await d.auth.createKey(principal as Principal, { name: body.name, role: body.role, site: body.site, expiresInMs });
        audit.target = r.row.id;
        return c.json({ key: r.key, info: keyView(r.row, d.clock.nowMs()) }, 201);
      },
    }),
    route<{ id: string }>({
      method: 'delete',
      path: '/keys/:id',
      operationId: 'keys.revoke',
      summary: 'Revoke an API key (kept on record, refused from now on)',
      tag: 'keys',
      access: { kind: 'authenticated', session: true },
      params: z.object({ id: keyIdSchema }),
      replies: { 200: { description: 'revoked', schema: z.object({ key: keyViewSchema }) }, 404: { description: 'no such key (of yours)' } },
      handler: async ({ c, params, principal, audit }) => {
        audit.target = params.id;
        const k = await d.auth.revokeKey(principal as Principal, params.id);
        audit.scope = k.site ?? '*';
        return c.json({ key: keyView(k, d.clock.nowMs()) });
      },
    }),
    ...(d.grid ? gridConsoleRoutes(site, d.grid) : []),
  ];
}
