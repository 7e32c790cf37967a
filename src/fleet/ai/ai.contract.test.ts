/**
 * One contract for every AI power actuator, run against the simulator's GPU hall on loopback:
 * Redfish BMCs of both generations (Controls and legacy Power) and the power manager's feed-level
 * targets. Sim time is a fake clock (the cap's lag is moved, not waited for); BMC latency is off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/time.js';
import { CAP_TAU_MS } from '../sim/gpu/physics.js';
import { SimGpuFleet } from '../sim/gpu/gpu-fleet.js';
import type { AiPowerControl } from './control.js';
import { aiControlFor, parseAiInventory } from './inventory.js';
import { RedfishBmc } from './redfish.js';

const T0 = Date.UTC(2026, 5, 1, 18, 0, 0);
const sim = new FakeClock(T0);
const wall = new FakeClock(T0);
let hall: SimGpuFleet;

beforeAll(async () => {
  hall = await SimGpuFleet.start({ servers: 8, cidr: '127.131.0.0/24', port: 8000, serversPerFeed: 4, legacyShare: 0.5, manager: { host: '127.131.1.1', port: 0 }, load: 'gpu-hall', seed: 3, sim, wall, delay: () => Promise.resolve() });
});
afterAll(async () => {
  await hall.close();
});

function devices(kind: 'controls' | 'legacy' | 'feed'): { control: AiPowerControl; truth: () => { powerW: number; capW: number | null } } {
  if (kind === 'feed') {
    const d = hall.inventory('feed-target').devices[0];
    if (!d) throw new Error('no feed');
    const servers = hall.servers.filter((s) => s.feedTag === 'feed-a');
    return { control: aiControlFor(d, { nowMs: () => wall.nowMs(), timeoutMs: 10_000 }), truth: () => ({ powerW: servers.reduce((a, s) => a + s.powerW(), 0), capW: servers[0]?.capW() ?? null }) };
  }
  const s = hall.servers.find((x) => x.flavor === kind);
  const d = hall.inventory('redfish').devices.find((x) => x.id === s?.id);
  if (!s || !d) throw new Error(`no ${kind} server`);
  return { control: aiControlFor(d, { nowMs: () => wall.nowMs(), timeoutMs: 10_000 }), truth: () => ({ powerW: s.powerW(), capW: s.capW() }) };
}

describe.each(['controls', 'legacy', 'feed'] as const)('AI actuator contract: %s', (kind) => {
  it('reads the power drawn and the limit range', async () => {
    const { control, truth } = devices(kind);
    const w = await control.readPowerW();
    expect(Math.abs(w - truth().powerW)).toBeLessThan(1);
    const r = await control.limitRangeW();
    expect(r.minW).toBeGreaterThan(0);
    expect(r.maxW).toBeGreaterThan(r.minW);
    expect(await control.readPowerLimitW()).toBeNull();
  });

  it('caps within the range, the power follows within the settling time, and the cap clears', async () => {
    const { control, truth } = devices(kind);
    const r = await control.limitRangeW();
    const cap = Math.round(r.minW + 0.3 * (r.maxW - r.minW));
    await control.setPowerLimitW(cap);
    expect(await control.readPowerLimitW()).toBeCloseTo(cap, -1);
    sim.advance(5 * CAP_TAU_MS);
    expect(await control.readPowerW()).toBeLessThanOrEqual(cap * 1.01);
    expect(truth().powerW).toBeLessThanOrEqual(cap * 1.01);
    await control.clearPowerLimit();
    expect(await control.readPowerLimitW()).toBeNull();
    expect(truth().capW).toBeNull();
    sim.advance(5 * CAP_TAU_MS);
    expect(await control.readPowerW()).toBeGreaterThan(cap);
  });

  it('a limit outside the range is BAD_INPUT before anything is written', async () => {
    const { control } = devices(kind);
    const r = await control.limitRangeW();
    await expect(control.setPowerLimitW(r.minW / 2)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(control.setPowerLimitW(r.maxW * 2)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(await control.readPowerLimitW()).toBeNull();
  });
});

describe('AI actuators: refusals', () => {
  it('wrong BMC credentials are AUTH (permanent), not a retryable failure', async () => {
    const s = hall.servers[0];
    const bmc = new RedfishBmc({ id: 'x', baseUrl: `http://${s?.ip ?? ''}:8000`, username: 'mullet', password: 'wrong' });
    await expect(bmc.readPowerW()).rejects.toMatchObject({ code: 'AUTH', transient: false });
  });

  it('plain http to a BMC beyond loopback is refused (TLS is verified, never disabled)', () => {
    expect(() => new RedfishBmc({ id: 'x', baseUrl: 'http://10.1.2.3', username: 'u', password: 'p' })).toThrow(/allowed on loopback only/);
  });

  it('the inventory refuses duplicate ids and unknown device types', () => {
    expect(() => parseAiInventory({ version: 1, devices: [{ id: 'a', load: 'x', type: 'pdu', baseUrl: 'http://127.0.0.1' }] })).toThrow(/devices\.0\.type/);
    const d = { id: 'a', load: 'x', type: 'feed-target', baseUrl: 'http://127.0.0.1', feedTag: 'f', token: 't' };
    expect(() => parseAiInventory({ version: 1, devices: [d, d] })).toThrow(/duplicate id 'a'/);
  });
});
