/**
 * The OpenAPI 3.1 document of the console API, generated from the route table (`routes.ts`) with
 * zod's own JSON Schema output (zod 4 `toJSONSchema`, draft 2020-12 — the dialect OpenAPI 3.1
 * uses): no second description to keep in step, no extra dependency.
 */
import { z } from 'zod';
import { apiErrorSchema } from '../../fleet/agent/signals.js';
import { isWrite, openApiPath, type AnyRoute } from './define.js';

type Json = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
}

function parameters(s: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!s) return [];
  const js = schemaOf(s, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema as Json & { description?: string };
    return { name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema: rest, ...(description !== undefined ? { description } : {}) };
  });
}

const ERROR_REF = { $ref: '#/components/schemas/Error' };
const err = (description: string): Json => ({ description, content: { 'application/json': { schema: ERROR_REF } } });

export interface OpenApiInfo {
  /** Where the routes are mounted, e.g. /api/v1. */
  base: string;
  title: string;
  version: string;
}

export function openApiDocument(routes: readonly AnyRoute[], info: OpenApiInfo): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const responses: Record<string, Json> = {};
    for (const [status, reply] of Object.entries(r.replies)) {
      if (reply.schema) responses[status] = { description: reply.description, content: { 'application/json': { schema: schemaOf(reply.schema, 'output') } } };
      else if (reply.contentType) responses[status] = { description: reply.description, content: { [reply.contentType]: { schema: { type: 'string' } } } };
      else responses[status] = err(reply.description);
    }
    if (r.body || r.query || r.params) responses['400'] ??= err('a malformed request (`where` names the field)');
    if (r.body) {
      responses['413'] ??= err('body larger than 64 KiB');
      responses['415'] ??= err('body not sent as application/json');
    }
    const a = r.access;
    if (a.kind !== 'public') responses['401'] ??= err('no valid session or API key (`WWW-Authenticate: Bearer`)');
    if (a.kind === 'permission' || (a.kind === 'authenticated' && a.session)) responses['403'] ??= err('authenticated, but not allowed (role, scope, or a key where a session is needed)');
    responses['500'] ??= err('a bug; see the server log');
    const session = (a.kind === 'permission' || a.kind === 'authenticated') && a.session === true;
    const op: Json = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description !== undefined ? { description: r.description } : {}),
      tags: [r.tag],
      security: a.kind === 'public' ? [] : session ? [{ sessionCookie: [] }] : [{ sessionCookie: [] }, { apiKey: [] }],
      ...(a.kind === 'permission' ? { 'x-permission': a.permission, 'x-site-scoped': a.onSite === true } : {}),
      ...(isWrite(r.method) ? { 'x-audited': true } : {}),
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(r.body, 'input') } } } } : {}),
      responses,
    };
    (paths[info.base + openApiPath(r.path)] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: 'Mullet operator console API. Every route but login and health needs a session cookie (POST /login) or `Authorization: Bearer <API key>`; every write is audited (GET /audit).' },
    paths,
    components: {
      securitySchemes: {
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'mullet_session', description: 'set by POST /login (`__Host-mullet_session` over TLS); HttpOnly, SameSite=Strict' },
        apiKey: { type: 'http', scheme: 'bearer', description: 'an API key `mlt_<id>_<secret>` from `mullet keys create` or POST /keys' },
      },
      schemas: { Error: schemaOf(apiErrorSchema, 'output') },
    },
  };
}
