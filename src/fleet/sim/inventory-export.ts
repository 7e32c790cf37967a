import { minerId } from '../identity.js';
import { INVENTORY_VERSION, type Inventory, type InventoryMiner } from '../inventory.js';
import type { Capability } from '../capabilities.js';
import type { FleetMinerInfo } from './fleet.js';
import type { MinerTruth } from './miner.js';
import { findModel } from './models.js';
import { BEHAVIOURS } from './servers/index.js';

/**
 * The simulated fleet as an inventory file in the scanner's format (fleet/inventory.ts), so
 * `mullet agent --inventory` can run against the simulator without a scan. Ids follow the scan's
 * rule (fleet/identity.ts: the MAC the firmware reports, else the address), so an exported inventory
 * and a scan of the same simulator name every miner alike. Driver type = the firmware id;
 * capabilities are what that driver type declares (`capabilitiesOf`, from the caller's driver registry:
 * the simulator serves protocols and does not depend on the drivers that speak them); hashrate and
 * power are the ground truth at export.
 */
export function simInventory(miners: readonly FleetMinerInfo[], truth: readonly MinerTruth[], scannedAtMs: number, capabilitiesOf: (driverType: string) => readonly Capability[]): Inventory {
  const byIp = new Map(truth.map((t) => [t.ip, t]));
  return {
    version: INVENTORY_VERSION,
    scannedAt: new Date(scannedAtMs).toISOString(),
    miners: miners.map((m): InventoryMiner => {
      const t = byIp.get(m.ip);
      const model = findModel(m.model);
      return {
        id: minerId({ macAddress: m.macAddress, host: m.ip, apiPort: m.ports.api }),
        host: m.ip,
        ports: m.ports.http === undefined ? { api: m.ports.api } : { api: m.ports.api, http: m.ports.http },
        type: m.firmware,
        model: m.modelName,
        catalogModel: model.name,
        macAddress: m.macAddress,
        firmware: BEHAVIOURS[m.firmware].label(model),
        capabilities: [...capabilitiesOf(m.firmware)],
        hashrateThs: t ? Math.round(t.hashrateThs * 1000) / 1000 : null,
        powerW: t ? Math.round(t.powerW) : null,
        ratedPowerW: model.ratedPowerW,
      };
    }),
  };
}
