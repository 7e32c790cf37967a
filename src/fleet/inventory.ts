/**
 * The fleet inventory file: what `mullet fleet scan` found and what `mullet agent` controls.
 * JSON, validated with zod on every read; errors name the file and the JSON path
 * (`inventory.json: miners[3].ports.api: ...`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { badInput, MulletError } from '../core/errors.js';
import { CAPABILITIES } from './capabilities.js';

export const INVENTORY_VERSION = 1;

const port = z.number().int().min(1).max(65535);

export const inventoryMinerSchema = z.object({
  /** Stable id: `<type>@<host>` unless the operator renames it; unique in the file. */
  id: z.string().min(1),
  host: z.string().min(1),
  /** Ports that answered: api (cgminer-style, 4028) and http (web UI, 80). */
  ports: z.object({ api: port.optional(), http: port.optional() }),
  /** Driver registry key (e.g. 'antminer-stock', 'luxos'). */
  type: z.string().min(1),
  model: z.string().nullable(),
  firmware: z.string().nullable(),
  capabilities: z.array(z.enum(CAPABILITIES)),
  /** Hashrate at scan time, TH/s. */
  hashrateThs: z.number().min(0).nullable(),
  /** Power at scan time, W; null when the device reports none. */
  powerW: z.number().min(0).nullable(),
  /** Nameplate power, W, when known (device-reported limit or catalog); null otherwise. */
  ratedPowerW: z.number().positive().nullable(),
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
    inv.miners.forEach((m, i) => {
      if (seen.has(m.id)) ctx.addIssue({ code: 'custom', message: `duplicate id '${m.id}'`, path: ['miners', i, 'id'] });
      seen.add(m.id);
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
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MulletError('NOT_FOUND', `cannot read inventory: ${(err as Error).message}`, { where: file, cause: err });
  }
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
