/**
 * The fleet inventory file: what `mullet fleet scan` found and what `mullet agent` controls.
 * JSON, validated with zod on every read; errors name the file and the JSON path
 * (`inventory.json: miners[3].ports.api: ...`).
 */
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { badInput, MulletError } from '../core/errors.js';
import { CAPABILITIES } from './capabilities.js';
import { readRegularTextFileSync } from '../core/files.js';

export const INVENTORY_VERSION = 1;

const port = z.number().int().min(1).max(65535);

/**
 * Physical bounds of one machine. The largest hydro ASICs draw ~12 kW and hash ~1 PH/s; a GPU
 * server ~15 kW. A figure beyond these is a typo or a lying device, and would make the agent count
 * one machine as a whole hall.
 */
export const MAX_MACHINE_POWER_W = 30_000;
export const MAX_MACHINE_HASHRATE_THS = 5_000;
const powerW = z.number().finite().min(0).max(MAX_MACHINE_POWER_W, `must be at most ${MAX_MACHINE_POWER_W} W (one machine)`);

export const inventoryMinerSchema = z.object({
  /** Stable id (fleet/identity.ts): `mac:<mac>` when the firmware reports it, else the address; unique in the file. */
  id: z.string().min(1),
  host: z.string().min(1),
  /** Ports that answered: api (cgminer-style, 4028) and http (web UI, 80). */
  ports: z.object({ api: port.optional(), http: port.optional() }),
  /** Driver registry key (e.g. 'antminer-stock', 'luxos'). */
  type: z.string().min(1),
  /** Model as the firmware names it (e.g. 'M60S_VK40'). */
  model: z.string().nullable(),
  /** The catalog model that firmware string maps to (e.g. 'Whatsminer M60S'); null when none matches. */
  catalogModel: z.string().nullable().default(null),
  /** Control board MAC address when the firmware reports it. */
  macAddress: z.string().nullable().default(null),
  firmware: z.string().nullable(),
  capabilities: z.array(z.enum(CAPABILITIES)),
  /** Hashrate at scan time, TH/s. */
  hashrateThs: z.number().finite().min(0).max(MAX_MACHINE_HASHRATE_THS, `must be at most ${MAX_MACHINE_HASHRATE_THS} TH/s (one machine)`).nullable(),
  /** Power at scan time, W; null when the device reports none. */
  powerW: powerW.nullable(),
  /** Nameplate power, W, when known (device-reported limit or catalog); null otherwise. */
  ratedPowerW: powerW.positive().nullable(),
});

export const inventorySchema = z
  .object({
    version: z.literal(INVENTORY_VERSION),
    /** ISO 8601 UTC instant of the scan. */
    scannedAt: z.iso.datetime(),
    miners: z.array(inventoryMinerSchema),
  })
  .superRefine((inv, ctx) => {
    const seen = new Set<string>();
    // Two entries on one endpoint would be one machine counted (and commanded) twice.
    const endpoints = new Map<string, number>();
    inv.miners.forEach((m, i) => {
      if (seen.has(m.id)) ctx.addIssue({ code: 'custom', message: `duplicate id '${m.id}'`, path: ['miners', i, 'id'] });
      seen.add(m.id);
      for (const p of [m.ports.api, m.ports.http]) {
        if (p === undefined) continue;
        const ep = `${m.host.toLowerCase()}:${p}`;
        const first = endpoints.get(ep);
        if (first !== undefined) ctx.addIssue({ code: 'custom', message: `${ep} is also miners[${first}]: one machine listed twice`, path: ['miners', i, 'host'] });
        else endpoints.set(ep, i);
      }
    });
  });

export type InventoryMiner = z.infer<typeof inventoryMinerSchema>;
export type Inventory = z.infer<typeof inventorySchema>;

function pathString(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** Validates parsed JSON as an inventory; BAD_INPUT naming `file: path: problem`. */
export function parseInventory(data: unknown, file = 'inventory'): Inventory {
  const r = inventorySchema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const at = issue ? pathString(issue.path) : '';
  throw badInput(`${at === '' ? '' : `${at}: `}${issue?.message ?? 'invalid inventory'}`, file);
}

/** Reads and validates an inventory file. */
export function readInventory(file: string): Inventory {
  const text = readRegularTextFileSync(file, file, 64 * 2 ** 20, 'inventory');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw badInput(`not JSON: ${(err as Error).message}`, file, err);
  }
  return parseInventory(data, file);
}

/** The inventory as the JSON text written to disk (stable key order, 2-space indent). */
export function formatInventory(inv: Inventory): string {
  return JSON.stringify(parseInventory(inv), null, 2) + '\n';
}

/** Writes atomically (temp file + rename) so a crash never leaves half an inventory. */
export function writeInventory(file: string, inv: Inventory): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, formatInventory(inv));
    renameSync(tmp, file);
  } catch (err) {
    throw new MulletError('IO', `cannot write inventory: ${(err as Error).message}`, { where: file, cause: err });
  }
}
