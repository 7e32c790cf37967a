/**
 * A simulated GPU hall on loopback: N GPU servers, each with its BMC (Redfish) on its own address,
 * grouped into electrical feeds, and optionally the tenant's power manager (feed-level targets).
 * Its power goes into the site meter; its ground truth is what tests and benchmarks judge by.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../core/time.js';
import type { AiInventory } from '../../ai/inventory.js';
import { serveHttp, type RunningServer } from '../../../server/serve.js';
import { allocateAddresses } from '../cidr.js';
import { HGX_H100 } from './physics.js';
import { bmcRoutes, serverSeed, SimGpuServer, type BmcFlavor, type GpuServerTruth } from './server.js';
import { SimPowerManager } from './power-manager.js';

export interface GpuFleetConfig {
  servers: number;
  /** Loopback block for the BMCs. */
  cidr: string;
  /** BMC port (443 on real hardware; the simulator speaks plain HTTP on loopback). */
  port?: number;
  /** Servers per feed (the power manager groups them). */
  serversPerFeed?: number;
  /** Share of BMCs with the legacy Power resource instead of Controls, 0–1. */
  legacyShare?: number;
  /** Run the tenant power manager on this loopback address (port 0: any). */
  manager?: { host: string; port: number };
  /** The site file's AI load this hall carries (written into the inventory). */
  load: string;
  seed: number;
  sim: Clock;
  wall: Clock;
  /** BMC latency is slept for real (wall); tests may pass a no-op. */
  delay?: (ms: number) => Promise<void>;
}

export class SimGpuFleet {
  private constructor(
    readonly servers: readonly SimGpuServer[],
    private readonly listeners: RunningServer[],
    readonly manager: SimPowerManager | null,
    readonly managerUrl: string | null,
    private readonly cfg: GpuFleetConfig,
    private readonly timer: NodeJS.Timeout | null,
  ) {}

  static async start(cfg: GpuFleetConfig): Promise<SimGpuFleet> {
    const ips = allocateAddresses(cfg.cidr, cfg.servers, '--gpu-cidr');
    const password = randomBytes(12).toString('base64url');
    const perFeed = cfg.serversPerFeed ?? 50;
    const servers = ips.map((ip, i) => {
      // Legacy BMCs spread evenly through the hall (every 4th at the default 25 %).
      const share = cfg.legacyShare ?? 0.25;
      const flavor: BmcFlavor = Math.floor((i + 1) * share) > Math.floor(i * share) ? 'legacy' : 'controls';
      return new SimGpuServer(`gpu-${String(i + 1).padStart(4, '0')}`, ip, flavor, `feed-${String.fromCharCode(97 + Math.floor(i / perFeed))}`, { ...HGX_H100, seed: serverSeed(cfg.seed, i) }, cfg.sim, { username: 'mullet', password });
    });
    const delay = cfg.delay ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const listeners: RunningServer[] = [];
    try {
      for (const s of servers) listeners.push(await serveHttp(bmcRoutes(s, delay), { host: s.ip, port: cfg.port ?? 8000, what: 'a simulated BMC' }));
      let manager: SimPowerManager | null = null;
      let managerUrl: string | null = null;
      let timer: NodeJS.Timeout | null = null;
      if (cfg.manager) {
        const feeds = new Map<string, SimGpuServer[]>();
        for (const s of servers) feeds.set(s.feedTag, [...(feeds.get(s.feedTag) ?? []), s]);
        manager = new SimPowerManager(feeds, cfg.wall, randomBytes(16).toString('base64url'));
        const m = await serveHttp(manager.routes(), { host: cfg.manager.host, port: cfg.manager.port, what: 'the simulated power manager' });
        listeners.push(m);
        managerUrl = m.url;
        // Targets with a start or end time take effect on the manager's own clock.
        const mgr = manager;
        timer = setInterval(() => mgr.apply(), 500);
        timer.unref();
      }
      return new SimGpuFleet(servers, listeners, manager, managerUrl, cfg, timer);
    } catch (err) {
      await Promise.all(listeners.map((l) => l.close()));
      throw err;
    }
  }

  /** Total power of the hall, W. */
  powerW(): number {
    return this.servers.reduce((a, s) => a + s.powerW(), 0);
  }

  truth(): GpuServerTruth[] {
    return this.servers.map((s) => s.truth());
  }

  /**
   * The AI inventory an agent runs with: every BMC (`redfish`), or — with the power manager — one
   * `feed-target` device per feed.
   */
  inventory(via: 'redfish' | 'feed-target' = this.manager ? 'feed-target' : 'redfish'): AiInventory {
    if (via === 'feed-target' && this.manager && this.managerUrl) {
      const tags = [...new Set(this.servers.map((s) => s.feedTag))];
      return { version: 1, devices: tags.map((t) => ({ id: t, load: this.cfg.load, type: 'feed-target' as const, baseUrl: this.managerUrl as string, feedTag: t, token: (this.manager as SimPowerManager).token })) };
    }
    return { version: 1, devices: this.servers.map((s) => ({ id: s.id, load: this.cfg.load, type: 'redfish' as const, baseUrl: `http://${s.ip}:${this.cfg.port ?? 8000}`, username: s.creds.username, password: s.creds.password })) };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.listeners.map((l) => l.close()));
  }
}

/** The site meter's source with a GPU hall behind it: miners + the hall + the fleet's other AI load. */
export function meterWithGpuHall(fleet: { sitePower(): Promise<{ totalW: number; minersW: number; aiLoadW: number }>; readonly miners: readonly unknown[] }, hall: SimGpuFleet): { sitePower(): Promise<{ totalW: number; minersW: number; aiLoadW: number }>; readonly miners: readonly unknown[] } {
  return {
    miners: fleet.miners,
    async sitePower() {
      const p = await fleet.sitePower();
      const gpuW = hall.powerW();
      return { totalW: p.totalW + gpuW, minersW: p.minersW, aiLoadW: p.aiLoadW + gpuW };
    },
  };
}
