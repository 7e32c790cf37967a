import net from 'node:net';
import { MulletError } from '../../core/errors.js';
import { encodeFrame, exceptionName, frameLength, MAX_READ_REGISTERS, readMbap, readRequestPdu } from './modbus-frame.js';

/**
 * A small Modbus TCP client for reading registers (functions 3 and 4). One persistent connection,
 * one request in flight at a time (meters and gateways serve one transaction at a time anyway),
 * reconnect after any failure. Every read has a deadline and takes an AbortSignal.
 * Errors: NETWORK (refused, reset, closed; transient), TIMEOUT (transient), ABORTED, PARSE (a
 * malformed reply), PROTOCOL (a Modbus exception; transient only for "busy"/gateway codes).
 */
export interface ModbusClientOptions {
  readonly host: string;
  /** Modbus TCP port, 502 on real meters. */
  readonly port: number;
  /** Unit (slave) id, 1 by default; gateways route by it. */
  readonly unitId?: number;
  /** Connect and per-read deadline, ms. */
  readonly timeoutMs?: number;
}

export interface ReadOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

const TRANSIENT_EXCEPTIONS = new Set([5, 6, 10, 11]);

export class ModbusTcpClient {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextTid = 1;
  private readonly where: string;

  constructor(private readonly opts: ModbusClientOptions) {
    this.where = `modbus://${opts.host}:${opts.port}`;
  }

  /** Reads `quantity` registers at `address` with function 3 (holding) or 4 (input). */
  readRegisters(fc: 3 | 4, address: number, quantity: number, ro: ReadOptions = {}): Promise<Uint16Array> {
    if (!Number.isInteger(address) || address < 0 || address > 0xffff) {
      return Promise.reject(new MulletError('BAD_INPUT', `register address out of range: ${address}`, { where: this.where }));
    }
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_READ_REGISTERS) {
      return Promise.reject(new MulletError('BAD_INPUT', `register count must be 1..${MAX_READ_REGISTERS}: ${quantity}`, { where: this.where }));
    }
    const run = (): Promise<Uint16Array> => this.exchange(fc, address, quantity, ro);
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (!s || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      s.once('close', () => resolve());
      s.destroy();
    });
  }

  private connect(deadlineMs: number, signal: AbortSignal | undefined): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection({ host: this.opts.host, port: this.opts.port });
      s.setNoDelay(true);
      const done = (err?: MulletError): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        s.off('connect', onConnect);
        s.off('error', onError);
        this.connecting = undefined;
        if (err) {
          s.destroy();
          reject(err);
        } else {
          s.on('error', () => s.destroy());
          s.once('close', () => {
            if (this.socket === s) this.socket = undefined;
          });
          this.socket = s;
          resolve(s);
        }
      };
      const onConnect = (): void => done();
      const onError = (e: NodeJS.ErrnoException): void => done(new MulletError('NETWORK', `connect failed: ${e.message}`, { where: this.where, cause: e }));
      const onAbort = (): void => done(new MulletError('ABORTED', 'aborted', { where: this.where, cause: signal?.reason }));
      const timer = setTimeout(() => done(new MulletError('TIMEOUT', `connect timed out after ${deadlineMs} ms`, { where: this.where })), Math.max(0, deadlineMs));
      s.once('connect', onConnect);
      s.once('error', onError);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return this.connecting;
  }

  private async exchange(fc: 3 | 4, address: number, quantity: number, ro: ReadOptions): Promise<Uint16Array> {
    if (ro.signal?.aborted) throw new MulletError('ABORTED', 'aborted', { where: this.where, cause: ro.signal.reason });
    const timeoutMs = ro.timeoutMs ?? this.opts.timeoutMs ?? 2_000;
    const started = Date.now();
    const sock = await this.connect(timeoutMs, ro.signal);
    const tid = this.nextTid;
    this.nextTid = (this.nextTid % 0xffff) + 1;
    const unitId = this.opts.unitId ?? 1;
    return new Promise<Uint16Array>((resolve, reject) => {
      let buf: Buffer = Buffer.alloc(0);
      const finish = (err: MulletError | undefined, value?: Uint16Array): void => {
        clearTimeout(timer);
        ro.signal?.removeEventListener('abort', onAbort);
        sock.off('data', onData);
        sock.off('close', onClose);
        // After a failure the stream position is unknown: start over on a fresh connection.
        if (err) sock.destroy();
        if (err) reject(err);
        else resolve(value as Uint16Array);
      };
      const onData = (d: Buffer): void => {
        buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
        for (;;) {
          const len = frameLength(buf);
          if (len === undefined || buf.length < len) return;
          const frame = buf.subarray(0, len);
          buf = buf.subarray(len);
          const h = readMbap(frame);
          if (h.protocolId !== 0 || h.length < 2) return finish(new MulletError('PARSE', 'reply is not a Modbus TCP frame', { where: this.where }));
          // A late answer to an earlier (timed-out) request: skip it.
          if (h.transactionId !== tid) continue;
          const pdu = frame.subarray(7);
          const rfc = pdu[0] ?? 0;
          if (rfc === (fc | 0x80)) {
            const code = pdu[1] ?? 0;
            return finish(new MulletError('PROTOCOL', `Modbus ${exceptionName(code)} (function ${fc}, address ${address}, count ${quantity})`, { where: this.where, transient: TRANSIENT_EXCEPTIONS.has(code) }));
          }
          if (rfc !== fc || pdu[1] !== quantity * 2 || pdu.length !== 2 + quantity * 2) {
            return finish(new MulletError('PARSE', `unexpected reply to function ${fc} (got function ${rfc}, ${pdu.length} bytes)`, { where: this.where }));
          }
          const regs = new Uint16Array(quantity);
          for (let i = 0; i < quantity; i++) regs[i] = ((pdu[2 + i * 2] as number) << 8) | (pdu[3 + i * 2] as number);
          return finish(undefined, regs);
        }
      };
      const onClose = (): void => finish(new MulletError('NETWORK', 'connection closed before the reply', { where: this.where }));
      const onAbort = (): void => finish(new MulletError('ABORTED', 'aborted', { where: this.where, cause: ro.signal?.reason }));
      const timer = setTimeout(
        () => finish(new MulletError('TIMEOUT', `no reply within ${timeoutMs} ms`, { where: this.where })),
        Math.max(0, timeoutMs - (Date.now() - started)),
      );
      sock.on('data', onData);
      sock.once('close', onClose);
      ro.signal?.addEventListener('abort', onAbort, { once: true });
      sock.write(encodeFrame(tid, unitId, readRequestPdu(fc, address, quantity)));
    });
  }
}
