/**
 * The miners an agent controls: an inventory entry + its driver + the nameplate figures the
 * decision needs (power W, hashrate TH/s for the J/TH order, the PUE of its space). Nameplate comes
 * from the inventory, else the catalog model, else the site fleet it belongs to; a miner without
 * any nameplate power is an error (it could not be counted at full power when its state is unknown).
 */
import { BUILTIN_CATALOG, findAsic, modelKey } from '../../catalog/catalog.js';
import type { Asic, Catalog } from '../../catalog/types.js';
import { badInput } from '../../core/errors.js';
import type { Clock } from '../../core/time.js';
import type { Fleet, Site } from '../../site/types.js';
import type { DriverRegistry, MinerDriver, PowerRangeW } from '../capabilities.js';
import type { Inventory, InventoryMiner } from '../inventory.js';

export interface AgentMiner {
  id: string;
  host: string;
  /** Driver type, for logs and the state DB only: the agent never branches on it. */
  type: string;
  model: string | null;
  driver: MinerDriver;
  ratedPowerW: number;
  ratedHashrateThs: number;
  pue: number;
  /** Power-target range: known from the inventory, read once from the device (undefined until then), null when none. */
  powerRangeW?: PowerRangeW | null;
}

function catalogAsic(model: string | null, catalog: Catalog): Asic | undefined {
  if (!model) return undefined;
  try {
    return findAsic(model, catalog);
  } catch {
    return undefined;
  }
}

function fleetFor(model: string | null, site: Site): Fleet | undefined {
  if (model) {
    const k = modelKey(model);
    const hit = site.fleets.find((f) => f.model !== undefined && modelKey(f.model) === k);
    if (hit) return hit;
  }
  return site.fleets.length === 1 ? site.fleets[0] : undefined;
}

/** Index in site.fleets of the fleet a miner model belongs to (the only fleet when there is one), −1 when none. */
export function siteFleetIndex(model: string | null, site: Site): number {
  const f = fleetFor(model, site);
  return f ? site.fleets.indexOf(f) : -1;
}

/** Count-weighted PUE of the site's fleets (1 without fleets). */
export function sitePue(site: Site): number {
  const n = site.fleets.reduce((a, f) => a + f.count, 0);
  return n > 0 ? site.fleets.reduce((a, f) => a + f.pue * f.count, 0) / n : 1;
}

export interface BuildMinersOptions {
  registry: DriverRegistry;
  clock: Clock;
  /** Overall deadline per device call, ms. */
  callTimeoutMs: number;
  /** Socket connect deadline, ms. */
  connectTimeoutMs: number;
  catalog?: Catalog;
}

/** Nameplate of one inventory entry: inventory, catalog, then site fleet. */
export function nameplate(m: InventoryMiner, site: Site, catalog: Catalog = BUILTIN_CATALOG, where = m.id): { ratedPowerW: number; ratedHashrateThs: number; pue: number } {
  const asic = catalogAsic(m.model, catalog);
  const fleet = fleetFor(m.model, site);
  const ratedPowerW = m.ratedPowerW ?? asic?.powerW ?? fleet?.powerW ?? null;
  if (ratedPowerW === null) {
    throw badInput(`no nameplate power: the inventory has no ratedPowerW, model '${m.model ?? '?'}' is not in the catalog and no site fleet matches (add ratedPowerW or a fleet with this model)`, where);
  }
  // Efficiency decides the curtailment order; the scan-time reading is a last resort.
  const jPerTh = asic?.efficiencyJPerTh ?? (fleet ? fleet.powerW / fleet.hashrateThs : m.hashrateThs && m.powerW ? m.powerW / m.hashrateThs : null);
  const ratedHashrateThs = jPerTh ? ratedPowerW / jPerTh : (m.hashrateThs ?? 0);
  return { ratedPowerW, ratedHashrateThs, pue: fleet?.pue ?? sitePue(site) };
}

/** Drivers and nameplates for every inventory entry (unknown driver types are BAD_INPUT). */
export function minersFromInventory(inv: Inventory, site: Site, o: BuildMinersOptions, file = 'inventory'): AgentMiner[] {
  return inv.miners.map((m, i) => {
    const where = `${file}: miners[${i}]`;
    const plate = nameplate(m, site, o.catalog, where);
    const ports = { ...(m.ports.api !== undefined ? { api: m.ports.api } : {}), ...(m.ports.http !== undefined ? { http: m.ports.http } : {}) };
    const driver = o.registry.create(
      m.type,
      { host: m.host, ports, clock: o.clock, callTimeoutMs: o.callTimeoutMs, ratedPowerW: plate.ratedPowerW, limits: { connectTimeoutMs: o.connectTimeoutMs, readTimeoutMs: o.callTimeoutMs } },
      `${where}.type`,
    );
    return { id: m.id, host: m.host, type: m.type, model: m.model, driver, ...plate };
  });
}

/** AI load the agent never curtails, MW at the meter: every AI load at full IT × PUE. */
export function siteAiMW(site: Site): number {
  return site.ai.reduce((a, l) => a + l.itMW * l.pue, 0);
}
