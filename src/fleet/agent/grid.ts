/**
 * Grid services, live: the wire schemas of ERCOT deployments and awards (one schema for HTTP, MQTT,
 * the console and later NATS), the records the agent keeps of them, and the pure rules that turn
 * them into named mining limits and measure the response. No I/O, no clock (time comes in `nowMs`).
 *
 *  - An **award** (MW of a product for [from, to)) keeps a **mining floor**: at least the awarded MW
 *    of curtailable mining stays consuming, so it can be dropped when ERCOT deploys it (a load can
 *    only offer what it can drop). A lower bound in decide()'s limits (`award-floor`); the import
 *    limit always wins over it.
 *  - A **deployment** (MW of a product, start, deadline, hold or end, recall) caps mining at the
 *    baseline − the deployed MW (`grid-deployment`, an upper bound) from its start until it ends or
 *    is recalled, and lowers the floor by the same MW. Deployments overlapping in time share one
 *    baseline (the first's), like a chain of curtail signals, so a second deployment adds to the first.
 *  - The **response** is measured per deployment: the load reduced from the baseline, from the site
 *    meter when one is configured (else the fleet's confirmed reads), at every decision round; the
 *    times to 95 % and 100 % of the MW, met (95 % by the deadline) or missed with its penalty.
 * Units: MW at the meter, USD, time integer UTC ms (ISO 8601 on the wire).
 */
import { z } from 'zod';
import { badInput } from '../../core/errors.js';
import { missedDeploymentPenaltyUsd } from '../../dispatch/ledger.js';
import { PRODUCT_RULES } from '../../site/grid-products.js';
import { awardRecordSchema, DEPLOYMENT_RESULTS, DEPLOYMENT_STATES, deploymentRecordSchema, gridProductSchema, type AwardRecord, type DeploymentRecord } from './grid-records.js';
import { signalId } from './signals.js';
import type { MiningLimit } from './types.js';

/** The product ids a deployment or award names (the CLI's choices). */
export const GRID_PRODUCT_IDS: readonly string[] = gridProductSchema.options;

export { awardRecordSchema, DEPLOYMENT_RESULTS, DEPLOYMENT_STATES, deploymentRecordSchema, gridProductSchema, type AwardRecord, type DeploymentRecord };

/** Share of the MW that counts as the deployment delivered by its deadline (ERCOT's 95 % performance threshold for load resources). */
export const MET_FRACTION = 0.95;
/** 100 % is reached within this share of the MW (reading noise). */
export const FULL_TOLERANCE = 0.001;
/** The longest deployment or award the agent accepts, ms (a year: an ERS contract period is months; anything longer is a typo). */
const MAX_SPAN_MS = 366 * 24 * 3_600_000;

const isoTime = z.iso.datetime({ offset: true });
const mw = z.number().positive('must be > 0').max(100_000, 'must be <= 100000 MW');

/**
 * A deployment instruction (HTTP body, MQTT payload without `action`, console body). `deadlineAt`
 * defaults to start + the product's response time; `holdMinutes` or `endAt` ends it on its own,
 * else it holds until recalled.
 */
export const deploymentRequestSchema = z
  .strictObject({
    id: signalId,
    product: gridProductSchema,
    mw,
    /** When the deployment starts (default: when received). */
    startAt: isoTime.optional(),
    /** When the MW must be reduced by (default: start + the product's response time). */
    deadlineAt: isoTime.optional(),
    /** How long to hold from the start, minutes (or `endAt`; neither: until recalled). */
    holdMinutes: z.number().positive('must be > 0').max(MAX_SPAN_MS / 60_000).optional(),
    endAt: isoTime.optional(),
  })
  .refine((d) => d.holdMinutes === undefined || d.endAt === undefined, { message: 'give holdMinutes or endAt, not both', path: ['endAt'] });
export type DeploymentRequest = z.infer<typeof deploymentRequestSchema>;

/** POST /v1/grid/deployments/:id/recall body (optional: `{}`). */
export const recallRequestSchema = z.strictObject({});

/** An award: MW of a product to hold available for [from, to). */
export const awardRequestSchema = z
  .strictObject({
    id: signalId,
    product: gridProductSchema,
    mw,
    from: isoTime,
    to: isoTime,
  })
  .refine((a) => Date.parse(a.to) > Date.parse(a.from), { message: 'must be after from', path: ['to'] })
  .refine((a) => Date.parse(a.to) - Date.parse(a.from) <= MAX_SPAN_MS, { message: 'an award spans at most a year', path: ['to'] });
export type AwardRequest = z.infer<typeof awardRequestSchema>;


/** Canonical JSON of a request (key order fixed), compared when an id repeats. */
export function canonicalDeployment(r: DeploymentRequest): string {
  return JSON.stringify({ product: r.product, mw: r.mw, startAt: r.startAt ?? null, deadlineAt: r.deadlineAt ?? null, holdMinutes: r.holdMinutes ?? null, endAt: r.endAt ?? null });
}

export function canonicalAward(a: AwardRequest): string {
  return JSON.stringify({ product: a.product, mw: a.mw, from: Date.parse(a.from), to: Date.parse(a.to) });
}

/** A fresh deployment record from its request; throws `GridRequestError` when its times do not make sense. */
export function newDeployment(r: DeploymentRequest, source: string, nowMs: number): DeploymentRecord {
  const startMs = r.startAt !== undefined ? Date.parse(r.startAt) : nowMs;
  const deadlineMs = r.deadlineAt !== undefined ? Date.parse(r.deadlineAt) : startMs + PRODUCT_RULES[r.product].responseSeconds * 1000;
  const endMs = r.endAt !== undefined ? Date.parse(r.endAt) : r.holdMinutes !== undefined ? startMs + r.holdMinutes * 60_000 : null;
  if (deadlineMs < startMs) throw badInput('must not be before the start', 'deadlineAt');
  if (endMs !== null && endMs <= startMs) throw badInput('must be after the start', 'endAt');
  if (endMs !== null && endMs - startMs > MAX_SPAN_MS) throw badInput('a deployment holds at most a year', 'endAt');
  return {
    id: r.id,
    product: r.product,
    mw: r.mw,
    request: canonicalDeployment(r),
    source,
    receivedAtMs: nowMs,
    startMs,
    deadlineMs,
    endMs,
    state: 'scheduled',
    result: 'pending',
    awardId: null,
    measuredBy: null,
    baselineMW: null,
    baselineSiteMW: null,
    priorMW: 0,
    firstCommandAtMs: null,
    t95AtMs: null,
    t100AtMs: null,
    lastReductionMW: null,
    deliveredMW: null,
    penaltyUsd: 0,
    finishedAtMs: null,
  };
}

export function newAward(a: AwardRequest, source: string): AwardRecord {
  return { id: a.id, product: a.product, mw: a.mw, fromMs: Date.parse(a.from), toMs: Date.parse(a.to), source, request: canonicalAward(a) };
}

export const awardActive = (a: AwardRecord, nowMs: number): boolean => a.fromMs <= nowMs && nowMs < a.toMs;

/**
 * The mining floor, MW: every active award's MW minus every active deployment's MW (never below 0).
 * A deployment always wins over the floor, also one of a product without an award (an emergency
 * instruction, or more than was awarded): the floor exists so that MW can be dropped, never to stop it.
 */
export function floorMW(awards: readonly AwardRecord[], active: readonly DeploymentRecord[], nowMs: number): number {
  const held = awards.filter((a) => awardActive(a, nowMs)).reduce((s, a) => s + a.mw, 0);
  return Math.max(0, held - active.reduce((s, d) => s + d.mw, 0));
}

/** The deployment cap, MW of mining: the chain's baseline minus every active deployment's MW; null when none is active. */
export function deploymentCapMW(active: readonly DeploymentRecord[]): number | null {
  const started = active.filter((d) => d.baselineMW !== null);
  if (started.length === 0) return null;
  const baseline = Math.max(...started.map((d) => d.baselineMW as number));
  return Math.max(0, baseline - started.reduce((s, d) => s + d.mw, 0));
}

/**
 * The named bounds grid services put on mining this tick (`award-floor` lower, `grid-deployment`
 * upper). decide() brings projected mining — awake machines plus the standby draw of sleeping ones
 * — to at most the allowed MW, whole machines at a time, so a lower bound of exactly the floor could
 * leave up to one machine plus the fleet's standby short of it, and restores leave the deadband
 * unused: `floorPadMW` (the largest machine, the fleet's standby and the restore deadband, at the
 * meter) is added so the machines left awake carry the whole award.
 */
export function gridLimits(awards: readonly AwardRecord[], active: readonly DeploymentRecord[], nowMs: number, o: { safeMode: boolean; floorPadMW?: number }): MiningLimit[] {
  const out: MiningLimit[] = [];
  const cap = deploymentCapMW(active);
  if (cap !== null) out.push({ name: 'grid-deployment', bound: 'upper', mw: cap });
  // In safe mode the agent does not know what the plan wants: it keeps to its safe level, and the
  // floor (which would wake machines) waits until the plan or feed is back (an alert says so).
  const floor = floorMW(awards, active, nowMs);
  if (floor > 0 && !o.safeMode) out.push({ name: 'award-floor', bound: 'lower', mw: floor + (o.floorPadMW ?? 0) });
  return out;
}

/**
 * One measurement of a started deployment: the reduction from its baseline (meter or reads), beyond
 * the deployments before it. Returns the record updated (times to 95 / 100 %, delivered MW).
 */
export function observe(d: DeploymentRecord, nowMs: number, m: { miningMW: number; siteMW: number | null }): DeploymentRecord {
  if (d.state !== 'active' || d.baselineMW === null) return d;
  let reduced: number;
  if (d.measuredBy === 'meter') {
    if (m.siteMW === null || d.baselineSiteMW === null) return d; // no good reading this round
    reduced = d.baselineSiteMW - m.siteMW - d.priorMW;
  } else reduced = d.baselineMW - m.miningMW - d.priorMW;
  const next = { ...d, lastReductionMW: reduced };
  if (next.t95AtMs === null && reduced >= d.mw * MET_FRACTION) next.t95AtMs = nowMs;
  if (next.t100AtMs === null && reduced >= d.mw * (1 - FULL_TOLERANCE)) next.t100AtMs = nowMs;
  if (nowMs <= d.deadlineMs) next.deliveredMW = reduced;
  return next;
}

/** Penalty of a missed deployment, USD: the MW short of the request × hours held × USD/MWh (the dispatch ledger's non-performance rule). */
export function deploymentPenaltyUsd(d: Pick<DeploymentRecord, 'mw' | 'deliveredMW'>, hours: number, penaltyUsdPerMWh: number): number {
  return missedDeploymentPenaltyUsd(d.mw - Math.max(0, d.deliveredMW ?? 0), hours, penaltyUsdPerMWh);
}

/** Hours a deployment is (or was) held: to its end, its recall, or (open-ended, not over) one hour, the settlement interval the penalty is quoted for. */
export function heldHours(d: DeploymentRecord, atMs: number | null = null): number {
  const end = d.finishedAtMs ?? d.endMs ?? (atMs !== null ? Math.max(atMs, d.startMs + 3_600_000) : d.startMs + 3_600_000);
  return Math.max(0, end - d.startMs) / 3_600_000;
}

/** At or after the deadline: met when 95 % was reached by then, else missed (the penalty on the shortfall). */
export function judge(d: DeploymentRecord, nowMs: number, penaltyUsdPerMWh: number): DeploymentRecord {
  if (d.result !== 'pending' || nowMs < d.deadlineMs || d.state === 'scheduled') return d;
  if (d.t95AtMs !== null && d.t95AtMs <= d.deadlineMs) return { ...d, result: 'met', penaltyUsd: 0 };
  const missed = { ...d, result: 'missed' as const };
  return { ...missed, penaltyUsd: deploymentPenaltyUsd(missed, heldHours(missed), penaltyUsdPerMWh) };
}

/**
 * Ends a deployment (its end time or a recall). One recalled before its deadline is judged only if it
 * had already reached 95 % (met); otherwise ERCOT ended it before it was owed: `not-judged`. A missed
 * one's penalty is settled on the hours actually held.
 */
export function finish(d: DeploymentRecord, nowMs: number, state: 'completed' | 'recalled', penaltyUsdPerMWh: number): DeploymentRecord {
  if (d.state === 'scheduled') return { ...d, state, finishedAtMs: nowMs, result: 'not-judged' };
  let out: DeploymentRecord = { ...d, state, finishedAtMs: Math.max(nowMs, d.startMs) };
  if (out.result === 'pending') out = nowMs < d.deadlineMs ? { ...out, result: out.t95AtMs !== null ? 'met' : 'not-judged' } : judge(out, nowMs, penaltyUsdPerMWh);
  if (out.result === 'missed') out = { ...out, penaltyUsd: deploymentPenaltyUsd(out, heldHours(out), penaltyUsdPerMWh) };
  return out;
}

/** One evidence row per deployment (what a QSE keeps of each deployment), ISO times and seconds. */
export const evidenceRowSchema = z.object({
  id: z.string(),
  product: gridProductSchema,
  mwRequested: z.number(),
  signalAt: z.string(),
  startAt: z.string(),
  deadlineAt: z.string(),
  responseStartAt: z.string().nullable(),
  /** From the start to 95 % / 100 % of the MW reduced, seconds (null: not reached). */
  secondsTo95: z.number().nullable(),
  secondsToFull: z.number().nullable(),
  mwDelivered: z.number().nullable(),
  measuredBy: z.enum(['meter', 'reads']).nullable(),
  result: z.enum(DEPLOYMENT_RESULTS),
  penaltyUsd: z.number(),
  state: z.enum(DEPLOYMENT_STATES),
  endedAt: z.string().nullable(),
});
export type EvidenceRow = z.infer<typeof evidenceRowSchema>;

const isoOf = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const secondsFrom = (from: number, at: number | null): number | null => (at === null ? null : Math.max(0, at - from) / 1000);

export function evidenceRow(d: DeploymentRecord): EvidenceRow {
  return {
    id: d.id,
    product: d.product,
    mwRequested: d.mw,
    signalAt: new Date(d.receivedAtMs).toISOString(),
    startAt: new Date(d.startMs).toISOString(),
    deadlineAt: new Date(d.deadlineMs).toISOString(),
    responseStartAt: isoOf(d.firstCommandAtMs),
    secondsTo95: secondsFrom(d.startMs, d.t95AtMs),
    secondsToFull: secondsFrom(d.startMs, d.t100AtMs),
    mwDelivered: d.deliveredMW === null ? null : Math.round(d.deliveredMW * 1e4) / 1e4,
    measuredBy: d.measuredBy,
    result: d.result,
    penaltyUsd: Math.round(d.penaltyUsd * 100) / 100,
    state: d.state,
    endedAt: isoOf(d.finishedAtMs),
  };
}

const EVIDENCE_COLUMNS: readonly (keyof EvidenceRow)[] = ['id', 'product', 'mwRequested', 'signalAt', 'startAt', 'deadlineAt', 'responseStartAt', 'secondsTo95', 'secondsToFull', 'mwDelivered', 'measuredBy', 'result', 'penaltyUsd', 'state', 'endedAt'];

/** The evidence as CSV (RFC 4180 quoting; ids are restricted to safe characters, but quote anyway). */
export function evidenceCsv(rows: readonly EvidenceRow[]): string {
  const cell = (v: string | number | null): string => {
    const s = v === null ? '' : String(v);
    return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [EVIDENCE_COLUMNS.join(','), ...rows.map((r) => EVIDENCE_COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

/** GET /v1/grid/deployments and the replies of deploy / recall. */
export const deploymentViewSchema = deploymentRecordSchema.omit({ request: true }).extend({ evidence: evidenceRowSchema });
export const deploymentReplySchema = z.object({ duplicate: z.boolean(), deployment: deploymentViewSchema });
export const awardReplySchema = z.object({ duplicate: z.boolean(), award: awardRecordSchema.omit({ request: true }) });
export const gridStateSchema = z.object({ floorMW: z.number(), awards: z.array(awardRecordSchema.omit({ request: true })), deployments: z.array(deploymentViewSchema) });

export function deploymentView(d: DeploymentRecord): z.infer<typeof deploymentViewSchema> {
  const { request: _request, ...rest } = d;
  return { ...rest, evidence: evidenceRow(d) };
}

export function awardView(a: AwardRecord): z.infer<typeof awardReplySchema>['award'] {
  const { request: _request, ...rest } = a;
  return rest;
}

/** What the HTTP edge, MQTT, the console (and later NATS) need of the agent's grid services; the agent implements it. */
export interface GridApi {
  /** The agent's clock, UTC ms. */
  nowMs(): number;
  /** Records a deployment (idempotent by id; CONFLICT for an id reused with another request) and wakes the loop. */
  receiveDeployment(req: DeploymentRequest, source: string): Promise<{ record: DeploymentRecord; duplicate: boolean }>;
  /** Recalls a deployment (a finished one is returned as it is, `duplicate`); NOT_FOUND for an unknown id. */
  recallDeployment(id: string, source: string): Promise<{ record: DeploymentRecord; duplicate: boolean }>;
  /** Records an award (idempotent by id; CONFLICT for an id reused with another award). */
  setAward(req: AwardRequest, source: string): Promise<{ record: AwardRecord; duplicate: boolean }>;
  getDeployment(id: string): Promise<DeploymentRecord | undefined>;
  /** The floor now, the awards not yet over and the latest deployments (newest first). */
  gridState(limit?: number): Promise<{ floorMW: number; awards: AwardRecord[]; deployments: DeploymentRecord[] }>;
  /** Evidence rows of the deployments starting in [fromMs, toMs), oldest first. */
  gridEvidence(opts?: { fromMs?: number; toMs?: number }): Promise<EvidenceRow[]>;
}
