/**
 * Grid services on the agent's HTTP API, over the `GridApi` interface (never the agent class):
 *   POST /v1/grid/deployments              {"id","product","mw","startAt"?,"deadlineAt"?,"holdMinutes"?|"endAt"?} → 202 new, 200 repeated id
 *   POST /v1/grid/deployments/ID/recall    {} → 202 recalled, 200 already over
 *   GET  /v1/grid/deployments[?limit=N]    the floor, live awards, the latest deployments (newest first)
 *   GET  /v1/grid/deployments/ID           one deployment with its evidence row
 *   POST /v1/grid/awards                   {"id","product","mw","from","to"} → 201 new, 200 repeated id
 *   GET  /v1/grid/evidence[?from&to&format=csv]   one row per deployment (the QSE's evidence)
 * Registered by `agentRoutes` (one line) behind the same guards as every agent route.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { MulletError } from '../core/errors.js';
import { awardRequestSchema, awardView, deploymentRequestSchema, deploymentView, evidenceCsv, recallRequestSchema, type GridApi } from '../fleet/agent/grid.js';
import { signalId } from '../fleet/agent/signals.js';
import { parse } from './errors.js';
import { jsonBody } from './guards.js';


/** Query of GET /v1/grid/evidence (also the console's). */
export const evidenceQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().describe('deployments starting at or after this instant (ISO 8601)'),
  to: z.iso.datetime({ offset: true }).optional().describe('deployments starting before this instant (ISO 8601)'),
  format: z.enum(['json', 'csv']).default('json'),
});

export const listQuerySchema = z.strictObject({ limit: z.coerce.number().int().min(1).max(10_000).default(100) });

/** The evidence reply: JSON {rows} or CSV. */
export async function evidenceResponse(c: Context, grid: GridApi, q: z.infer<typeof evidenceQuerySchema>): Promise<Response> {
  const rows = await grid.gridEvidence({ ...(q.from !== undefined ? { fromMs: Date.parse(q.from) } : {}), ...(q.to !== undefined ? { toMs: Date.parse(q.to) } : {}) });
  if (q.format === 'csv') return c.body(evidenceCsv(rows), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="mullet-grid-evidence.csv"' });
  return c.json({ rows });
}

const idOf = (c: Context): string => parse(signalId, c.req.param('id'));

/** Adds the grid routes to the agent's app. */
export function registerGridRoutes(app: Hono, grid: GridApi): void {
  app.post('/v1/grid/deployments', async (c) => {
    const r = await grid.receiveDeployment(parse(deploymentRequestSchema, await jsonBody(c.req)), 'http');
    return c.json({ duplicate: r.duplicate, deployment: deploymentView(r.record) }, r.duplicate ? 200 : 202);
  });
  app.post('/v1/grid/deployments/:id/recall', async (c) => {
    parse(recallRequestSchema, await jsonBody(c.req));
    const r = await grid.recallDeployment(idOf(c), 'http');
    return c.json({ duplicate: r.duplicate, deployment: deploymentView(r.record) }, r.duplicate ? 200 : 202);
  });
  app.get('/v1/grid/deployments', async (c) => {
    const q = parse(listQuerySchema, c.req.query());
    const s = await grid.gridState(q.limit);
    return c.json({ floorMW: s.floorMW, awards: s.awards.map(awardView), deployments: s.deployments.map(deploymentView) });
  });
  app.get('/v1/grid/deployments/:id', async (c) => {
    const id = idOf(c);
    const d = await grid.getDeployment(id);
    if (!d) throw new MulletError('NOT_FOUND', `no deployment with id '${id}'`, { where: 'id' });
    return c.json({ deployment: deploymentView(d) });
  });
  app.post('/v1/grid/awards', async (c) => {
    const r = await grid.setAward(parse(awardRequestSchema, await jsonBody(c.req)), 'http');
    return c.json({ duplicate: r.duplicate, award: awardView(r.record) }, r.duplicate ? 200 : 201);
  });
  app.get('/v1/grid/evidence', async (c) => evidenceResponse(c, grid, parse(evidenceQuerySchema, c.req.query())));
}
