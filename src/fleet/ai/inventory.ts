/**
 * The AI actuator inventory: which devices carry each AI load of the site file and how to reach
 * them (written by `mullet sim --gpus`, or by hand for a real hall). Credentials live here, in a
 * file the operator owns (never in the repository or the logs).
 *   {"version":1,"devices":[
 *     {"id":"gpu-0001","load":"gpu-hall","type":"redfish","baseUrl":"https://10.1.0.1","username":"mullet","password":"…"},
 *     {"id":"feed-a","load":"training","type":"feed-target","baseUrl":"http://10.9.0.5:8450","feedTag":"feed-a","token":"…"}]}
 */
import { z } from 'zod';
import { badInput, MulletError } from '../../core/errors.js';
import type { AiLoad, Site } from '../../site/types.js';
import type { AiPowerControl } from './control.js';
import { FeedTarget } from './feed-target.js';
import { RedfishBmc } from './redfish.js';
import { readRegularTextFileSync } from '../../core/files.js';

const base = { id: z.string().min(1).max(128), load: z.string().min(1), baseUrl: z.url() };
export const aiDeviceSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...base, type: z.literal('redfish'), username: z.string().min(1), password: z.string(), chassisId: z.string().optional(), minPowerW: z.number().positive().max(100_000).optional() }),
  z.strictObject({ ...base, type: z.literal('feed-target'), feedTag: z.string().min(1), token: z.string().min(1) }),
]);
export type AiDevice = z.infer<typeof aiDeviceSchema>;

export const aiInventorySchema = z
  .strictObject({ version: z.literal(1), devices: z.array(aiDeviceSchema).max(100_000) })
  .superRefine((inv, ctx) => {
    const seen = new Set<string>();
    inv.devices.forEach((d, i) => {
      if (seen.has(d.id)) ctx.addIssue({ code: 'custom', message: `duplicate id '${d.id}'`, path: ['devices', i, 'id'] });
      seen.add(d.id);
    });
  });
export type AiInventory = z.infer<typeof aiInventorySchema>;

export function parseAiInventory(raw: unknown, file = 'ai inventory'): AiInventory {
  const p = aiInventorySchema.safeParse(raw);
  if (p.success) return p.data;
  const i = p.error.issues[0];
  throw badInput(`${i?.path.map(String).join('.') ?? ''}: ${i?.message ?? 'invalid'}`, file);
}

export function readAiInventory(file: string): AiInventory {
  const text = readRegularTextFileSync(file, file, 64 * 2 ** 20, 'AI inventory');
  try {
    return parseAiInventory(JSON.parse(text) as unknown, file);
  } catch (err) {
    if (err instanceof MulletError) throw err;
    throw badInput(`not JSON: ${(err as Error).message}`, file, err);
  }
}

/** The actuator for one device. */
export function aiControlFor(d: AiDevice, o: { nowMs: () => number; timeoutMs: number }): AiPowerControl {
  switch (d.type) {
    case 'redfish':
      return new RedfishBmc({ id: d.id, baseUrl: d.baseUrl, username: d.username, password: d.password, timeoutMs: o.timeoutMs, ...(d.chassisId !== undefined ? { chassisId: d.chassisId } : {}), ...(d.minPowerW !== undefined ? { minPowerW: d.minPowerW } : {}) });
    case 'feed-target':
      return new FeedTarget({ id: d.id, baseUrl: d.baseUrl, feedTag: d.feedTag, token: d.token, timeoutMs: o.timeoutMs, nowMs: o.nowMs });
  }
}

/**
 * The agent's AI groups: each AI load of the site with its devices. A device naming a load the site
 * does not have is BAD_INPUT (a typo would leave a load uncontrolled without a word).
 */
export function aiGroupsFromInventory(inv: AiInventory, site: Site, o: { nowMs: () => number; timeoutMs: number }, file = 'ai inventory'): { load: AiLoad; devices: AiPowerControl[] }[] {
  const byName = new Map(site.ai.map((l) => [l.name, l]));
  inv.devices.forEach((d, i) => {
    if (!byName.has(d.load)) throw badInput(`load '${d.load}' is not an AI load of site '${site.name}' (it has ${[...byName.keys()].join(', ') || 'none'})`, `${file}: devices[${i}].load`);
  });
  return site.ai.map((load) => ({ load, devices: inv.devices.filter((d) => d.load === load.name).map((d) => aiControlFor(d, o)) })).filter((g) => g.devices.length > 0);
}
