/**
 * Alerts in the console API: the history with filters (viewers), the rules (read: viewers; replace:
 * admins with `config:write`, from a session, audited like every write).
 */
import { z } from 'zod';
import { alertRulesSchema, RULE_KINDS, SEVERITIES } from '../../alerts/config.js';
import type { AlertsApi } from '../../alerts/service.js';
import { alertViewSchema, MAX_ALERT_PAGE } from '../../alerts/store.js';
import { actorName, type Principal } from '../../console/auth-service.js';
import { route, type AnyRoute } from './define.js';

const alertQuerySchema = z.strictObject({
  state: z.enum(['active', 'resolved']).optional(),
  severity: z.enum(SEVERITIES).optional(),
  ruleId: z.string().max(64).optional(),
  kind: z.enum(RULE_KINDS).optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('alerts fired at or after this instant (ISO 8601)'),
  to: z.iso.datetime({ offset: true }).optional().describe('alerts fired before this instant (ISO 8601)'),
  beforeId: z.coerce.number().int().positive().optional().describe('paging: alerts older than this id'),
  limit: z.coerce.number().int().min(1).max(MAX_ALERT_PAGE).default(100),
});
const rulesViewSchema = z.object({ rules: alertRulesSchema, source: z.enum(['config', 'console']), updatedAt: z.string().nullable(), updatedBy: z.string().nullable() });
const putRulesSchema = z.strictObject({ rules: alertRulesSchema });

export function alertConsoleRoutes(alerts: AlertsApi): AnyRoute[] {
  return [
    route<Record<string, never>, z.infer<typeof alertQuerySchema>>({
      method: 'get',
      path: '/alerts',
      operationId: 'alerts.list',
      summary: 'Alert history, newest first, filtered; with the number active now',
      tag: 'alerts',
      access: { kind: 'permission', permission: 'site:read', onSite: true },
      query: alertQuerySchema,
      replies: { 200: { description: 'alerts', schema: z.object({ alerts: z.array(alertViewSchema), active: z.number().int() }) } },
      handler: async ({ c, query: q }) => {
        const list = await alerts.list({
          ...(q.state !== undefined ? { state: q.state } : {}),
          ...(q.severity !== undefined ? { severity: q.severity } : {}),
          ...(q.ruleId !== undefined ? { ruleId: q.ruleId } : {}),
          ...(q.kind !== undefined ? { kind: q.kind } : {}),
          ...(q.from !== undefined ? { fromMs: Date.parse(q.from) } : {}),
          ...(q.to !== undefined ? { toMs: Date.parse(q.to) } : {}),
          ...(q.beforeId !== undefined ? { beforeId: q.beforeId } : {}),
          limit: q.limit,
        });
        const active = (await alerts.list({ state: 'active', limit: MAX_ALERT_PAGE })).length;
        return c.json({ alerts: list, active });
      },
    }),
    route({
      method: 'get',
      path: '/alert-rules',
      operationId: 'alerts.rules',
      summary: 'The alert rules in force and where they come from (config or console)',
      tag: 'alerts',
      access: { kind: 'permission', permission: 'site:read', onSite: true },
      replies: { 200: { description: 'the rules', schema: rulesViewSchema } },
      handler: ({ c }) => c.json(alerts.rules()),
    }),
    route<Record<string, never>, Record<string, never>, z.infer<typeof putRulesSchema>>({
      method: 'put',
      path: '/alert-rules',
      operationId: 'alerts.rules.replace',
      summary: 'Replace the alert rules (kept in the console database; they win over the config file from now on)',
      description: 'Alerts of a rule removed, disabled or changed in kind resolve at once. Every rule is validated; nothing changes on a 400.',
      tag: 'alerts',
      access: { kind: 'permission', permission: 'config:write', onSite: true, session: true },
      body: putRulesSchema,
      replies: { 200: { description: 'the rules now in force', schema: rulesViewSchema } },
      handler: async ({ c, body, principal, audit }) => {
        audit.target = 'alert-rules';
        audit.detail = { rules: body.rules.map((r) => `${r.id}:${r.kind}${r.enabled ? '' : ' (disabled)'}`) };
        return c.json(await alerts.setRules(body.rules, actorName(principal as Principal)));
      },
    }),
  ];
}
