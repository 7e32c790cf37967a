/**
 * A whole site on the simulator, sized from a site file: one simulated miner per machine of every
 * fleet (the fleet's model; LuxOS firmware on Bitmain machines, Whatsminer API v2 on MicroBT), a GPU
 * hall of Redfish BMCs carrying one AI load, and the Modbus site meter reading all of it plus the
 * AI loads without a hall. `mullet ops` runs its demos and replays on this; its clocks can be the
 * replay's, so the machines' physics (boot, sleep, ramp) move with the replayed time.
 */
import { createServer } from 'node:net';
import { badInput } from '../../core/errors.js';
import { systemClock, type Clock } from '../../core/time.js';
import type { Site } from '../../site/types.js';
import type { AiInventory } from '../ai/inventory.js';
import type { Capability } from '../capabilities.js';
import type { Inventory } from '../inventory.js';
import { allocateAddresses } from './cidr.js';
import { SimFleet } from './fleet.js';
import type { FirmwareId } from './firmware.js';
import { meterWithGpuHall, SimGpuFleet } from './gpu/gpu-fleet.js';
import { HGX_H100 } from './gpu/physics.js';
import { DEFAULT_HOST_OPTIONS } from './host.js';
import { simInventory } from './inventory-export.js';
import { ModbusMeterServer } from './meter-server.js';
import { DEFAULT_MINER_OPTIONS } from './miner.js';
import type { Weighted } from './mix.js';
import { findModel, type SimModel } from './models.js';

export interface SiteSimOptions {
  site: Site;
  seed: number;
  /** Loopback block for the miners, e.g. 127.42.0.0/16 (see freeLoopbackBlock). */
  cidr: string;
  /** A GPU hall carrying this AI load of the site (sized to its IT MW), BMCs on `cidr`. */
  gpus?: { load: string; cidr: string; manager: boolean };
  /** Sim time (the replay's clock) and the wall clock for real latencies. */
  sim?: Clock;
  wall?: Clock;
  /** Where the fields of the site-sim options came from, for located errors. */
  where?: string;
  /** The capabilities a driver type declares, for the exported inventory (the caller's driver registry). */
  capabilitiesOf: (driverType: string) => readonly Capability[];
}

export interface SiteSim {
  fleet: SimFleet;
  hall: SimGpuFleet | null;
  meter: ModbusMeterServer;
  meterAddress: { host: string; port: number };
  inventory: Inventory;
  aiInventory: AiInventory | null;
  close(): Promise<void>;
}

const FIRMWARE_BY_VENDOR: Record<SimModel['vendor'], FirmwareId> = { bitmain: 'luxos', microbt: 'whatsminer-v2' };

export async function startSiteSim(o: SiteSimOptions): Promise<SiteSim> {
  const where = o.where ?? 'simulator';
  const site = o.site;
  if (site.fleets.length === 0) throw badInput('the site has no fleets to simulate', `${where}: site.fleets`);
  const models: Weighted<SimModel>[] = [];
  const firmware = new Map<FirmwareId, number>();
  site.fleets.forEach((f, i) => {
    if (!f.model) throw badInput(`fleet '${f.name}' names no model: the simulator needs one (e.g. model: Antminer S21)`, `site: fleets[${i}].model`);
    const m = findModel(f.model, undefined, `site: fleets[${i}].model`);
    models.push({ item: m, weight: f.count });
    const fw = FIRMWARE_BY_VENDOR[m.vendor];
    firmware.set(fw, (firmware.get(fw) ?? 0) + f.count);
  });
  const miners = site.fleets.reduce((a, f) => a + f.count, 0);
  const sim = o.sim ?? systemClock;
  const wall = o.wall ?? systemClock;
  const hallLoad = o.gpus ? site.ai.find((a) => a.name === o.gpus?.load) : undefined;
  if (o.gpus && !hallLoad) throw badInput(`no AI load named '${o.gpus.load}' in the site (it has: ${site.ai.map((a) => a.name).join(', ') || 'none'})`, `${where}.gpus.load`);
  const otherAiW = site.ai.filter((a) => a !== hallLoad).reduce((s, a) => s + a.itMW * a.pue * 1e6, 0);
  const fleet = await SimFleet.start({
    miners,
    cidr: o.cidr,
    mix: [...firmware].map(([item, weight]) => ({ item, weight })),
    models,
    seed: o.seed,
    timeScale: 1,
    listenersPerProcess: 1_000_000,
    aiLoadW: otherAiW,
    host: { ...DEFAULT_HOST_OPTIONS, maintainEveryMs: 1_000 },
    miner: DEFAULT_MINER_OPTIONS,
    clocks: { sim, wall },
  });
  let hall: SimGpuFleet | null = null;
  try {
    if (o.gpus && hallLoad) {
      // Sized so the hall at full power is the contract's IT load.
      const servers = Math.max(1, Math.round((hallLoad.itMW * 1e6) / HGX_H100.maxW));
      hall = await SimGpuFleet.start({ servers, cidr: o.gpus.cidr, port: 8000, load: hallLoad.name, seed: o.seed, sim, wall, delay: () => Promise.resolve(), ...(o.gpus.manager ? { manager: { host: '127.0.0.1', port: 0 } } : {}) });
    }
    const source = hall ? meterWithGpuHall(fleet, hall) : fleet;
    // PUE: the meter sees each machine's power × its space's PUE (cooling, losses).
    const pueByModel = new Map<string, number>();
    for (const f of site.fleets) if (f.model) pueByModel.set(findModel(f.model).id, f.pue);
    const meterSource = {
      miners: source.miners,
      async sitePower() {
        const p = await source.sitePower();
        const truth = await fleet.truth();
        let minersAtMeterW = 0;
        for (const t of truth) minersAtMeterW += t.powerW * (pueByModel.get(t.model) ?? 1);
        const hallW = hall ? hall.powerW() * (hallLoad?.pue ?? 1) : 0;
        return { totalW: minersAtMeterW + otherAiW + hallW, minersW: p.minersW, aiLoadW: otherAiW + hallW };
      },
    };
    const meter = new ModbusMeterServer(meterSource, { cacheMs: 0, wall, sim });
    const meterAddress = await meter.listen('127.0.0.1', 0);
    const inventory = simInventory(fleet.miners, await fleet.truth(), sim.nowMs(), o.capabilitiesOf);
    const h = hall;
    return {
      fleet,
      hall,
      meter,
      meterAddress,
      inventory,
      aiInventory: h ? h.inventory() : null,
      async close() {
        await meter.close();
        await h?.close();
        await fleet.close();
      },
    };
  } catch (err) {
    await hall?.close();
    await fleet.close();
    throw err;
  }
}

/** True when host:port can be bound now. */
function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * A /16 loopback block nobody on this machine listens on (another user's simulator, say): the
 * candidates start at a seed-chosen block and the first and last addresses needed are test-bound
 * on `port`. Returns the CIDR.
 */
export async function freeLoopbackBlock(needed: number, port: number, seed: number): Promise<string> {
  for (let k = 0; k < 32; k++) {
    const second = 64 + ((seed * 7 + k * 13) % 180);
    const cidr = `127.${second}.0.0/16`;
    const ips = allocateAddresses(cidr, Math.max(1, needed));
    if ((await canBind(ips[0] as string, port)) && (await canBind(ips[ips.length - 1] as string, port))) return cidr;
  }
  throw badInput('no free loopback /16 block found for the simulated fleet; name one with fleet.simulator.cidr', 'fleet.simulator.cidr');
}
