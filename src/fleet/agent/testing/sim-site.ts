/**
 * A site on the simulator for agent end-to-end tests: an in-process simulated fleet on loopback
 * (real protocols), its Modbus site meter, an inventory and a site file, and agents built on them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../core/time.js';
import { parseSite } from '../../../site/parse.js';
import type { Site } from '../../../site/types.js';
import { builtinCapabilities, defaultDriverRegistry } from '../../drivers/index.js';
import { writeInventory, type Inventory } from '../../inventory.js';
import { ModbusMeterReader } from '../../meter/meter-reader.js';
import { SimFleet } from '../../sim/fleet.js';
import { DEFAULT_HOST_OPTIONS } from '../../sim/host.js';
import { simInventory } from '../../sim/inventory-export.js';
import { ModbusMeterServer } from '../../sim/meter-server.js';
import { DEFAULT_MINER_OPTIONS } from '../../sim/miner.js';
import { parseFirmwareMix, parseModelMix } from '../../sim/mix.js';
import type { MinerTruth } from '../../sim/miner.js';
import { SqliteAgentStateStore } from '../../state/store.js';
import { aiGroupsFromInventory } from '../../ai/inventory.js';
import { meterWithGpuHall, SimGpuFleet } from '../../sim/gpu/gpu-fleet.js';
import { SiteAgent, type AgentOptions } from '../agent.js';
import { minersFromInventory, siteAiMW, type AgentMiner } from '../fleet.js';
import { NameplateTarget } from '../targets.js';
import { DEFAULT_DECIDE_CONFIG, type DecideConfig } from '../types.js';

export interface SimSiteOptions {
  miners: number;
  cidr: string;
  mix?: string;
  models?: string;
  seed?: number;
  /** Simulated seconds per wall second (default 1): > 1 shortens boots and ramps (restore tests). */
  timeScale?: number;
  /** Firm AI load in the site file, IT MW (× PUE 1.25 at the meter). */
  aiItMW?: number;
  /** AI load the simulated meter adds, W (default: the site's AI at the meter). */
  meterAiW?: number;
  importLimitMW?: number;
  /** A simulated GPU hall (Redfish BMCs on `cidr`) carrying an AI load of the site file named 'hall'. */
  gpus?: { servers: number; cidr: string; kind: 'capped' | 'firm'; maxReductionPct?: number; manager?: boolean };
}

export class SimSite {
  private constructor(
    readonly fleet: SimFleet,
    readonly meter: ModbusMeterServer,
    readonly meterPort: number,
    readonly dir: string,
    readonly site: Site,
    readonly siteFile: string,
    readonly inventory: Inventory,
    readonly inventoryFile: string,
    readonly hall: SimGpuFleet | null,
  ) {}

  static async start(o: SimSiteOptions): Promise<SimSite> {
    const aiItMW = o.aiItMW ?? 2;
    const fleet = await SimFleet.start({
      miners: o.miners,
      cidr: o.cidr,
      mix: parseFirmwareMix(o.mix ?? 'antminer-stock:1,luxos:1,braiins-legacy:1,whatsminer-v2:1'),
      models: parseModelMix(o.models ?? 's19xp:1,s21:1,s21pro:1,m60s:1'),
      seed: o.seed ?? 7,
      timeScale: o.timeScale ?? 1,
      listenersPerProcess: 100_000,
      aiLoadW: o.meterAiW ?? aiItMW * 1.25 * 1e6,
      host: { ...DEFAULT_HOST_OPTIONS, maintainEveryMs: 100 },
      miner: DEFAULT_MINER_OPTIONS,
    });
    const g = o.gpus;
    const hall = g ? await SimGpuFleet.start({ servers: g.servers, cidr: g.cidr, port: 8000, serversPerFeed: Math.max(1, Math.ceil(g.servers / 2)), ...(g.manager ? { manager: { host: '127.0.0.1', port: 0 } } : {}), load: 'hall', seed: o.seed ?? 7, sim: fleet.clocks.sim, wall: systemClock, delay: () => Promise.resolve() }) : null;
    const meter = new ModbusMeterServer(hall ? meterWithGpuHall(fleet, hall) : fleet, { cacheMs: 0, wall: systemClock, sim: fleet.clocks.sim });
    const meterPort = (await meter.listen('127.0.0.1', 0)).port;
    const dir = mkdtempSync(join(tmpdir(), 'mullet-e2e-'));
    const text = [
      'name: e2e',
      'market: { iso: ERCOT, settlementPoint: HB_WEST }',
      `interconnect: { importLimitMW: ${o.importLimitMW ?? 10} }`,
      'ai:',
      `  - { kind: firm, name: gpu, itMW: ${aiItMW}, pue: 1.25, usdPerKwMonth: 150 }`,
      ...(g && hall
        ? [
            g.kind === 'firm'
              ? `  - { kind: firm, name: hall, itMW: ${(hall.servers.reduce((a, x) => a + x.spec.maxW, 0) / 1e6).toFixed(6)}, pue: 1, usdPerKwMonth: 150 }`
              : `  - { kind: capped, name: hall, itMW: ${(hall.servers.reduce((a, x) => a + x.spec.maxW, 0) / 1e6).toFixed(6)}, pue: 1, usdPerKwMonth: 150, maxReductionPct: ${g.maxReductionPct ?? 40}, maxHoursPerYear: 200, usdPerMWhReduced: 80 }`,
          ]
        : []),
      '',
    ].join('\n');
    const siteFile = join(dir, 'site.yaml');
    writeFileSync(siteFile, text);
    const inventory = simInventory(fleet.miners, await fleet.truth(), systemClock.nowMs(), builtinCapabilities);
    const inventoryFile = join(dir, 'inventory.json');
    writeInventory(inventoryFile, inventory);
    return new SimSite(fleet, meter, meterPort, dir, parseSite(text, { file: siteFile }), siteFile, inventory, inventoryFile, hall);
  }

  /** Fresh drivers for every miner (each agent gets its own: sessions are per driver). */
  agentMiners(): AgentMiner[] {
    return minersFromInventory(this.inventory, this.site, { registry: defaultDriverRegistry(), clock: systemClock, callTimeoutMs: 3_000, connectTimeoutMs: 1_000 });
  }

  meterReader(): ModbusMeterReader {
    return new ModbusMeterReader({ host: '127.0.0.1', port: this.meterPort, timeoutMs: 1_000 });
  }

  decideConfig(over: Partial<DecideConfig> = {}): DecideConfig {
    return { ...DEFAULT_DECIDE_CONFIG, importLimitMW: this.site.interconnect.importLimitMW, aiMW: siteAiMW(this.site), confirmTimeoutMs: 1_500, ...over };
  }

  /** An agent on this site (fresh drivers); `db` defaults to a new file in the site's folder. */
  async agent(over: Partial<Omit<AgentOptions, 'decide'>> & { decide?: Partial<DecideConfig>; db?: string } = {}): Promise<{ agent: SiteAgent; store: SqliteAgentStateStore; db: string }> {
    const db = over.db ?? join(this.dir, `agent-${Math.random().toString(36).slice(2)}.db`);
    const store = SqliteAgentStateStore.open(db, systemClock.nowMs());
    const { decide, db: _db, ...rest } = over;
    const agent = await SiteAgent.create({
      siteName: this.site.name,
      miners: this.agentMiners(),
      decide: this.decideConfig(decide),
      store,
      clock: systemClock,
      targets: new NameplateTarget(),
      concurrency: 64,
      callTimeoutMs: 3_000,
      verifyWaitMs: 2_000,
      verifyPollMs: 100,
      ...(this.hall ? { ai: aiGroupsFromInventory(this.hall.inventory(), this.site, { nowMs: () => systemClock.nowMs(), timeoutMs: 3_000 }) } : {}),
      ...rest,
    });
    return { agent, store, db };
  }

  truth(): Promise<MinerTruth[]> {
    return this.fleet.truth();
  }

  async close(): Promise<void> {
    await this.hall?.close();
    await this.meter.close();
    await this.fleet.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Sum of the miners' true power, MW. */
export function trueMiningMW(truth: readonly MinerTruth[]): number {
  return truth.reduce((a, t) => a + t.powerW, 0) / 1e6;
}
