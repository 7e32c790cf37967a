/**
 * Fleet health routes (under /api/v1): every miner as the agent last saw it, one miner, and the
 * curtailment preview. All reads over the `AgentApi`'s read-only `fleetView()` / `previewCurtail()`.
 *
 * The preview is a GET (nothing changes, so nothing is audited and no CSRF surface) but needs
 * `site:signal`: it is the first half of a curtail — only those who may send one need to see which
 * machines it would take — though it reveals nothing a viewer cannot read from `/fleet` anyway.
 */
import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import { curtailPreviewSchema, fleetViewSchema, minerHealthDetailSchema, minerRowSchema, type AgentApi, type CurtailPreview, type FleetView } from '../../fleet/agent/api.js';
import { HttpProblem } from '../errors.js';
import { curtailFields, exactlyOne, ONE_OF, type SignalSpec } from '../../fleet/agent/signals.js';
import { route, type AnyRoute } from './define.js';

/** Query of the preview: exactly one of mw, pct or all (as the curtail body, from a query string). */
const previewQuerySchema = z
  .strictObject({
    mw: z.coerce.number().pipe(curtailFields.mw.unwrap()).optional(),
    pct: z.coerce.number().pipe(curtailFields.pct.unwrap()).optional(),
    all: z
      .enum(['true', '1'])
      .transform(() => true as const)
      .optional(),
  })
  .refine(exactlyOne, ONE_OF);

function fleetOf(agent: AgentApi): FleetView {
  if (!agent.fleetView) throw new MulletError('UNSUPPORTED', 'this agent does not offer a per-miner view');
  return agent.fleetView();
}

/** Live reads of one miner's hashboards and pools at once, at most: a click must not become a scan. */
export const MAX_HEALTH_READS = 8;

/** The fleet routes over the agent. */
export function fleetRoutes(d: { agent: AgentApi }): AnyRoute[] {
  let reading = 0;
  return [
    route({
      method: 'get',
      path: '/fleet',
      operationId: 'fleet.list',
      summary: 'Every miner: model, firmware, rack, state, temperatures, fans, power, the last command',
      tag: 'fleet',
      access: { kind: 'permission', permission: 'site:read', onSite: true },
      replies: { 200: { description: 'the fleet', schema: fleetViewSchema }, 501: { description: 'the agent offers no per-miner view' } },
      handler: ({ c }) => c.json(fleetOf(d.agent)),
    }),
    route<{ id: string }>({
      method: 'get',
      path: '/fleet/miners/:id',
      operationId: 'fleet.miner',
      summary: 'One miner as the agent last saw it',
      tag: 'fleet',
      access: { kind: 'permission', permission: 'site:read', onSite: true },
      params: z.object({ id: z.string().min(1).max(256) }),
      replies: { 200: { description: 'the miner', schema: z.object({ site: z.string(), miner: minerRowSchema }) }, 404: { description: 'no such miner' } },
      handler: ({ c, params }) => {
        const f = fleetOf(d.agent);
        const m = f.miners.find((x) => x.id === params.id);
        if (!m) throw new MulletError('NOT_FOUND', `no miner '${params.id}' on site ${f.site}`, { where: 'id' });
        return c.json({ site: f.site, miner: m });
      },
    }),
    route<{ id: string }>({
      method: 'get',
      path: '/fleet/miners/:id/health',
      operationId: 'fleet.minerHealth',
      summary: "One miner's hashboards and pools, read from the device now (bounded by the agent's call deadline)",
      tag: 'fleet',
      access: { kind: 'permission', permission: 'site:read', onSite: true },
      params: z.object({ id: z.string().min(1).max(256) }),
      replies: { 200: { description: 'hashboards and pools as the device reports them', schema: minerHealthDetailSchema }, 404: { description: 'no such miner' }, 501: { description: "the miner's driver reads no hashboards or pools" }, 503: { description: 'the miner did not answer, or too many reads at once' } },
      handler: async ({ c, params }) => {
        if (!d.agent.minerHealth) throw new MulletError('UNSUPPORTED', 'this agent reads no hashboards or pools');
        if (reading >= MAX_HEALTH_READS) throw new HttpProblem(503, 'IO', 'too many miner reads in progress; retry shortly');
        reading++;
        try {
          return c.json(await d.agent.minerHealth(params.id, c.req.raw.signal));
        } finally {
          reading--;
        }
      },
    }),
    route<Record<string, never>, z.infer<typeof previewQuerySchema>>({
      method: 'get',
      path: '/fleet/curtail-preview',
      operationId: 'fleet.curtailPreview',
      summary: 'Which machines a curtail of mw / pct / all would take now (a dry run: nothing is sent)',
      description: "The agent's own decide() on its last reading and inputs, with the cap the signal would set. Needs site:signal (the permission to send it); not audited (nothing changes).",
      tag: 'fleet',
      access: { kind: 'permission', permission: 'site:signal', onSite: true },
      query: previewQuerySchema,
      replies: { 200: { description: 'the machines it would take, least efficient first', schema: curtailPreviewSchema }, 501: { description: 'the agent offers no preview' } },
      handler: ({ c, query }) => {
        if (!d.agent.previewCurtail) throw new MulletError('UNSUPPORTED', 'this agent offers no curtail preview');
        const spec: SignalSpec = { kind: 'curtail', ...(query.mw !== undefined ? { mw: query.mw } : {}), ...(query.pct !== undefined ? { pct: query.pct } : {}), ...(query.all ? { all: true as const } : {}) };
        const p: CurtailPreview = d.agent.previewCurtail(spec);
        return c.json(p);
      },
    }),
  ];
}
