import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/time.js';
import { catalogAsicFor } from '../../catalog/catalog.js';
import { builtinCapabilities, defaultDriverRegistry } from '../drivers/index.js';
import { parseInventory } from '../inventory.js';
import { scanFleet } from '../scan/scan.js';
import { parseCidr } from '../scan/targets.js';
import { ModbusMeterReader } from '../meter/meter-reader.js';
import { encodeFrame, readRequestPdu } from '../meter/modbus-frame.js';
import { ControlServer } from './control-api.js';
import { SimFleet, partition, planFleet, type FleetConfig } from './fleet.js';
import { DEFAULT_HOST_OPTIONS } from './host.js';
import { simInventory } from './inventory-export.js';
import { ModbusMeterServer } from './meter-server.js';
import { DEFAULT_MINER_OPTIONS } from './miner.js';
import { parseFirmwareMix, parseModelMix } from './mix.js';
import { api, cgJson, httpRequest, T0, TEST_HTTP_PORT } from './testing/clients.js';

const base = (over: Partial<FleetConfig>): FleetConfig => ({
  miners: 12,
  cidr: '127.123.0.0/24',
  mix: parseFirmwareMix('antminer-stock:1,luxos:1,braiins-legacy:1,whatsminer-v2:1'),
  models: parseModelMix('s21:1,s19xp:1,m60s:1'),
  seed: 5,
  timeScale: 1,
  listenersPerProcess: 10_000,
  aiLoadW: 2_500_000,
  host: { ...DEFAULT_HOST_OPTIONS, ports: { api: 4028, http: TEST_HTTP_PORT }, maintainEveryMs: 0 },
  miner: DEFAULT_MINER_OPTIONS,
  ...over,
});

/** Raw Modbus exchange: one request frame, the reply frame. */
function modbusRaw(port: number, frame: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ host: '127.0.0.1', port }, () => s.write(frame));
    s.once('data', (d: Buffer) => {
      s.destroy();
      resolve(d);
    });
    s.once('error', reject);
  });
}

describe('planning', () => {
  it('plans addresses in order and splits by listener budget (stock Antminers need two)', () => {
    const specs = planFleet(base({ miners: 10 }));
    expect(specs.map((s) => s.ip)).toEqual(Array.from({ length: 10 }, (_, i) => `127.123.0.${i + 1}`));
    const groups = partition(specs, 5);
    expect(groups.flat()).toEqual(specs);
    expect(groups.length).toBeGreaterThanOrEqual(3);
    for (const g of groups) expect(g.reduce((n, s) => n + (s.firmware === 'antminer-stock' ? 2 : 1), 0)).toBeLessThanOrEqual(5);
  });
});

describe('in-process fleet with meter and control API', () => {
  const sim = new FakeClock(T0);
  const wall = new FakeClock(T0);
  let fleet: SimFleet;
  let meter: ModbusMeterServer;
  let meterPort: number;
  let control: ControlServer;
  let controlUrl: string;

  beforeAll(async () => {
    fleet = await SimFleet.start(base({ clocks: { sim, wall } }), undefined, wall);
    meter = new ModbusMeterServer(fleet, { cacheMs: 0, wall, sim });
    meterPort = (await meter.listen('127.0.0.1', 0)).port;
    control = new ControlServer(fleet);
    const c = await control.listen('127.0.0.1', 0);
    controlUrl = `http://127.0.0.1:${c.port}`;
  });
  afterAll(async () => {
    await control.close();
    await meter.close();
    await fleet.close();
  });

  it('meters miners plus the firm AI load, as float32 W at 0x0034', async () => {
    const reader = new ModbusMeterReader({ host: '127.0.0.1', port: meterPort });
    const truth = await fleet.truth();
    const minersW = truth.reduce((a, t) => a + t.powerW, 0);
    expect(minersW).toBeGreaterThan(12 * 3000);
    const w = await reader.readSitePowerW();
    expect(w / (minersW + 2_500_000)).toBeCloseTo(1, 6);

    // Put some miners to sleep: the meter follows.
    for (const t of truth.slice(0, 6)) await fleet.act(t.ip, 'sleep');
    const after = (await fleet.truth()).reduce((a, t) => a + t.powerW, 0);
    expect(after).toBeLessThan(minersW / 2 + 1000);
    expect((await reader.readSitePowerW()) / (after + 2_500_000)).toBeCloseTo(1, 6);
    // Holding registers carry the same map.
    const viaHolding = new ModbusMeterReader({ host: '127.0.0.1', port: meterPort, functionCode: 3 });
    expect(await viaHolding.readSitePowerW()).toBe(await reader.readSitePowerW());
    await viaHolding.close();
    await reader.close();
    for (const t of truth.slice(0, 6)) await fleet.act(t.ip, 'wake');
  });

  it('answers Modbus exceptions for bad functions, addresses and counts', async () => {
    const ex = async (pdu: Uint8Array): Promise<number[]> => [...(await modbusRaw(meterPort, encodeFrame(9, 1, pdu))).subarray(7)];
    expect(await ex(Uint8Array.of(6, 0, 0x34, 0, 1))).toEqual([0x86, 1]);
    expect(await ex(readRequestPdu(4, 0x01ff, 2))).toEqual([0x84, 2]);
    expect(await ex(readRequestPdu(3, 0, 126))).toEqual([0x83, 3]);
    expect(await ex(readRequestPdu(3, 0, 0))).toEqual([0x83, 3]);
    const ok = await modbusRaw(meterPort, encodeFrame(0x1234, 7, readRequestPdu(4, 0x0046, 2)));
    // Transaction id and unit id echoed, length 7 (unit + fc + count + 4 bytes), 60.0 Hz.
    expect([...ok.subarray(0, 9)]).toEqual([0x12, 0x34, 0, 0, 0, 7, 7, 4, 4]);
    expect(ok.readFloatBE(9)).toBe(60);
  });

  it('serves ground truth, faults, actions and the AI load over the control API', async () => {
    const get = async (path: string): Promise<unknown> => JSON.parse((await httpRequest('127.0.0.1', Number(new URL(controlUrl).port), 'GET', path)).body) as unknown;
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
      const r = await httpRequest('127.0.0.1', Number(new URL(controlUrl).port), method, path, { 'Content-Type': 'application/json' }, body === undefined ? undefined : JSON.stringify(body));
      return { status: r.status, body: JSON.parse(r.body) as unknown };
    };
    expect(await get('/health')).toMatchObject({ ok: true, miners: 12, workers: 0 });
    const all = (await get('/miners')) as { miners: { ip: string; firmware: string }[] };
    expect(all.miners).toHaveLength(12);
    const lux = all.miners.find((m) => m.firmware === 'luxos') as { ip: string };
    expect(((await get('/miners?firmware=luxos')) as { miners: unknown[] }).miners).toHaveLength(3);

    expect((await call('POST', `/miners/${lux.ip}/faults`, { kind: 'ignore-sleep' })).status).toBe(201);
    expect(await get(`/miners/${lux.ip}`)).toMatchObject({ faults: [{ kind: 'ignore-sleep' }] });
    expect((await call('POST', `/miners/${lux.ip}/faults`, { kind: 'meltdown' })).status).toBe(400);
    expect((await call('DELETE', `/miners/${lux.ip}/faults`)).status).toBe(200);
    expect(await call('POST', `/miners/${lux.ip}/actions`, { action: 'sleep' })).toMatchObject({ status: 200, body: { state: 'sleeping' } });
    expect(((await get('/miners?state=sleeping')) as { miners: unknown[] }).miners).toHaveLength(1);
    expect((await call('GET', '/miners/127.99.0.1')).status).toBe(404);

    const bulk = await call('POST', '/faults', { ips: all.miners.slice(0, 4).map((m) => m.ip), fault: { kind: 'timeout', count: 2 } });
    expect(bulk.body).toEqual({ applied: 4 });
    expect(await call('DELETE', '/faults')).toMatchObject({ body: { cleared: 12 } });

    const site = await call('PUT', '/site', { aiLoadMW: 1.5 });
    expect(site.body).toMatchObject({ aiLoadW: 1_500_000 });
    const s = (await get('/site')) as { sitePowerW: number; minersPowerW: number; states: Record<string, number> };
    expect(s.sitePowerW).toBeCloseTo(s.minersPowerW + 1_500_000, 3);
    expect(s.states.sleeping).toBe(1);
  });

  it('exports an inventory the scanner format accepts', async () => {
    const inv = parseInventory(simInventory(fleet.miners, await fleet.truth(), wall.nowMs(), builtinCapabilities));
    expect(inv.miners).toHaveLength(12);
    const stock = inv.miners.find((m) => m.type === 'antminer-stock');
    // Ids by MAC where the firmware reports one, else by address: the scanner's rule.
    expect(stock).toMatchObject({ ports: { api: 4028, http: TEST_HTTP_PORT }, id: `mac:${stock?.macAddress ?? ''}` });
    expect(stock?.macAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const braiins = inv.miners.find((m) => m.type === 'braiins-legacy');
    expect(braiins).toMatchObject({ macAddress: null, id: braiins?.host });
    expect(inv.miners.find((m) => m.type === 'luxos')?.capabilities).toContain('sleep');
    for (const m of inv.miners) expect(m.catalogModel).toBe(m.model);
  });

  it('a scan of the simulator names every miner as the exported inventory does (ids, catalog models, rated power)', async () => {
    const exported = parseInventory(simInventory(fleet.miners, await fleet.truth(), wall.nowMs(), builtinCapabilities));
    const { inventory } = await scanFleet({
      registry: defaultDriverRegistry(),
      ranges: [parseCidr('127.123.0.0/28', 'cidr')],
      concurrency: 16,
      apiPort: 4028,
      httpPort: TEST_HTTP_PORT,
      timeoutMs: 2000,
      clock: wall,
      ratedPowerW: (model) => catalogAsicFor(model)?.powerW ?? null,
      catalogModel: (model) => catalogAsicFor(model)?.model ?? null,
    });
    const scanned = new Map(inventory.miners.map((m) => [m.host, m]));
    expect(inventory.miners).toHaveLength(exported.miners.length);
    for (const e of exported.miners) {
      const s = scanned.get(e.host);
      expect(s?.id, `${e.type} at ${e.host}`).toBe(e.id);
      // Firmware names (Whatsminer 'M60S_VK40') map to the catalog model and its nameplate.
      expect(s?.catalogModel, `${e.type} ${s?.model ?? ''}`).toBe(e.catalogModel);
      expect(s?.ratedPowerW).toBe(catalogAsicFor(e.catalogModel)?.powerW);
    }
    expect(inventory.miners.find((m) => m.type === 'whatsminer-v2')?.model).toMatch(/_VK40$/);
  });
});

describe('multi-process fleet', () => {
  it('splits N=300 over worker processes when one process cannot hold every listener', async () => {
    const fleet = await SimFleet.start(base({ miners: 300, cidr: '127.124.0.0/23', listenersPerProcess: 200 }));
    try {
      expect(fleet.workers).toBeGreaterThanOrEqual(2);
      expect(fleet.listeners).toBeGreaterThan(300);
      const truth = await fleet.truth();
      expect(truth.map((t) => t.index)).toEqual(Array.from({ length: 300 }, (_, i) => i));
      // A miner served by the last worker answers on its own address.
      const last = fleet.miners[299] as (typeof fleet.miners)[number];
      expect(last.ip).toBe('127.124.1.46');
      const version = cgJson(await api(last.ip, { command: 'version' }));
      expect(version.STATUS).toBeDefined();
      // Faults and actions reach the right worker.
      expect(await fleet.act(last.ip, 'power-off')).toBe(true);
      expect((await fleet.truth(last.ip))[0]).toMatchObject({ state: 'off', listening: false });
      const site = await fleet.sitePower();
      const sum = (await fleet.truth()).reduce((a, t) => a + t.powerW, 0);
      expect(site.minersW / sum).toBeCloseTo(1, 2);
      const counts = await fleet.stateCounts();
      expect(counts.off).toBe(1);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(300);
    } finally {
      await fleet.close();
    }
  });
});
