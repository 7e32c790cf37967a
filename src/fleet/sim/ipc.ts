import { z } from 'zod';
import { FaultSpecSchema } from './faults.js';
import { FIRMWARES } from './firmware.js';
import { MINER_ACTIONS } from './host.js';
import { MINER_STATES } from './physics.js';

/**
 * Messages between the `mullet sim` supervisor and its worker processes (child_process IPC,
 * JSON). Both sides parse what they receive with these schemas.
 */
export const WireSpecSchema = z.strictObject({
  index: z.number().int().min(0),
  ip: z.string(),
  firmware: z.enum(FIRMWARES),
  /** Catalog model id, resolved again in the worker (the catalog is deterministic). */
  model: z.string(),
  seed: z.number().int(),
});
export type WireSpec = z.output<typeof WireSpecSchema>;

const finite = z.number();

export const WorkerInitSchema = z.strictObject({
  t: z.literal('init'),
  specs: z.array(WireSpecSchema),
  clock: z.strictObject({ simEpochMs: finite, wallEpochMs: finite, timeScale: z.number().positive() }),
  host: z.strictObject({
    ports: z.strictObject({ api: z.number().int(), http: z.number().int() }),
    backlog: z.number().int().positive(),
    holdMs: z.number().positive(),
    idleMs: z.number().positive(),
    partialRequestMs: z.number().positive(),
    maintainEveryMs: z.number().min(0),
  }),
  miner: z.strictObject({
    ambientC: finite,
    faultRate: z.number().min(0).max(1),
    antminerUser: z.string(),
    antminerPassword: z.string(),
    whatsminerPassword: z.string(),
    whatsminerSalt: z.string().regex(/^[A-Za-z0-9./]{1,8}$/),
    luxSessionIdleMs: z.number().positive(),
    wmTokenLifeMs: z.number().positive(),
    wmMaxTokens: z.number().int().positive(),
    nonceTtlMs: z.number().positive(),
    startAsleep: z.boolean(),
  }),
});
export type WorkerInit = z.output<typeof WorkerInitSchema>;

export const WorkerRequestSchema = z.strictObject({
  t: z.literal('req'),
  id: z.number().int(),
  op: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('truth'),
      ip: z.string().optional(),
      filter: z.strictObject({ state: z.enum(MINER_STATES).optional(), firmware: z.string().optional(), model: z.string().optional() }).optional(),
    }),
    z.strictObject({ kind: z.literal('power') }),
    z.strictObject({ kind: z.literal('counts') }),
    z.strictObject({ kind: z.literal('fault'), ip: z.string(), spec: FaultSpecSchema }),
    z.strictObject({ kind: z.literal('clear'), ip: z.string() }),
    z.strictObject({ kind: z.literal('act'), ip: z.string(), action: z.enum(MINER_ACTIONS) }),
    z.strictObject({ kind: z.literal('close') }),
  ]),
});
export type WorkerRequest = z.output<typeof WorkerRequestSchema>;
export type WorkerOp = WorkerRequest['op'];

export const ParentMessageSchema = z.discriminatedUnion('t', [WorkerInitSchema, WorkerRequestSchema]);

export const WorkerMessageSchema = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('progress'), bound: z.number().int(), total: z.number().int() }),
  z.strictObject({ t: z.literal('ready'), listeners: z.number().int() }),
  z.strictObject({ t: z.literal('error'), message: z.string() }),
  z.strictObject({ t: z.literal('res'), id: z.number().int(), ok: z.boolean(), value: z.unknown().optional(), error: z.string().optional() }),
]);
export type WorkerMessage = z.output<typeof WorkerMessageSchema>;
