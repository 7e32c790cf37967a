import net from 'node:net';
import { MulletError } from '../../core/errors.js';
import type { Clock } from '../../core/time.js';
import {
  encodeFrame,
  EXCEPTION,
  exceptionPdu,
  FC_READ_HOLDING,
  FC_READ_INPUT,
  floatToRegisters,
  frameLength,
  MAX_READ_REGISTERS,
  readMbap,
  readResponsePdu,
} from '../meter/modbus-frame.js';
import { SITE_METER_MAP, SITE_METER_REGISTERS } from '../meter/register-map.js';
import { simBindProblem } from './bind.js';
import type { SitePower } from './fleet.js';

/**
 * The simulated site revenue meter: a Modbus TCP server (any unit id) whose registers report
 * the power of every simulated miner plus the firm AI load (map in meter/register-map.ts).
 * Readings are fetched from the fleet on demand and reused for `cacheMs` (a revenue meter
 * updates about once a second; 200 ms keeps a polling agent honest). Import energy integrates
 * the total power over sim time.
 */
export interface MeterSource {
  sitePower(): Promise<SitePower>;
  readonly miners: readonly unknown[];
}

export interface MeterServerOptions {
  /** Reuse a reading this long, wall ms. */
  readonly cacheMs: number;
  readonly wall: Clock;
  readonly sim: Clock;
}

const MAX_PENDING_BYTES = 4096;

export class ModbusMeterServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private cached: { atWallMs: number; image: Uint16Array } | undefined;
  private inflight: Promise<Uint16Array> | undefined;
  private energyKWh = 0;
  private lastPower: { simMs: number; totalW: number } | undefined;

  constructor(
    private readonly source: MeterSource,
    private readonly opts: MeterServerOptions,
  ) {
    this.server = net.createServer((sock) => this.onConnection(sock));
    this.server.on('error', () => undefined);
  }

  /** Listens on loopback (any other address only with `allowNonLoopback`, see bind.ts). */
  listen(host: string, port: number, opts: { allowNonLoopback?: boolean } = {}): Promise<{ host: string; port: number }> {
    const problem = simBindProblem(host, '--meter', opts.allowNonLoopback);
    if (problem) return Promise.reject(problem);
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new MulletError('IO', `meter cannot listen on ${host}:${port}: ${err.message}`, { cause: err, where: `${host}:${port}` }));
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        const a = this.server.address();
        resolve({ host, port: typeof a === 'object' && a ? a.port : port });
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The register image now (cached for `cacheMs`). */
  image(): Promise<Uint16Array> {
    const now = this.opts.wall.nowMs();
    if (this.cached && now - this.cached.atWallMs < this.opts.cacheMs) return Promise.resolve(this.cached.image);
    // Concurrent reads share one fetch.
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<Uint16Array> {
    const p = await this.source.sitePower();
    const simNow = this.opts.sim.nowMs();
    if (this.lastPower && simNow > this.lastPower.simMs) {
      // Trapezoid between readings: kWh = W·h / 1000.
      this.energyKWh += ((this.lastPower.totalW + p.totalW) / 2) * ((simNow - this.lastPower.simMs) / 3_600_000) / 1000;
    }
    this.lastPower = { simMs: simNow, totalW: p.totalW };
    const img = new Uint16Array(SITE_METER_REGISTERS);
    const put = (addr: number, v: number): void => {
      const [a, b] = floatToRegisters(v);
      img[addr] = a;
      img[addr + 1] = b;
    };
    put(SITE_METER_MAP.voltageL1V, 277);
    put(SITE_METER_MAP.voltageL2V, 277);
    put(SITE_METER_MAP.voltageL3V, 277);
    put(SITE_METER_MAP.totalActivePowerW, p.totalW);
    put(SITE_METER_MAP.frequencyHz, 60);
    put(SITE_METER_MAP.importEnergyKWh, this.energyKWh);
    put(SITE_METER_MAP.miningPowerW, p.minersW);
    put(SITE_METER_MAP.aiLoadW, p.aiLoadW);
    put(SITE_METER_MAP.minerCount, this.source.miners.length);
    this.cached = { atWallMs: this.opts.wall.nowMs(), image: img };
    return img;
  }

  private onConnection(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.once('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    // Answers go out in request order even though each needs an async reading.
    let chain: Promise<void> = Promise.resolve();
    sock.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      for (;;) {
        const len = frameLength(buf);
        if (len === undefined || buf.length < len) break;
        const frame = buf.subarray(0, len);
        buf = buf.subarray(len);
        const h = readMbap(frame);
        // Not Modbus: drop the connection, as real gateways do.
        if (h.protocolId !== 0 || h.length < 2 || h.length > 254) {
          sock.destroy();
          return;
        }
        chain = chain.then(async () => {
          const pdu = await this.answer(frame.subarray(7));
          if (!sock.destroyed) sock.write(encodeFrame(h.transactionId, h.unitId, pdu));
        });
      }
      if (buf.length > MAX_PENDING_BYTES) sock.destroy();
    });
  }

  /** The response PDU for a request PDU. */
  async answer(pdu: Uint8Array): Promise<Uint8Array> {
    const fc = pdu[0] ?? 0;
    if (fc !== FC_READ_HOLDING && fc !== FC_READ_INPUT) return exceptionPdu(fc, EXCEPTION.illegalFunction);
    if (pdu.length !== 5) return exceptionPdu(fc, EXCEPTION.illegalDataValue);
    const address = ((pdu[1] as number) << 8) | (pdu[2] as number);
    const quantity = ((pdu[3] as number) << 8) | (pdu[4] as number);
    if (quantity < 1 || quantity > MAX_READ_REGISTERS) return exceptionPdu(fc, EXCEPTION.illegalDataValue);
    if (address + quantity > SITE_METER_REGISTERS) return exceptionPdu(fc, EXCEPTION.illegalDataAddress);
    let img: Uint16Array;
    try {
      img = await this.image();
    } catch {
      return exceptionPdu(fc, EXCEPTION.serverDeviceFailure);
    }
    return readResponsePdu(fc, img.subarray(address, address + quantity));
  }
}
