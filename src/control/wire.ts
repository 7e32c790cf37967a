/**
 * Every message on the control plane, one zod schema each, parsed by both ends (`v` is the wire
 * version: a receiver refuses a version it does not know rather than guessing). The site id is in
 * every message as well as in its subject, and a receiver checks they agree.
 * Units: MW at the meter; times ISO 8601 UTC on the wire, UTC ms inside.
 */
import { z } from 'zod';
import { agentEventSchema } from '../fleet/agent/events.js';
import { curtailFields, exactlyOne, ONE_OF, signalId, signalTimingSchema } from '../fleet/agent/signals.js';
import { siteIdSchema } from './names.js';

export const CONTROL_WIRE_VERSION = 1;
const v = z.literal(CONTROL_WIRE_VERSION);
const mw = z.number().min(0).max(100_000);

/**
 * What the center wants of a site (KV `<p>_desired`, key `site.<id>`):
 *  - mode `auto`: the site's own target (its plan file, price rule or nameplate, as agent.yaml says);
 *    `target`: mining at `targetMW` (a center-side dispatcher); `curtail-all`: no mining.
 *  - `capMW`: an upper bound on mining in every mode; `aiLimitsMW`: the level of capped AI loads by
 *    load name (what a plan's AI column says); `planRef`: the center's plan this state comes from.
 * The agent's own limits (import limit, firm AI, restore pacing) stay in charge whatever this says.
 */
export const desiredStateSchema = z
  .strictObject({
    v,
    site: siteIdSchema,
    mode: z.enum(['auto', 'target', 'curtail-all']),
    targetMW: mw.optional(),
    capMW: mw.optional(),
    aiLimitsMW: z.record(z.string().min(1).max(64), mw).optional(),
    planRef: z.string().min(1).max(200).optional(),
    updatedAt: z.iso.datetime(),
    updatedBy: z.string().min(1).max(128),
  })
  .refine((d) => d.mode !== 'target' || d.targetMW !== undefined, { message: "mode 'target' needs targetMW", path: ['targetMW'] });
export type DesiredState = z.infer<typeof desiredStateSchema>;

/**
 * A curtail / restore for one site (stream `<P>_CMD`, subject `<p>.site.<id>.cmd`, header
 * `Nats-Msg-Id` = `id`). `id` is also the agent's signal id: acted on once, whatever repeats.
 * `ttlS`: not acted on later than this after the server stored it (judged on the server's clock as
 * the site estimates it, so a site with a wrong clock neither drops fresh commands nor runs old ones).
 */
export const commandSchema = z.discriminatedUnion('action', [
  z.strictObject({ v, site: siteIdSchema, action: z.literal('curtail'), ...curtailFields, id: signalId, ttlS: z.number().positive().max(7 * 86_400).optional(), issuedAt: z.iso.datetime(), issuedBy: z.string().min(1).max(128) }).refine(exactlyOne, ONE_OF),
  z.strictObject({ v, site: siteIdSchema, action: z.literal('restore'), id: signalId, ttlS: z.number().positive().max(7 * 86_400).optional(), issuedAt: z.iso.datetime(), issuedBy: z.string().min(1).max(128) }),
]);
export type Command = z.infer<typeof commandSchema>;

/**
 * A command's outcome (stream `<P>_OUTCOME`): `received` when the agent took it (or already had
 * it: `duplicate`), `settled` when it is confirmed / unmet / superseded, `rejected` when it was not
 * acted on (`reason`: invalid, wrong-site, expired, conflict, stale).
 */
export const outcomeSchema = z.strictObject({
  v,
  site: siteIdSchema,
  commandId: z.string().min(1).max(128),
  phase: z.enum(['received', 'settled', 'rejected']),
  duplicate: z.boolean(),
  reason: z.string().max(500).optional(),
  signal: signalTimingSchema.optional(),
  /** Site clock, UTC ISO. */
  at: z.iso.datetime(),
});
export type Outcome = z.infer<typeof outcomeSchema>;

/** A batch of the agent's events, in order (stream `<P>_EVENTS`); `seq` counts batches per boot. */
export const eventBatchSchema = z.strictObject({
  v,
  site: siteIdSchema,
  boot: z.string().min(1).max(64),
  seq: z.number().int().min(1),
  events: z.array(agentEventSchema).min(1).max(10_000),
});
export type EventBatch = z.infer<typeof eventBatchSchema>;

/** Where the site stands with the center. */
export const linkStateSchema = z.strictObject({
  /** connected: following the KV; holding: center lost, last desired state kept; fallback: past holdS. */
  state: z.enum(['connected', 'holding', 'fallback']),
  desiredRevision: z.number().int().nullable(),
  desiredMode: z.enum(['auto', 'target', 'curtail-all']).nullable(),
  planRef: z.string().nullable(),
  /** What applies now: the desired state, or the configured fallback. */
  applied: z.enum(['desired', 'price-only', 'hold', 'safe-mode', 'none']),
  lostForS: z.number().nullable(),
  /** Server clock minus site clock, ms (estimated); null before a sample. */
  clockOffsetMs: z.number().nullable(),
  /** Messages waiting to be published (kept while partitioned). */
  backlog: z.number().int(),
});
export type LinkState = z.infer<typeof linkStateSchema>;

/** A status digest (stream `<P>_TELEMETRY`), downsampled to one per `telemetryS`. */
export const telemetrySchema = z.strictObject({
  v,
  site: siteIdSchema,
  boot: z.string().min(1).max(64),
  seq: z.number().int().min(1),
  /** Site clock, UTC ISO. */
  at: z.iso.datetime(),
  miners: z.number().int(),
  minersByState: z.record(z.string(), z.number().int()),
  importLimitMW: z.number(),
  sitePowerMW: z.number().nullable(),
  allowedMiningMW: z.number().nullable(),
  projectedMiningMW: z.number().nullable(),
  limitedBy: z.string().nullable(),
  safeMode: z.string().nullable(),
  signalCapMW: z.number().nullable(),
  capSignalId: z.string().nullable(),
  link: linkStateSchema,
});
export type Telemetry = z.infer<typeof telemetrySchema>;

/** Parses a JSON message with `schema`; a bad message is `null` with the reason, never thrown. */
export function parseMessage<T>(schema: z.ZodType<T>, bytes: Uint8Array): { ok: true; value: T } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const p = schema.safeParse(raw);
  if (p.success) return { ok: true, value: p.data };
  const i = p.error.issues[0];
  return { ok: false, reason: `${i?.path.map(String).join('.') || '(root)'}: ${i?.message ?? 'invalid'}` };
}

/** JSON has no Infinity: an unbounded MW (a nameplate target) travels as ±Number.MAX_VALUE. */
export function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) && !Number.isNaN(x) ? (x > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE) : x)));
}
