import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/time.js';
import { ModbusMeterServer } from '../sim/meter-server.js';
import { ModbusMeterReader, parseHostPort } from './meter-reader.js';
import { ModbusTcpClient } from './modbus-client.js';
import { encodeFrame, exceptionPdu, floatToRegisters, readMbap, readResponsePdu, registersToFloat } from './modbus-frame.js';
import { SITE_METER_MAP } from './register-map.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

/** A raw Modbus server whose reply to each request frame is computed by `reply` (null: stay silent). */
async function rawServer(reply: (frame: Buffer) => Buffer | null): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      const out = reply(d);
      if (out) s.write(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as net.AddressInfo).port;
}

describe('Modbus framing', () => {
  it('encodes the documented example frames', () => {
    expect([...encodeFrame(7, 1, Uint8Array.of(4, 0, 0x34, 0, 2))]).toEqual([0, 7, 0, 0, 0, 6, 1, 4, 0, 0x34, 0, 2]);
    const [hi, lo] = floatToRegisters(5000);
    expect([...encodeFrame(7, 1, readResponsePdu(4, [hi, lo]))]).toEqual([0, 7, 0, 0, 0, 7, 1, 4, 4, 0x45, 0x9c, 0x40, 0]);
    expect([...encodeFrame(7, 1, exceptionPdu(4, 2))]).toEqual([0, 7, 0, 0, 0, 3, 1, 0x84, 2]);
    expect(readMbap(encodeFrame(0xbeef, 9, Uint8Array.of(3)))).toEqual({ transactionId: 0xbeef, protocolId: 0, length: 2, unitId: 9 });
  });
  it('round-trips float32 in both word orders', () => {
    for (const v of [0, 1.5, -273.15, 123_456_789]) {
      const [a, b] = floatToRegisters(v, 'little');
      expect(registersToFloat(a, b, 'little')).toBe(Math.fround(v));
      expect(registersToFloat(...floatToRegisters(v))).toBe(Math.fround(v));
    }
  });
});

describe('ModbusMeterReader', () => {
  it('reads total site power from the simulated meter (and keeps its connection)', async () => {
    const wall = new FakeClock(0);
    let totalW = 12_345_678;
    const meter = new ModbusMeterServer({ miners: [1, 2, 3], sitePower: () => Promise.resolve({ totalW, minersW: totalW - 2e6, aiLoadW: 2e6 }) }, { cacheMs: 0, wall, sim: wall });
    const { port } = await meter.listen('127.0.0.1', 0);
    closers.push(() => meter.close());
    const reader = new ModbusMeterReader({ host: '127.0.0.1', port });
    closers.push(() => reader.close());
    expect(await reader.readSitePowerW()).toBe(Math.fround(12_345_678));
    totalW = 1_000_000;
    expect(await reader.readSitePowerW()).toBe(1_000_000);
    const ai = new ModbusMeterReader({ host: '127.0.0.1', port, register: SITE_METER_MAP.aiLoadW, functionCode: 3 });
    closers.push(() => ai.close());
    expect(await ai.readSitePowerW()).toBe(2e6);
    // Energy integrates over sim time: 1 MW for 1 h = 1000 kWh.
    wall.advance(3_600_000);
    const energy = new ModbusMeterReader({ host: '127.0.0.1', port, register: SITE_METER_MAP.importEnergyKWh });
    closers.push(() => energy.close());
    expect(await energy.readSitePowerW()).toBeCloseTo(1000, 3);
  });

  it('scales kW registers, swaps words on request, rejects non-finite values', async () => {
    const port = await rawServer((f) => {
      const h = readMbap(f);
      const value = h.transactionId === 1 ? 2.5 : NaN;
      return encodeFrame(h.transactionId, h.unitId, readResponsePdu(4, floatToRegisters(value, 'little')));
    });
    const reader = new ModbusMeterReader({ host: '127.0.0.1', port, wordOrder: 'little', scaleToW: 1000 });
    closers.push(() => reader.close());
    expect(await reader.readSitePowerW()).toBe(2500);
    await expect(reader.readSitePowerW()).rejects.toMatchObject({ code: 'PARSE' });
  });

  it('maps exceptions, silence, refusals and aborts to typed errors', async () => {
    const exc = await rawServer((f) => encodeFrame(readMbap(f).transactionId, 1, exceptionPdu(4, 2)));
    const c1 = new ModbusTcpClient({ host: '127.0.0.1', port: exc });
    closers.push(() => c1.close());
    await expect(c1.readRegisters(4, 0x34, 2)).rejects.toMatchObject({ code: 'PROTOCOL', transient: false, message: expect.stringMatching(/illegal data address/) as unknown });

    const busy = await rawServer((f) => encodeFrame(readMbap(f).transactionId, 1, exceptionPdu(4, 6)));
    const c2 = new ModbusTcpClient({ host: '127.0.0.1', port: busy });
    closers.push(() => c2.close());
    await expect(c2.readRegisters(4, 0x34, 2)).rejects.toMatchObject({ code: 'PROTOCOL', transient: true });

    const silent = await rawServer(() => null);
    const c3 = new ModbusTcpClient({ host: '127.0.0.1', port: silent, timeoutMs: 100 });
    closers.push(() => c3.close());
    await expect(c3.readRegisters(4, 0x34, 2)).rejects.toMatchObject({ code: 'TIMEOUT', transient: true });
    await expect(c3.readRegisters(4, 0x34, 2, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(c3.readRegisters(4, 0x34, 200)).rejects.toMatchObject({ code: 'BAD_INPUT' });

    const gone = net.createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', () => r()));
    const gonePort = (gone.address() as net.AddressInfo).port;
    await new Promise<void>((r) => gone.close(() => r()));
    const c4 = new ModbusTcpClient({ host: '127.0.0.1', port: gonePort });
    await expect(c4.readRegisters(4, 0x34, 2)).rejects.toMatchObject({ code: 'NETWORK', transient: true });
  });

  it('parses HOST:PORT', () => {
    expect(parseHostPort('127.0.0.1:502', '--meter')).toEqual({ host: '127.0.0.1', port: 502 });
    expect(parseHostPort('meter.local', '--meter', 502)).toEqual({ host: 'meter.local', port: 502 });
    expect(() => parseHostPort('x:99999', '--meter')).toThrow(/--meter|HOST:PORT/);
  });
});
