/**
 * How a console route is described — once: method, path, who may call it, the zod schemas of its
 * path, query, body and replies, and its handler. `app.ts` registers the Hono handler from it
 * (authenticate → authorize → parse → handle → audit) and `openapi.ts` writes the OpenAPI document
 * from the same object, so the contract and the code cannot drift apart.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { AuditInput } from '../../console/audit.js';
import type { Principal } from '../../console/auth-service.js';
import type { Permission } from '../../console/roles.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route:
 *  - public: nobody is asked (login, health);
 *  - authenticated: any valid session or key (a session only, when `session`);
 *  - a permission, checked on the agent's site when `onSite`, and from a session only when `session`.
 */
export type Access = { kind: 'public' } | { kind: 'authenticated'; session?: boolean } | { kind: 'permission'; permission: Permission; onSite?: boolean; session?: boolean };

export interface ReplySpec {
  description: string;
  /** JSON body schema (default content type application/json). */
  schema?: z.ZodType;
  /** Another content type (text/event-stream, text/csv): described by `description`. */
  contentType?: string;
}

/** What a handler may add to the audit entry of its request (writes only). */
export interface AuditNote {
  /** Overrides the actor (login: who logged in, or the name an anonymous caller tried). */
  actor?: { type: AuditInput['actorType']; name: string };
  scope?: string;
  target?: string;
  correlationId?: string;
  /** The request as recorded (secrets left out). */
  detail?: unknown;
}

export interface HandlerArgs<P, Q, B> {
  c: Context;
  /** null only on public routes. */
  principal: Principal | null;
  params: P;
  query: Q;
  body: B;
  audit: AuditNote;
  /** Client address (socket peer), for rate limits and the audit log. */
  address: string;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** Hono style, relative to the API base: '/signals/:id'. */
  path: string;
  /** Also the audit action of a write ('site.curtail'). */
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Replies by status; errors (400/401/403/…) are added from the access rules. */
  replies: Record<number, ReplySpec>;
  handler(a: HandlerArgs<P, Q, B>): Promise<Response> | Response;
}

/** A route with its types erased, as the table holds it. */
export type AnyRoute = RouteSpec<unknown, unknown, unknown>;

/** Declares a route (types inferred from its schemas). */
export function route<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B>): AnyRoute {
  return spec;
}

/** '/signals/:id' → '/signals/{id}'. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function isWrite(m: Method): boolean {
  return m !== 'get';
}
