/**
 * One simulated GPU server: its power state (physics.ts) and its BMC's Redfish resources, in one of
 * two generations — `controls` (EnvironmentMetrics + Controls/PowerLimit) or `legacy` (Power with
 * PowerControl[0].PowerLimit). Basic auth; every request takes a seeded 20–60 ms, as BMCs do.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Clock } from '../../../core/time.js';
import { hash32, unit } from '../rng.js';
import { advancePower, initialPower, throughput, type GpuPowerState, type GpuServerSpec } from './physics.js';

export type BmcFlavor = 'controls' | 'legacy';

export interface GpuServerTruth {
  id: string;
  ip: string;
  flavor: BmcFlavor;
  feedTag: string;
  powerW: number;
  capW: number | null;
  maxW: number;
  /** Share of the uncapped work done, %. */
  throughputPct: number;
  /** Cap writes accepted. */
  writes: number;
}

export class SimGpuServer {
  private state: GpuPowerState;
  writes = 0;
  private requests = 0;

  constructor(
    readonly id: string,
    readonly ip: string,
    readonly flavor: BmcFlavor,
    readonly feedTag: string,
    readonly spec: GpuServerSpec,
    private readonly sim: Clock,
    readonly creds: { username: string; password: string },
  ) {
    this.state = initialPower(spec, sim.nowMs());
  }

  private now(): GpuPowerState {
    this.state = advancePower(this.spec, this.state, this.sim.nowMs());
    return this.state;
  }

  powerW(): number {
    return this.now().powerW;
  }

  capW(): number | null {
    return this.state.capW;
  }

  /** Sets (or clears, null) the cap; the power follows along the lag. */
  setCap(w: number | null): void {
    this.now();
    this.state = { ...this.state, capW: w };
    this.writes++;
  }

  truth(): GpuServerTruth {
    const s = this.now();
    return { id: this.id, ip: this.ip, flavor: this.flavor, feedTag: this.feedTag, powerW: s.powerW, capW: s.capW, maxW: this.spec.maxW, throughputPct: 100 * throughput(this.spec, s, this.sim.nowMs()), writes: this.writes };
  }

  /** Seeded BMC latency for the next request, ms. */
  latencyMs(): number {
    return 20 + 40 * unit(this.spec.seed, 23, this.requests++);
  }
}

const controlPatch = z.strictObject({ SetPoint: z.number().finite().optional(), ControlMode: z.enum(['Automatic', 'Override', 'Manual', 'Disabled']).optional() });
const legacyPatch = z.strictObject({ PowerControl: z.array(z.strictObject({ PowerLimit: z.strictObject({ LimitInWatts: z.number().finite().nullable() }) })).length(1) });

function redfishError(c: Pick<Context, 'json'>, status: 400 | 401 | 404, message: string): Response {
  return c.json({ error: { code: 'Base.1.8.GeneralError', message, '@Message.ExtendedInfo': [{ Message: message }] } }, status);
}

/** The Redfish resources of one BMC. */
export function bmcRoutes(s: SimGpuServer, delay: (ms: number) => Promise<void>): Hono {
  const app = new Hono();
  const auth = `Basic ${Buffer.from(`${s.creds.username}:${s.creds.password}`).toString('base64')}`;
  app.use('*', async (c, next) => {
    await delay(s.latencyMs());
    if (c.req.header('authorization') !== auth) return redfishError(c, 401, 'authentication required');
    await next();
    return undefined;
  });
  const ch = '/redfish/v1/Chassis/1';
  app.get('/redfish/v1/Chassis', (c) => c.json({ '@odata.id': '/redfish/v1/Chassis', Members: [{ '@odata.id': ch }], 'Members@odata.count': 1 }));
  app.get(ch, (c) =>
    c.json({
      '@odata.id': ch,
      '@odata.type': '#Chassis.v1_23_0.Chassis',
      Id: '1',
      Name: 'GPU server',
      ...(s.flavor === 'controls' ? { EnvironmentMetrics: { '@odata.id': `${ch}/EnvironmentMetrics` }, Controls: { '@odata.id': `${ch}/Controls` } } : {}),
      Power: { '@odata.id': `${ch}/Power` },
    }),
  );
  const control = () => ({
    '@odata.id': `${ch}/Controls/PowerLimit`,
    '@odata.type': '#Control.v1_3_0.Control',
    Id: 'PowerLimit',
    ControlType: 'Power',
    ControlMode: s.capW() === null ? 'Disabled' : 'Manual',
    SetPoint: s.capW(),
    SetPointUnits: 'W',
    AllowableMin: s.spec.minCapW,
    AllowableMax: s.spec.maxW,
  });
  const legacy = () => ({
    '@odata.id': `${ch}/Power`,
    '@odata.type': '#Power.v1_7_1.Power',
    PowerControl: [{ MemberId: '0', PowerConsumedWatts: Math.round(s.powerW()), PowerCapacityWatts: s.spec.maxW, PowerLimit: { LimitInWatts: s.capW(), LimitException: 'NoAction', CorrectionInMs: 2000 } }],
  });
  app.get(`${ch}/Power`, (c) => c.json(legacy()));
  app.patch(`${ch}/Power`, async (c) => {
    const p = legacyPatch.safeParse(await c.req.json().catch(() => null));
    if (!p.success) return redfishError(c, 400, 'malformed PATCH of Power');
    const w = p.data.PowerControl[0]?.PowerLimit.LimitInWatts ?? null;
    if (w !== null && (w < s.spec.minCapW || w > s.spec.maxW)) return redfishError(c, 400, `LimitInWatts ${w} outside ${s.spec.minCapW}–${s.spec.maxW}`);
    s.setCap(w);
    return c.body(null, 204);
  });
  if (s.flavor === 'controls') {
    app.get(`${ch}/EnvironmentMetrics`, (c) => c.json({ '@odata.id': `${ch}/EnvironmentMetrics`, '@odata.type': '#EnvironmentMetrics.v1_3_0.EnvironmentMetrics', PowerWatts: { Reading: Math.round(s.powerW() * 10) / 10, DataSourceUri: `${ch}/Sensors/TotalPower` } }));
    app.get(`${ch}/Controls`, (c) => c.json({ '@odata.id': `${ch}/Controls`, Members: [{ '@odata.id': `${ch}/Controls/PowerLimit` }], 'Members@odata.count': 1 }));
    app.get(`${ch}/Controls/PowerLimit`, (c) => c.json(control()));
    app.patch(`${ch}/Controls/PowerLimit`, async (c) => {
      const p = controlPatch.safeParse(await c.req.json().catch(() => null));
      if (!p.success) return redfishError(c, 400, 'malformed PATCH of the power control');
      if (p.data.ControlMode === 'Disabled') {
        s.setCap(null);
        return c.json(control());
      }
      const w = p.data.SetPoint ?? s.capW();
      if (w === null || w < s.spec.minCapW || w > s.spec.maxW) return redfishError(c, 400, `SetPoint ${String(w)} outside AllowableMin ${s.spec.minCapW} – AllowableMax ${s.spec.maxW}`);
      s.setCap(w);
      return c.json(control());
    });
  }
  app.notFound((c) => redfishError(c, 404, `no resource ${c.req.path}`));
  return app;
}

/** Seed of server `i` of a fleet seeded `seed`. */
export function serverSeed(seed: number, i: number): number {
  return hash32(seed, 0x69a, i);
}
