/**
 * HTTP edge of a sharded site (`mullet agent --config agent.yaml` with `shards: N`): the site
 * status with one line per shard, Prometheus metrics (site totals, per shard), and curtail /
 * restore for the whole site, which the coordinator turns into caps. The request bodies are the
 * single agent's own schemas (signals.ts). Same guards as the agent API (loopback, Host check,
 * body cap, JSON writes); like it, no authentication yet, so it refuses non-loopback binds.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import { errorBody, httpStatusFor } from '../../server/errors.js';
import { cappedBodies, jsonBody, jsonWrites, sameSiteOnly, securityHeaders } from '../../server/guards.js';
import { curtailRequestSchema, restoreRequestSchema } from '../agent/signals.js';
import type { ShardCoordinator } from './coordinator.js';

const waitSchema = z.strictObject({ waitMs: z.coerce.number().int().min(0).max(600_000).optional() });

function parse<T>(schema: z.ZodType<T>, raw: unknown): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new MulletError('BAD_INPUT', i?.message ?? 'invalid body', i ? { where: i.path.join('.') } : {});
}

export function shardRoutes(c: ShardCoordinator, o: { allowedHosts?: readonly string[] } = {}): Hono {
  const app = new Hono();
  app.onError((err, ctx) => ctx.json(errorBody(err), httpStatusFor(err) as 400));
  app.use('*', securityHeaders(), sameSiteOnly(o.allowedHosts), cappedBodies(), jsonWrites());
  app.get('/v1/status', (ctx) => ctx.json(c.status()));
  app.get('/metrics', (ctx) => ctx.body(c.metricsText(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
  // ?waitMs=N: answer once every shard has settled under the new caps (or the time is up).
  app.post('/v1/curtail', async (ctx) => {
    const body = parse(curtailRequestSchema, await jsonBody(ctx.req));
    const { waitMs } = parse(waitSchema, ctx.req.query());
    if (body.pct !== undefined) throw new MulletError('BAD_INPUT', 'a sharded site takes mw or all (pct is not supported yet)', { where: 'pct' });
    const all = body.all === true;
    const r = c.signal(all ? { kind: 'curtail', all: true } : { kind: 'curtail', mw: body.mw ?? 0 });
    const settled = waitMs ? await c.waitSettled(r.allocSeq, waitMs, all) : null;
    return ctx.json({ ...r, settled }, 202);
  });
  app.post('/v1/restore', async (ctx) => {
    parse(restoreRequestSchema, await jsonBody(ctx.req));
    const { waitMs } = parse(waitSchema, ctx.req.query());
    const r = c.signal({ kind: 'restore' });
    const settled = waitMs ? await c.waitSettled(r.allocSeq, waitMs) : null;
    return ctx.json({ ...r, settled }, 202);
  });
  return app;
}
