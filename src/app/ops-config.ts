/**
 * `mullet ops --config ops.yaml`: everything a running site needs, validated once with located
 * errors (`ops.yaml:4: market.replay.to: …`). Paths are relative to the file.
 *
 *   site: site.yaml
 *   policy: rolling                       # rolling | strike
 *   market:
 *     replay: { from: 2023-08-08, to: 2023-08-08, speed: max, data: store }   # or data: synthetic, seed: 1
 *     # or live: { feeds: { settlementPoints: [HB_WEST] }, windowDays: 366, refreshS: 30 }   (feeds: false =
 *     #    another process fills the store)
 *   fleet:
 *     simulator: { seed: 7, gpus: { load: cloud, manager: true } }   # or inventory: inventory.json,
 *                                                                    #    ai: { inventory: ai.json }, meter: HOST:PORT
 *   listen: 127.0.0.1:8420
 *   store: { sqlite: mullet.db }           # market data (replay: data: store) — --db overrides
 *   dispatch: { maxPriceWaitS: 300, staleAfterS: 1800, rtPublicationLagS: 0 }
 *   safety: { … as in the agent config … }
 *   devices: { concurrency: 512, callTimeoutMs: 5000 }
 *   console: { db: mullet-console.db, tls: { cert: cert.pem, key: key.pem } }   # the operator console on
 *                                          #    `listen` (else --console-db): every route authenticated;
 *                                          #    dataDb: mullet.db, strategyDir: ../examples for its analyst and
 *                                          #    strategy pages (default: the market store, ./examples, when there)
 *   alerts: { rules: [ … ], webhook: { url, secretEnv }, email: { host, from, to } }   # src/alerts/config.ts
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { readRegularTextFileSync } from '../core/files.js';
import { parseUtcDate } from '../core/time.js';
import { parseConfig } from '../core/yaml-doc.js';
import { LIVE_POLICIES } from '../ops/dispatcher.js';
import { absConsole, agentConfigSchema } from './agent-config.js';
import { liveFeedsConfigSchema } from '../market/live/config.js';
import { alertsConfigSchema } from '../alerts/config.js';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT');
const day = z.string().refine((s) => {
  try {
    parseUtcDate(s);
    return true;
  } catch {
    return false;
  }
}, 'must be a date YYYY-MM-DD');
const loopbackCidr = z.string().regex(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}\/\d{1,2}$/, 'must be a loopback block such as 127.42.0.0/16');

export const replaySchema = z
  .strictObject({
    from: day,
    to: day,
    /** 'max': virtual time, as fast as the machines answer; a number: times faster than the wall. */
    speed: z.union([z.literal('max'), z.number().min(1).max(1_000_000)]).default('max'),
    /** store: the market store's history (real data you imported); synthetic: the labelled generator. */
    data: z.enum(['store', 'synthetic']).default('store'),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  })
  .refine((r) => parseUtcDate(r.to) >= parseUtcDate(r.from), { message: 'to must not be before from', path: ['to'] })
  .refine((r) => (parseUtcDate(r.to) - parseUtcDate(r.from)) / 86_400_000 < 400, { message: 'a replay covers at most 400 days', path: ['to'] });

export const liveMarketSchema = z.strictObject({
  /** The dispatcher's window from the start of today (CPT): its state and the AI hours budget span it. */
  windowDays: z.number().int().min(1).max(366).default(366),
  /** Re-read the market store at least this often, s (the feeds' own writes trigger a read at once). */
  refreshS: z.number().min(1).max(3600).default(30),
  /** The live feeds this process runs (src/market/live); false: another process fills the store. */
  feeds: z.union([z.literal(false), liveFeedsConfigSchema]).optional(),
});

export const opsConfigSchema = z.strictObject({
  site: z.string().min(1),
  policy: z.enum(LIVE_POLICIES).default('rolling'),
  market: z.union([z.strictObject({ replay: replaySchema }), z.strictObject({ live: liveMarketSchema })]),
  fleet: z.union([
    z.strictObject({
      simulator: z.strictObject({
        seed: z.number().int().min(0).max(2 ** 31 - 1).default(7),
        /** Loopback block for the simulated miners; default: a free one is found. */
        cidr: loopbackCidr.optional(),
        gpus: z.strictObject({ load: z.string().min(1), cidr: loopbackCidr.optional(), manager: z.boolean().default(true) }).optional(),
      }),
    }),
    z.strictObject({ inventory: z.string().min(1), ai: z.strictObject({ inventory: z.string().min(1) }).optional(), meter: hostPort.optional() }),
  ]),
  listen: hostPort.optional(),
  store: z.strictObject({ sqlite: z.string().min(1) }).optional(),
  dispatch: z
    .strictObject({
      /** After an interval starts, wait at most this long for the previous interval's price, s. */
      maxPriceWaitS: z.number().min(0).max(3600).default(300),
      /** No new RT price for this long: the market is stale and the agent's safe mode applies, s. */
      staleAfterS: z.number().min(60).max(86_400).default(1800),
      /** Replay: an RT price is published this long after its interval ends, s. */
      rtPublicationLagS: z.number().min(0).max(3600).default(0),
    })
    .prefault({}),
  safety: agentConfigSchema.shape.safety,
  devices: agentConfigSchema.shape.devices,
  /** The operator console on the ops listener (users, keys and audit in `db`; as `mullet serve`). */
  console: agentConfigSchema.shape.console,
  /** Alert rules and delivery (src/alerts/config.ts); with a console, the default rules run without it. */
  alerts: alertsConfigSchema.optional(),
});
export type OpsConfig = z.infer<typeof opsConfigSchema> & { dir: string; file: string };

export function parseOpsConfig(text: string, file: string): OpsConfig {
  const c = parseConfig(opsConfigSchema, text, file);
  const dir = dirname(resolve(file));
  const abs = (p: string): string => resolve(dir, p);
  const fleet = 'inventory' in c.fleet ? { ...c.fleet, inventory: abs(c.fleet.inventory), ...(c.fleet.ai ? { ai: { inventory: abs(c.fleet.ai.inventory) } } : {}) } : c.fleet;
  const cons = c.console ? absConsole(c.console, abs) : undefined;
  return { ...c, dir, file, site: abs(c.site), fleet, ...(c.store ? { store: { sqlite: c.store.sqlite === ':memory:' ? ':memory:' : abs(c.store.sqlite) } } : {}), ...(cons ? { console: cons } : {}) };
}

export function readOpsConfig(file: string): OpsConfig {
  return parseOpsConfig(readRegularTextFileSync(file, file, 4 * 2 ** 20, 'ops config'), file);
}
