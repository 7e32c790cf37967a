import net from 'node:net';
import { abortedError, callProblem, DEFAULT_LIMITS, hostPort, remainingMs, type CallContext, type ExchangeLimits } from './call.js';
import { faultFromSocketError, isMinerError, MinerError } from './errors.js';

/**
 * How a reply ends: 'nul' at the first NUL byte or the close (cgminer ends every reply with `\0`,
 * and some firmware keeps the socket open a while after it; JSON never contains a raw NUL), 'close'
 * at the close, or a framing check (HTTP) called with each chunk as it arrives, true when the
 * reply is complete. The check keeps its own state: it is never handed the bytes received so far,
 * which would make a reply in n small chunks cost O(n²) (the bytes are joined once, at the end).
 */
export type ReplyEnd = 'nul' | 'close' | ((chunk: Buffer) => boolean);

export interface TcpExchangeRequest {
  host: string;
  port: number;
  payload: string | Uint8Array;
  limits?: Partial<ExchangeLimits>;
  /** Default 'nul'. */
  until?: ReplyEnd;
}

export interface TcpExchangeReply {
  /** Reply bytes, without the terminating NUL when there was one. */
  bytes: Buffer;
  /** True when the reply ended with the cgminer terminator (a complete reply). */
  endedWithNul: boolean;
}

interface Pending {
  ctx: CallContext;
  until: ReplyEnd;
  resolve: (r: TcpExchangeReply) => void;
  reject: (e: MinerError) => void;
  chunks: Buffer[];
  size: number;
  timer: NodeJS.Timeout | undefined;
  onAbort: () => void;
}

/**
 * One TCP connection to a device, for one exchange (cgminer-style APIs: request, reply, close) or,
 * with a framed reply end, several in turn (HTTP keep-alive). Connects at the first exchange; every
 * exchange has the connect and read deadlines of `limits`, capped by its call's deadline, and its
 * call's AbortSignal. A connection the peer closed, or that failed, is not reused: the next exchange
 * opens a new one. Errors are MinerErrors with a fault kind: refused/unreachable/reset/closed
 * (NETWORK, transient), timeout (TIMEOUT, transient), too-large (PARSE), aborted (ABORTED).
 */
export class TcpConnection {
  readonly where: string;
  private readonly limits: ExchangeLimits;
  private socket: net.Socket | null = null;
  private connected = false;
  /** The peer sent its FIN, or the socket failed: no further exchange on it. */
  private spent = false;
  private pending: Pending | null = null;

  constructor(
    readonly host: string,
    readonly port: number,
    limits?: Partial<ExchangeLimits>,
  ) {
    this.where = hostPort(host, port);
    this.limits = limits ? { ...DEFAULT_LIMITS, ...limits } : DEFAULT_LIMITS;
  }

  /** True when a socket is open and may carry another exchange. */
  get reusable(): boolean {
    return this.socket !== null && this.connected && !this.spent;
  }

  /** Sends `payload` and reads the reply; one exchange at a time per connection. */
  exchange(ctx: CallContext, payload: string | Uint8Array, until: ReplyEnd = 'nul'): Promise<TcpExchangeReply> {
    const problem = callProblem(ctx, this.where);
    if (problem) return Promise.reject(problem);
    if (this.pending) return Promise.reject(new MinerError('unsupported', 'an exchange is already in progress on this connection', { where: this.where }));
    if (this.socket && this.spent) this.close();
    return new Promise<TcpExchangeReply>((resolve, reject) => {
      const p: Pending = { ctx, until, resolve, reject, chunks: [], size: 0, timer: undefined, onAbort: () => this.fail(abortedError(this.where, ctx.signal?.reason)) };
      this.pending = p;
      ctx.signal?.addEventListener('abort', p.onAbort, { once: true });
      if (this.socket) {
        this.arm(this.limits.readTimeoutMs, 'reply');
        this.socket.write(payload);
        return;
      }
      this.arm(this.limits.connectTimeoutMs, 'connect');
      const socket = net.createConnection({ host: this.host, port: this.port, noDelay: true });
      this.socket = socket;
      // Events of a socket this connection has already let go of must not touch the next one.
      const mine = (): boolean => this.socket === socket;
      socket.once('connect', () => {
        if (!mine()) return;
        this.connected = true;
        if (!this.pending) return;
        this.arm(this.limits.readTimeoutMs, 'reply');
        socket.write(payload);
      });
      socket.on('data', (chunk: Buffer) => {
        if (mine()) this.onData(chunk);
      });
      socket.once('end', () => {
        if (mine()) this.onEnd();
      });
      socket.on('error', (err: Error) => {
        if (!mine()) return;
        this.spent = true;
        const fault = faultFromSocketError(err);
        this.fail(new MinerError(fault, `${this.connected ? 'connection' : 'connect'} failed: ${err.message}`, { where: this.where, cause: err }));
      });
      socket.once('close', () => {
        if (!mine()) return;
        this.spent = true;
        // 'close' without 'end' or 'error' happens when the peer vanishes mid-stream.
        this.fail(new MinerError('reset', 'connection closed unexpectedly', { where: this.where }));
      });
    });
  }

  /** Closes the socket (idempotent); an exchange in progress fails as aborted. */
  close(): void {
    if (this.pending) this.fail(abortedError(this.where, 'connection closed'));
    const s = this.socket;
    this.socket = null;
    this.connected = false;
    this.spent = false;
    if (s) {
      s.removeAllListeners('data');
      s.destroy();
    }
  }

  private arm(ms: number, what: string): void {
    const p = this.pending;
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    const capped = Math.max(0, Math.min(ms, remainingMs(p.ctx)));
    p.timer = setTimeout(() => this.fail(new MinerError('timeout', `${what} timed out after ${Math.round(capped)} ms`, { where: this.where })), capped);
  }

  private onData(chunk: Buffer): void {
    const p = this.pending;
    if (!p) {
      // Bytes nobody asked for: the stream is out of step, so it must not carry another exchange.
      this.spent = true;
      return;
    }
    const nul = p.until === 'nul' ? chunk.indexOf(0) : -1;
    const part = nul >= 0 ? chunk.subarray(0, nul) : chunk;
    p.size += part.length;
    if (p.size > this.limits.maxReplyBytes) {
      this.spent = true;
      this.fail(new MinerError('too-large', `reply larger than ${this.limits.maxReplyBytes} bytes`, { where: this.where }));
      return;
    }
    p.chunks.push(part);
    if (nul >= 0) {
      // One request per connection for NUL-terminated APIs: nothing more may follow.
      this.spent = true;
      this.succeed(true);
      return;
    }
    if (typeof p.until !== 'function') return;
    let whole: boolean;
    try {
      whole = p.until(part);
    } catch (err) {
      // The framing check saw a reply that can never become valid: fail now, not at the deadline.
      this.spent = true;
      this.fail(isMinerError(err) ? err : new MinerError('garbage', `unreadable reply: ${err instanceof Error ? err.message : String(err)}`, { where: this.where, cause: err }));
      return;
    }
    if (whole) this.succeed(false);
  }

  private onEnd(): void {
    this.spent = true;
    const p = this.pending;
    if (!p) return;
    if (p.size === 0) {
      this.fail(new MinerError('closed', this.connected ? 'peer closed without replying' : 'peer closed before connect', { where: this.where }));
      return;
    }
    // The NUL terminator may arrive as the last byte of the stream when reading to the close.
    const last = p.chunks[p.chunks.length - 1];
    if (p.until === 'close' && last && last.length > 0 && last[last.length - 1] === 0) {
      p.chunks[p.chunks.length - 1] = last.subarray(0, last.length - 1);
      p.size -= 1;
      this.succeed(true);
      return;
    }
    this.succeed(false);
  }

  private settle(): Pending | null {
    const p = this.pending;
    if (!p) return null;
    this.pending = null;
    if (p.timer) clearTimeout(p.timer);
    p.ctx.signal?.removeEventListener('abort', p.onAbort);
    return p;
  }

  private succeed(endedWithNul: boolean): void {
    const p = this.settle();
    if (!p) return;
    p.resolve({ bytes: p.chunks.length === 1 ? (p.chunks[0] as Buffer) : Buffer.concat(p.chunks, p.size), endedWithNul });
  }

  private fail(err: MinerError): void {
    const p = this.settle();
    if (!p) return;
    // A failed exchange leaves the stream in an unknown place: never reuse it.
    this.spent = true;
    if (this.socket) {
      this.socket.removeAllListeners('data');
      this.socket.destroy();
    }
    p.reject(err);
  }
}

/**
 * One request per connection, as cgminer-style APIs expect: connect, write the payload, read
 * until the reply ends (see ReplyEnd), close. At most one socket is open per call at any time.
 */
export async function tcpExchange(ctx: CallContext, req: TcpExchangeRequest): Promise<TcpExchangeReply> {
  const conn = new TcpConnection(req.host, req.port, req.limits);
  try {
    return await conn.exchange(ctx, req.payload, req.until ?? 'nul');
  } finally {
    conn.close();
  }
}
