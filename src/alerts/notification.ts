/**
 * The message every channel sends — one zod schema for us and for whoever receives the webhook.
 *
 *   { "v": 1, "id": "7-fired", "site": "west-1", "event": "fired", "sentAt": "2026-08-04T12:00:03.000Z",
 *     "alert": { "id": 7, "ruleId": "safe-mode", "kind": "safe-mode", "key": "site", "severity": "critical",
 *                "detail": "safe mode 'hold': the real-time price feed is stale", "firedAt": "2026-08-04T12:00:00.000Z", "resolvedAt": null } }
 *
 * `id` is the same on every retry of one notification (receivers de-duplicate on it).
 */
import { z } from 'zod';
import { RULE_KINDS, SEVERITIES } from './config.js';

export const alertNotificationSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  site: z.string(),
  /** fired (also when delivered late, after a maintenance window) or resolved. */
  event: z.enum(['fired', 'resolved']),
  sentAt: z.string(),
  alert: z.object({
    id: z.number().int(),
    ruleId: z.string(),
    kind: z.enum(RULE_KINDS),
    key: z.string(),
    severity: z.enum(SEVERITIES),
    detail: z.string(),
    firedAt: z.string(),
    resolvedAt: z.string().nullable(),
  }),
});
export type AlertNotification = z.infer<typeof alertNotificationSchema>;

/** One line for a subject or a chat message. */
export function headline(n: AlertNotification): string {
  const what = n.event === 'fired' ? n.alert.severity.toUpperCase() : 'RESOLVED';
  return `[mullet ${what}] ${n.site}: ${n.alert.ruleId} - ${n.alert.detail}`.slice(0, 250);
}
