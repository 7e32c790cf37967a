/**
 * Grid services on the console API (under `/api/v1/grid`), over the `GridApi` interface:
 * deployments posted by an operator or the `signals` machine role (`site:signal`), awards set by an
 * operator (`site:mode`: what the site commits to), the state and the evidence for anyone who may
 * read signals (`signals:read`). Writes are audited by the app like every console write (actor,
 * request, result; the deployment or award id as the correlation id). Registered by one line in
 * `routes.ts`.
 */
import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import type { Principal } from '../../console/auth-service.js';
import { awardReplySchema, awardRequestSchema, awardView, deploymentReplySchema, deploymentRequestSchema, deploymentView, deploymentViewSchema, evidenceRowSchema, gridStateSchema, recallRequestSchema, type GridApi } from '../../fleet/agent/grid.js';
import { signalId } from '../../fleet/agent/signals.js';
import { evidenceQuerySchema, evidenceResponse, listQuerySchema } from '../grid-routes.js';
import { route, type AnyRoute } from './define.js';

/** How the agent records who sent a deployment (the audit log has the full actor). */
function sourceOf(p: Principal | null): string {
  return p === null ? 'console' : p.kind === 'key' ? `console:key:${p.keyId}` : `console:user:${p.name}`;
}

export function gridConsoleRoutes(site: string, grid: GridApi): AnyRoute[] {
  return [
    route<Record<string, never>, Record<string, never>, z.infer<typeof deploymentRequestSchema>>({
      method: 'post',
      path: '/grid/deployments',
      operationId: 'grid.deploy',
      summary: 'A grid deployment: curtail MW of a product within its response time, hold, then recall (idempotent by id)',
      description: 'product: RRS, ECRS, NSPIN, ERS-10, ERS-30. deadlineAt defaults to the start + the product response time; holdMinutes or endAt ends it, else it holds until recalled.',
      tag: 'grid',
      access: { kind: 'permission', permission: 'site:signal', onSite: true },
      body: deploymentRequestSchema,
      replies: { 202: { description: 'received', schema: deploymentReplySchema }, 200: { description: 'a duplicate of an earlier deployment', schema: deploymentReplySchema }, 409: { description: 'the id was used for another deployment' } },
      handler: async ({ c, body, principal, audit }) => {
        audit.scope = site;
        audit.target = body.id;
        const r = await grid.receiveDeployment(body, sourceOf(principal));
        return c.json({ duplicate: r.duplicate, deployment: deploymentView(r.record) }, r.duplicate ? 200 : 202);
      },
    }),
    route<{ id: string }, Record<string, never>, z.infer<typeof recallRequestSchema>>({
      method: 'post',
      path: '/grid/deployments/:id/recall',
      operationId: 'grid.recall',
      summary: 'Recall a grid deployment: mining comes back in paced batches (a finished one is returned as it is)',
      tag: 'grid',
      access: { kind: 'permission', permission: 'site:signal', onSite: true },
      params: z.object({ id: signalId }),
      body: recallRequestSchema,
      replies: { 202: { description: 'recalled', schema: deploymentReplySchema }, 200: { description: 'already over', schema: deploymentReplySchema }, 404: { description: 'no such deployment' } },
      handler: async ({ c, params, principal, audit }) => {
        audit.scope = site;
        audit.target = params.id;
        audit.correlationId = params.id;
        const r = await grid.recallDeployment(params.id, sourceOf(principal));
        return c.json({ duplicate: r.duplicate, deployment: deploymentView(r.record) }, r.duplicate ? 200 : 202);
      },
    }),
    route<Record<string, never>, z.infer<typeof listQuerySchema>>({
      method: 'get',
      path: '/grid/deployments',
      operationId: 'grid.state',
      summary: 'The award floor now, the awards not yet over and the latest deployments (newest first)',
      tag: 'grid',
      access: { kind: 'permission', permission: 'signals:read', onSite: true },
      query: listQuerySchema,
      replies: { 200: { description: 'awards and deployments', schema: gridStateSchema } },
      handler: async ({ c, query }) => {
        const s = await grid.gridState(query.limit);
        return c.json({ floorMW: s.floorMW, awards: s.awards.map(awardView), deployments: s.deployments.map(deploymentView) });
      },
    }),
    route<{ id: string }>({
      method: 'get',
      path: '/grid/deployments/:id',
      operationId: 'grid.deployment',
      summary: 'One deployment: its phases, measured response and evidence row',
      tag: 'grid',
      access: { kind: 'permission', permission: 'signals:read', onSite: true },
      params: z.object({ id: signalId }),
      replies: { 200: { description: 'the deployment', schema: z.object({ deployment: deploymentViewSchema }) }, 404: { description: 'no such deployment' } },
      handler: async ({ c, params }) => {
        const d = await grid.getDeployment(params.id);
        if (!d) throw new MulletError('NOT_FOUND', `no deployment with id '${params.id}'`, { where: 'id' });
        return c.json({ deployment: deploymentView(d) });
      },
    }),
    route<Record<string, never>, Record<string, never>, z.infer<typeof awardRequestSchema>>({
      method: 'post',
      path: '/grid/awards',
      operationId: 'grid.award',
      summary: 'Record an award: the agent keeps at least its MW of mining consuming over [from, to) (idempotent by id)',
      tag: 'grid',
      access: { kind: 'permission', permission: 'site:mode', onSite: true },
      body: awardRequestSchema,
      replies: { 201: { description: 'recorded', schema: awardReplySchema }, 200: { description: 'a duplicate', schema: awardReplySchema }, 409: { description: 'the id was used for another award' } },
      handler: async ({ c, body, principal, audit }) => {
        audit.scope = site;
        audit.target = body.id;
        const r = await grid.setAward(body, sourceOf(principal));
        return c.json({ duplicate: r.duplicate, award: awardView(r.record) }, r.duplicate ? 200 : 201);
      },
    }),
    route<Record<string, never>, z.infer<typeof evidenceQuerySchema>>({
      method: 'get',
      path: '/grid/evidence',
      operationId: 'grid.evidence',
      summary: 'Per-deployment evidence for the QSE (signal, response start, time to 95 % / 100 %, MW delivered, met or missed, penalty); `format=csv` for CSV',
      tag: 'grid',
      access: { kind: 'permission', permission: 'signals:read', onSite: true },
      query: evidenceQuerySchema,
      replies: { 200: { description: 'rows (JSON {rows}, or text/csv with format=csv)', schema: z.object({ rows: z.array(evidenceRowSchema) }) } },
      handler: ({ c, query }) => evidenceResponse(c, grid, query),
    }),
  ];
}
