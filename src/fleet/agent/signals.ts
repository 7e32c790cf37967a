/**
 * Curtailment signals (HTTP, MQTT, CLI): their wire schemas and the book that turns them into a
 * mining cap. Semantics:
 *  - curtail {all}    → cap 0 MW of mining.
 *  - curtail {mw: X}  → cap = baseline − X, where the baseline is the mining MW when the first curtail
 *                       of a chain arrived (a second curtail of 10 MW means 10 MW below that, not 10 more).
 *  - curtail {pct: P} → cap = baseline × (1 − P/100).
 *  - restore          → no cap; machines come back most efficient first, in paced batches.
 * A newer signal supersedes one still in progress. Ids make signals idempotent: the same id again
 * returns the first result and does nothing; the same id with a different request is a conflict.
 * Ids are kept in the state DB, so this holds across restarts (within the retention window).
 * This file holds the wire schemas and the pure rules; `signal-desk.ts` keeps the signals.
 */
import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import type { SignalKind, SignalRecord } from './state-port.js';

export const signalId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:@\-/]*$/, 'must be letters, digits and _ . : @ - / (at most 128)');

export const curtailFields = {
  id: signalId.optional(),
  mw: z.number().positive('must be > 0').optional(),
  pct: z.number().gt(0, 'must be > 0').max(100, 'must be <= 100').optional(),
  all: z.literal(true).optional(),
};

export function exactlyOne(v: { mw?: number | undefined; pct?: number | undefined; all?: true | undefined }): boolean {
  return [v.mw !== undefined, v.pct !== undefined, v.all !== undefined].filter(Boolean).length === 1;
}
export const ONE_OF = { message: 'give exactly one of mw, pct or all', path: ['mw'] };

/** POST /v1/curtail body. */
export const curtailRequestSchema = z.strictObject(curtailFields).refine(exactlyOne, ONE_OF);
/** POST /v1/restore body. */
export const restoreRequestSchema = z.strictObject({ id: signalId.optional() });

export type CurtailRequest = z.infer<typeof curtailRequestSchema>;

/** The request without its id, canonical (compared when an id repeats). */
export interface SignalSpec {
  kind: SignalKind;
  mw?: number;
  pct?: number;
  all?: true;
}

export function canonicalRequest(s: SignalSpec): string {
  if (s.kind === 'restore') return '{}';
  if (s.all) return '{"all":true}';
  if (s.mw !== undefined) return JSON.stringify({ mw: s.mw });
  return JSON.stringify({ pct: s.pct });
}

/**
 * What a curtail asks beyond the mining baseline, MW (only `mw` can: a percent or `all` is of
 * mining). The AI front gives it, within its contracts, when it has curtailable AI.
 */
export function beyondMiningMW(s: SignalSpec, baselineMW: number): number {
  return s.mw !== undefined ? Math.max(0, s.mw - baselineMW) : 0;
}

/** Cap for a curtail from its baseline mining MW. */
export function capFor(s: SignalSpec, baselineMW: number): number {
  if (s.all) return 0;
  if (s.mw !== undefined) return Math.max(0, baselineMW - s.mw);
  if (s.pct !== undefined) return Math.max(0, baselineMW * (1 - s.pct / 100));
  return 0;
}

export class SignalConflictError extends MulletError {
  constructor(id: string, existing: string, requested: string) {
    super('CONFLICT', `signal id '${id}' was already used for ${existing}; this request is ${requested} (use a new id)`, { where: 'id' });
    this.name = 'SignalConflictError';
  }
}

/**
 * Signal timing as the API returns it and the CLI prints it (ISO at the edge, ms inside): one
 * schema for both ends of the wire.
 */
export const signalTimingSchema = z.object({
  id: z.string(),
  kind: z.enum(['curtail', 'restore']),
  request: z.unknown(),
  /** active | confirmed | unmet | superseded */
  state: z.enum(['active', 'confirmed', 'unmet', 'superseded']),
  capMW: z.number().nullable(),
  signalReceivedAt: z.string(),
  firstCommandAt: z.string().nullable(),
  /** Every command acknowledged and read back (a woken miner 'waking'); optional: older agents omit it. */
  acknowledgedAt: z.string().nullable().optional(),
  /** From receipt to acknowledged, ms. */
  acknowledgedMs: z.number().nullable().optional(),
  /** In effect: asleep for a curtail; for a restore, the woken machines hash. */
  confirmedAt: z.string().nullable(),
  /** From receipt to in effect (confirmedAt), ms. */
  elapsedMs: z.number().nullable(),
  commandsSent: z.number(),
  miners: z.object({ confirmed: z.number(), failed: z.number(), unreachable: z.number() }),
  /** Mining MW above the cap that nothing left could shed (state unmet), else null. */
  shortfallMW: z.number().nullable(),
  supersededBy: z.string().nullable(),
});
export type SignalTiming = z.infer<typeof signalTimingSchema>;

/** Reply of POST /v1/curtail, POST /v1/restore and GET /v1/signals/ID. */
export const signalReplySchema = z.object({ duplicate: z.boolean().optional(), signal: signalTimingSchema });

/** Error body of every API route. */
export const apiErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), where: z.string().optional() }) });

export function signalTiming(r: SignalRecord): SignalTiming {
  return {
    id: r.id,
    kind: r.kind,
    request: JSON.parse(r.request) as unknown,
    state: r.state,
    capMW: r.capMW,
    signalReceivedAt: new Date(r.receivedAtMs).toISOString(),
    firstCommandAt: r.firstCommandAtMs === null ? null : new Date(r.firstCommandAtMs).toISOString(),
    acknowledgedAt: r.acknowledgedAtMs == null ? null : new Date(r.acknowledgedAtMs).toISOString(),
    acknowledgedMs: r.acknowledgedAtMs == null ? null : r.acknowledgedAtMs - r.receivedAtMs,
    confirmedAt: r.confirmedAtMs === null ? null : new Date(r.confirmedAtMs).toISOString(),
    elapsedMs: r.confirmedAtMs === null ? null : r.confirmedAtMs - r.receivedAtMs,
    commandsSent: r.commandsSent,
    miners: { confirmed: r.minersConfirmed, failed: r.minersFailed, unreachable: r.minersUnreachable },
    shortfallMW: r.shortfallMW,
    supersededBy: r.supersededBy,
  };
}
