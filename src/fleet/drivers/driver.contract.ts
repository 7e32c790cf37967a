/**
 * The one contract every driver passes, against any interchangeable target: the replay servers
 * serving recorded replies (drivers/replay.contract.test.ts) and the simulator (fleet/sim calls
 * this with its own targets). Call it inside a vitest file:
 *
 *   runDriverContract('luxos', async () => ({ host, ports: { api }, stateful: true, close }));
 *
 * Checks: declared capabilities match the methods and the type guards; telemetry is finite and
 * schema-valid; every capability call works; commands are verified by reading back when the
 * target is stateful; out-of-range power targets are BAD_INPUT before any write; every method
 * honours an aborted signal without I/O; refused/hanging endpoints give NETWORK/TIMEOUT
 * transient errors; close() is idempotent.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canReadHashrate,
  canReadHealth,
  canReadPower,
  canReadStatus,
  canSelectPreset,
  canSleep,
  canTargetPower,
  MINER_STATES,
  minerHealthDetailSchema,
  telemetrySchema,
  type DriverConfig,
  type DriverCredentials,
  type DriverPorts,
  type DriverRegistry,
  type MinerDriver,
  type MinerState,
  type Telemetry,
} from '../capabilities.js';
import { isMinerError } from '../protocols/errors.js';
import { defaultDriverRegistry } from './index.js';

export interface ContractTarget {
  host: string;
  ports: DriverPorts;
  creds?: DriverCredentials;
  /** Extra driver configuration (ratedPowerW, minPowerW, limits, clock). */
  config?: Partial<DriverConfig>;
  /**
   * True when commands change later reads (the simulator); false for fixed replays, where only
   * acceptance of commands is checked.
   */
  stateful: boolean;
  /** Values the target is known to report. */
  expect?: {
    model?: string | RegExp | null;
    firmware?: string | RegExp | null;
    states?: readonly MinerState[];
    /** Reported power: a number, 'null' (device reports none), or 'any'. */
    powerW?: number | 'null' | 'any';
    hashrateThs?: number;
  };
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Label in the test names (default: the type). */
  label?: string;
  registry?: DriverRegistry;
  /** Read-back polling for stateful targets: attempts and the pause between them, ms. */
  settle?: { attempts: number; delayMs: number };
  /** Tests to skip, by name, each with the reason (listed in the report as skipped). */
  skip?: Readonly<Record<string, string>>;
}

const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

function matches(actual: string | null, expected: string | RegExp | null): boolean {
  if (expected === null) return actual === null;
  if (actual === null) return false;
  return typeof expected === 'string' ? actual === expected : expected.test(actual);
}

/** Registers the contract tests for driver `type` against targets from `makeTarget`. */
export function runDriverContract(type: string, makeTarget: () => Promise<ContractTarget>, options: ContractOptions = {}): void {
  const registry = options.registry ?? defaultDriverRegistry();
  const label = options.label ?? type;
  const settle = options.settle ?? { attempts: 40, delayMs: 50 };
  const test = (name: string, fn: () => Promise<void>): void => {
    const reason = options.skip?.[name];
    if (reason !== undefined) it.skip(`${name} (skipped: ${reason})`, fn);
    else it(name, fn);
  };

  describe(`driver contract: ${label}`, () => {
    let target: ContractTarget;
    let driver: MinerDriver;
    const make = (over: Partial<DriverConfig> = {}): MinerDriver =>
      registry.create(type, { host: target.host, ports: target.ports, ...(target.creds ? { creds: target.creds } : {}), ...target.config, ...over });

    beforeAll(async () => {
      target = await makeTarget();
      driver = make();
    });
    afterAll(async () => {
      await driver.close();
      await target.close();
    });

    const readUntil = async (ok: (t: Telemetry) => boolean): Promise<Telemetry> => {
      if (!canReadStatus(driver)) throw new Error('no status capability');
      let last = await driver.readTelemetry();
      for (let i = 1; i < settle.attempts && !ok(last); i++) {
        await sleepMs(settle.delayMs);
        last = await driver.readTelemetry();
      }
      return last;
    };

    test('declared capabilities match the factory, the methods and the type guards', () => {
      const factory = registry.get(type);
      expect(driver.type).toBe(type);
      expect([...driver.capabilities].sort()).toEqual([...factory.capabilities].sort());
      expect(canReadHashrate(driver)).toBe(driver.capabilities.has('hashrate'));
      expect(canReadPower(driver)).toBe(driver.capabilities.has('power'));
      expect(canReadStatus(driver)).toBe(driver.capabilities.has('status'));
      expect(canSleep(driver)).toBe(driver.capabilities.has('sleep'));
      expect(canTargetPower(driver)).toBe(driver.capabilities.has('power-target'));
      expect(canSelectPreset(driver)).toBe(driver.capabilities.has('presets'));
      // Every driver must at least tell the controller what the machine is doing.
      expect(driver.capabilities.has('status')).toBe(true);
      return Promise.resolve();
    });

    test('hashboards and pools, where the driver reads them, are schema-valid', async () => {
      if (!canReadHealth(driver)) return;
      const h = await driver.readHealth();
      expect(minerHealthDetailSchema.parse(h)).toEqual(h);
    });

    test('telemetry is schema-valid, finite, and as expected', async () => {
      if (!canReadStatus(driver)) return;
      const t = await driver.readTelemetry();
      expect(telemetrySchema.parse(t)).toEqual(t);
      expect(MINER_STATES).toContain(t.state);
      for (const v of [t.hashrateThs, t.powerW ?? 0, ...t.tempsC, ...t.fansRpm]) expect(Number.isFinite(v)).toBe(true);
      const e = target.expect;
      if (e?.model !== undefined) expect(matches(t.model, e.model), `model ${t.model}`).toBe(true);
      if (e?.firmware !== undefined) expect(matches(t.firmware, e.firmware), `firmware ${t.firmware}`).toBe(true);
      if (e?.states) expect(e.states).toContain(t.state);
      if (e?.powerW === 'null') expect(t.powerW).toBeNull();
      else if (typeof e?.powerW === 'number') expect(t.powerW).toBeCloseTo(e.powerW, 6);
      if (e?.hashrateThs !== undefined) expect(t.hashrateThs).toBeCloseTo(e.hashrateThs, 6);
    });

    test('hashrate and power readers agree with telemetry', async () => {
      if (canReadHashrate(driver)) {
        const h = await driver.readHashrateThs();
        expect(Number.isFinite(h) && h >= 0).toBe(true);
        if (!target.stateful && target.expect?.hashrateThs !== undefined) expect(h).toBeCloseTo(target.expect.hashrateThs, 6);
      }
      if (canReadPower(driver)) {
        const p = await driver.readPowerW();
        expect(p === null || (Number.isFinite(p) && p >= 0)).toBe(true);
        if (!target.stateful && typeof target.expect?.powerW === 'number') expect(p).toBeCloseTo(target.expect.powerW, 6);
      }
    });

    test('sleep then wake are accepted (and read back when the target is stateful)', async () => {
      if (!canSleep(driver)) return;
      const readBack = await driver.sleep();
      // A status read on the command's connection is a real reading: the simulator sleeps at once.
      if (readBack !== undefined) {
        expect(Number.isFinite(readBack.hashrateThs) && readBack.hashrateThs >= 0).toBe(true);
        if (target.stateful) expect(readBack.state).toBe('sleeping');
      }
      if (target.stateful && canReadStatus(driver)) {
        const t = await readUntil((x) => x.state === 'sleeping');
        expect(t.state).toBe('sleeping');
      }
      await driver.wake();
      if (target.stateful && canReadStatus(driver)) {
        const t = await readUntil((x) => x.state === 'waking' || x.state === 'mining' || x.state === 'tuning');
        expect(['waking', 'mining', 'tuning']).toContain(t.state);
      }
    });

    test('power target: sane range, out-of-range is BAD_INPUT before any write, in-range is applied', async () => {
      if (!canTargetPower(driver)) return;
      const range = await driver.powerTargetRangeW();
      expect(range.minW).toBeGreaterThan(0);
      expect(range.minW).toBeLessThanOrEqual(range.maxW);
      for (const bad of [range.maxW + 1, range.minW - 1, Number.NaN]) {
        const err = await errorOf(driver.setPowerTargetW(bad));
        expect(err).toMatchObject({ code: 'BAD_INPUT' });
      }
      const want = Math.round((range.minW + range.maxW) / 2);
      const res = await driver.setPowerTargetW(want);
      expect(res.appliedW).toBeGreaterThanOrEqual(range.minW);
      expect(res.appliedW).toBeLessThanOrEqual(want);
      if (target.stateful && canReadPower(driver)) {
        // Verified by reading back: the draw must come down to (about) the applied target.
        let p = await driver.readPowerW();
        for (let i = 1; i < settle.attempts && (p === null || p > res.appliedW * 1.1); i++) {
          await sleepMs(settle.delayMs);
          p = await driver.readPowerW();
        }
        if (p !== null) expect(p).toBeLessThanOrEqual(res.appliedW * 1.1);
      }
    });

    test('presets are listed and one can be selected', async () => {
      if (!canSelectPreset(driver)) return;
      const presets = await driver.listPresets();
      expect(presets.length).toBeGreaterThan(0);
      for (const p of presets) {
        expect(p.name).not.toBe('');
        if (p.powerW !== null) expect(Number.isFinite(p.powerW)).toBe(true);
      }
      const first = presets[0];
      if (first) await driver.selectPreset(first.name);
    });

    test('every capability method honours an aborted signal without I/O', async () => {
      const signal = AbortSignal.abort();
      const calls: Promise<unknown>[] = [];
      if (canReadStatus(driver)) calls.push(driver.readTelemetry({ signal }));
      if (canReadHashrate(driver)) calls.push(driver.readHashrateThs({ signal }));
      if (canReadPower(driver)) calls.push(driver.readPowerW({ signal }));
      if (canSleep(driver)) calls.push(driver.sleep({ signal }), driver.wake({ signal }));
      if (canTargetPower(driver)) calls.push(driver.powerTargetRangeW({ signal }));
      if (canSelectPreset(driver)) calls.push(driver.listPresets({ signal }));
      if (driver.prepare) calls.push(driver.prepare({ signal }));
      for (const c of calls) expect(await errorOf(c)).toMatchObject({ code: 'ABORTED', transient: false });
    });

    test('refused and hanging endpoints give transient NETWORK / TIMEOUT errors', async () => {
      const held = new Set<net.Socket>();
      const hole = net.createServer((sock) => {
        held.add(sock); // accepts, never answers
        sock.on('error', () => undefined);
      });
      await new Promise<void>((r) => hole.listen(0, '127.0.0.1', () => r()));
      const holePort = (hole.address() as net.AddressInfo).port;
      const gone = net.createServer();
      await new Promise<void>((r) => gone.listen(0, '127.0.0.1', () => r()));
      const gonePort = (gone.address() as net.AddressInfo).port;
      await new Promise<void>((r) => gone.close(() => r()));
      try {
        const hanging = make({ host: '127.0.0.1', ports: { api: holePort, http: holePort } });
        const refused = make({ host: '127.0.0.1', ports: { api: gonePort, http: gonePort } });
        const read = (d: MinerDriver): Promise<unknown> => (canReadStatus(d) ? d.readTelemetry({ timeoutMs: 100 }) : Promise.reject(new Error('no status')));
        const t = await errorOf(read(hanging));
        expect(isMinerError(t) && t.code === 'TIMEOUT' && t.transient).toBe(true);
        const r = await errorOf(read(refused));
        expect(isMinerError(r) && r.code === 'NETWORK' && r.transient).toBe(true);
        if (canSleep(refused)) {
          const w = await errorOf(refused.sleep({ timeoutMs: 500 }));
          expect(isMinerError(w) && w.transient).toBe(true);
        }
      } finally {
        for (const sock of held) sock.destroy();
        await new Promise<void>((r) => hole.close(() => r()));
      }
    });

    test('prepare() (when offered) can be repeated and leaves writes working', async () => {
      const d = make();
      if (!d.prepare) return;
      await d.prepare();
      await d.prepare();
      if (canSleep(d)) {
        await d.sleep();
        await d.wake();
      }
      await d.close();
    });

    test('close() is idempotent', async () => {
      const d = make();
      await d.close();
      await d.close();
    });
  });
}
