/**
 * The `fleets:` of a site file from a fleet inventory: miners grouped by the catalog model their
 * firmware names (fleet/inventory.ts `catalogModel`), one fleet per model with its count — what
 * the strike rule and the dispatch need. Miners no catalog model matches are returned apart, so
 * the caller can name them (their nameplate hashrate is unknown: a scan sees only the current one).
 * Pure: the CLI reads the inventory and writes the YAML.
 */
import type { FleetInput } from './schema.js';

export interface InventoryMinerLike {
  id: string;
  host: string;
  model: string | null;
  catalogModel: string | null;
}

export interface FleetDraft {
  name: string;
  model: string;
  count: number;
}

/** A site-file fleet name for a catalog model: 'Antminer S21 XP+ Hyd' → 's21-xp-plus-hyd'. */
export function fleetNameFor(model: string): string {
  const n = model
    .toLowerCase()
    .replace(/\b(antminer|bitmain|whatsminer|microbt|avalon|canaan)\b/g, ' ')
    .replace(/\+/g, ' plus ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return n === '' ? 'fleet' : n;
}

/** Fleets by catalog model (most machines first), and the miners without one. */
export function fleetsFromInventory(miners: readonly InventoryMinerLike[]): { fleets: FleetDraft[]; unmatched: InventoryMinerLike[] } {
  const byModel = new Map<string, number>();
  const unmatched: InventoryMinerLike[] = [];
  for (const m of miners) {
    if (m.catalogModel === null) unmatched.push(m);
    else byModel.set(m.catalogModel, (byModel.get(m.catalogModel) ?? 0) + 1);
  }
  const used = new Set<string>();
  const fleets = [...byModel.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([model, count]) => {
      let name = fleetNameFor(model);
      for (let k = 2; used.has(name); k++) name = `${fleetNameFor(model)}-${k}`;
      used.add(name);
      return { name, model, count };
    });
  return { fleets, unmatched };
}

/** The drafts as site-file fleet entries with the given defaults (validated by the site schema on use). */
export function fleetEntries(fleets: readonly FleetDraft[], defaults: { poolFeePct: number; pue: number }): Pick<FleetInput, 'name' | 'model' | 'count' | 'poolFeePct' | 'pue'>[] {
  return fleets.map((f) => ({ name: f.name, model: f.model, count: f.count, poolFeePct: defaults.poolFeePct, pue: defaults.pue }));
}
