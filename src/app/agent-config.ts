/**
 * `mullet agent --config agent.yaml`: one file for everything a site agent runs with, validated
 * once with located errors (`agent.yaml:7: safety.tickS: must be >= 0.05`). Paths are relative to
 * the config file. Command-line flags override the file; anything in neither takes the default.
 *
 *   siteId: west-texas-1            # default: the site file's name
 *   site: site.yaml
 *   inventory: inventory.json
 *   store: { sqlite: agent.db }
 *   listen: 127.0.0.1:8420
 *   allowedHosts: [agent.site-a.internal]
 *   meter: 127.0.0.1:5021
 *   ai: { inventory: ai-inventory.json }   # GPU BMCs / feed targets of the site's AI loads
 *   target: { plan: plan.json }     # or { priceFeed: http://… } or {} (nameplate)
 *   signals: { mqtt: { url: mqtt://127.0.0.1:1883, topic: mullet/site-a/dr, clientId: agent-a, gridTopic: mullet/site-a/grid } }
 *   grid: { awards: [{ id: ecrs-0801, product: ECRS, mw: 20, from: '2025-08-01T00:00:00Z', to: '2025-08-02T00:00:00Z' }] }
 *   safety: { tickS: 10, safeMode: hold, marginMW: 0.2, minDwellS: 60, … }
 *   devices: { concurrency: 512, callTimeoutMs: 5000 }
 *   console: { db: console.db, tls: { cert: cert.pem, key: key.pem }, dataDb: mullet.db, strategyDir: examples }   # mullet serve only
 *   control: { servers: [nats://127.0.0.1:4222], auth: { nkeySeed: { file: site.nk } }, holdS: 600, fallback: price-only }
 *                                   # the NATS control plane (src/control/README.md)
 *   alerts: { rules: [ … ], webhook: { url, secretEnv }, email: { … } }    # mullet serve only (src/alerts/config.ts)
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { alertsConfigSchema } from '../alerts/config.js';
import { parseConfig } from '../core/yaml-doc.js';
import { SAFE_MODES } from '../fleet/agent/types.js';
import { awardRequestSchema } from '../fleet/agent/grid.js';
import { readRegularTextFileSync } from '../core/files.js';
import { siteControlConfigSchema } from '../control/connect.js';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT');

export const agentConfigSchema = z.strictObject({
  siteId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (at most 64)').optional(),
  site: z.string().min(1),
  inventory: z.string().min(1),
  store: z.strictObject({ sqlite: z.string().min(1) }).optional(),
  listen: hostPort.optional(),
  allowNonLoopback: z.boolean().optional(),
  allowedHosts: z.array(z.string().min(1)).max(32).optional(),
  meter: hostPort.optional(),
  /** The AI front's actuators (GPU server BMCs, feed-level targets): an AI inventory file. */
  ai: z.strictObject({ inventory: z.string().min(1) }).optional(),
  target: z
    .union([z.strictObject({ plan: z.string().min(1) }), z.strictObject({ priceFeed: z.url() }), z.strictObject({})])
    .optional(),
  signals: z
    .strictObject({
      mqtt: z.strictObject({ url: z.url(), topic: z.string().min(1).optional(), clientId: z.string().min(1).max(64).optional(), gridTopic: z.string().min(1).optional() }).optional(),
    })
    .optional(),
  safety: z
    .strictObject({
      tickS: z.number().min(0.05).max(3600).optional(),
      safeMode: z.enum(SAFE_MODES).optional(),
      marginMW: z.number().min(0).max(10_000).optional(),
      otherLoadMW: z.number().min(0).max(10_000).optional(),
      confirmTimeoutS: z.number().min(0.1).max(3600).optional(),
      maxAttempts: z.number().int().min(1).max(100).optional(),
      minDwellS: z.number().min(0).max(86_400).optional(),
      restoreBatch: z.number().int().min(1).max(1_000_000).optional(),
      restorePacingS: z.number().min(0).max(3600).optional(),
      priceStaleS: z.number().min(1).max(86_400).optional(),
    })
    .optional(),
  /** Grid services: awards the agent keeps a mining floor for (more can come over the API). */
  grid: z.strictObject({ awards: z.array(awardRequestSchema).max(10_000).optional() }).optional(),
  /** `mullet serve`: the console's identity/audit database and TLS (required beyond loopback). */
  console: z
    .strictObject({
      db: z.string().min(1).optional(),
      tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
      insecureHttp: z.boolean().optional(),
      /** The analyst and strategy pages' market store (industry facts, back-test data); as --data-db. */
      dataDb: z.string().min(1).optional(),
      /** Site and portfolio files console jobs may name; as --strategy-dir. */
      strategyDir: z.string().min(1).optional(),
    })
    .optional(),
  /** The NATS JetStream control plane: desired state, commands, events and telemetry (src/control). */
  control: siteControlConfigSchema.optional(),
  /** Alert rules and delivery (src/alerts/config.ts); `mullet serve` runs the default rules without it. */
  alerts: alertsConfigSchema.optional(),
  /** Split the fleet over this many agent shards (worker threads) under a coordinator of the import limit (src/fleet/shards). */
  shards: z.number().int().min(2).max(64).optional(),
  devices: z
    .strictObject({
      concurrency: z.number().int().min(1).max(65_536).optional(),
      callTimeoutMs: z.number().int().min(50).max(600_000).optional(),
    })
    .optional(),
});
export type AgentConfigFile = z.infer<typeof agentConfigSchema>;

/** Reads and validates an agent config file; relative paths become absolute (from the file's folder). */
export function readAgentConfig(file: string): AgentConfigFile & { dir: string } {
  const text = readRegularTextFileSync(file, file, 64 * 2 ** 20, 'agent config');
  const c = parseConfig(agentConfigSchema, text, file);
  const dir = dirname(resolve(file));
  const abs = (p: string): string => resolve(dir, p);
  return {
    ...c,
    dir,
    site: abs(c.site),
    inventory: abs(c.inventory),
    ...(c.store ? { store: { sqlite: c.store.sqlite === ':memory:' ? ':memory:' : abs(c.store.sqlite) } } : {}),
    ...(c.target && 'plan' in c.target ? { target: { plan: abs(c.target.plan) } } : {}),
    ...(c.ai ? { ai: { inventory: abs(c.ai.inventory) } } : {}),
    ...(c.control?.auth ? { control: { ...c.control, auth: absAuth(c.control.auth, abs) } } : {}),
    ...(c.console
      ? { console: absConsole(c.console, abs) }
      : {}),
  };
}

type ConsoleConfig = NonNullable<AgentConfigFile['console']>;

/** The console block's files are relative to the config file (`:memory:` stays as is); `mullet ops` reads the same block. */
export function absConsole(c: ConsoleConfig, abs: (p: string) => string): ConsoleConfig {
  const file = (p: string): string => (p === ':memory:' ? p : abs(p));
  return {
    ...c,
    ...(c.db !== undefined ? { db: file(c.db) } : {}),
    ...(c.tls ? { tls: { cert: abs(c.tls.cert), key: abs(c.tls.key) } } : {}),
    ...(c.dataDb !== undefined ? { dataDb: file(c.dataDb) } : {}),
    ...(c.strategyDir !== undefined ? { strategyDir: abs(c.strategyDir) } : {}),
  };
}

/** Secret files in the control block are relative to the config file too. */
function absAuth<A extends Record<string, unknown>>(auth: A, abs: (p: string) => string): A {
  const out: Record<string, unknown> = { ...auth };
  for (const [k, v] of Object.entries(auth)) if (v && typeof v === 'object' && 'file' in v && typeof v.file === 'string') out[k] = { file: abs(v.file) };
  return out as A;
}
