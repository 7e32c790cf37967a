import net from 'node:net';
import { abortedError, callProblem, DEFAULT_LIMITS, hostPort, remainingMs, type CallContext, type ExchangeLimits } from './call.js';
import { faultFromSocketError, MinerError } from './errors.js';

export interface TcpExchangeRequest {
  host: string;
  port: number;
  payload: string | Uint8Array;
  limits?: Partial<ExchangeLimits>;
  /**
   * Resolve at the first NUL byte instead of waiting for the close: cgminer ends every reply with
   * `\0`, and some firmware keeps the socket open a while after it. JSON never contains a raw NUL.
   */
  stopAtNul?: boolean;
}

export interface TcpExchangeReply {
  /** Reply bytes, without the terminating NUL when there was one. */
  bytes: Buffer;
  /** True when the reply ended with the cgminer terminator (a complete reply). */
  endedWithNul: boolean;
}

/**
 * One request per connection, as cgminer-style APIs expect: connect, write the payload, read
 * until the peer closes (or the NUL terminator). Errors are MinerErrors with a fault kind:
 * refused/unreachable/reset/closed (NETWORK, transient), timeout (TIMEOUT, transient),
 * too-large (PARSE), aborted (ABORTED). At most one socket is open per call at any time.
 */
export function tcpExchange(ctx: CallContext, req: TcpExchangeRequest): Promise<TcpExchangeReply> {
  const where = hostPort(req.host, req.port);
  const problem = callProblem(ctx, where);
  if (problem) return Promise.reject(problem);
  const limits: ExchangeLimits = { ...DEFAULT_LIMITS, ...req.limits };
  const stopAtNul = req.stopAtNul ?? true;

  return new Promise<TcpExchangeReply>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let connected = false;
    let timer: NodeJS.Timeout | undefined;

    const socket = net.createConnection({ host: req.host, port: req.port });
    socket.setNoDelay(true);

    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('data');
      socket.destroy();
    };
    const fail = (err: MinerError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(err);
    };
    const succeed = (endedWithNul: boolean): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve({ bytes: Buffer.concat(chunks, size), endedWithNul });
    };
    const armTimer = (ms: number, what: string): void => {
      if (timer) clearTimeout(timer);
      const capped = Math.max(0, Math.min(ms, remainingMs(ctx)));
      timer = setTimeout(() => fail(new MinerError('timeout', `${what} timed out after ${Math.round(capped)} ms`, { where })), capped);
    };
    function onAbort(): void {
      fail(abortedError(where, ctx.signal?.reason));
    }

    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    armTimer(limits.connectTimeoutMs, 'connect');

    socket.once('connect', () => {
      connected = true;
      armTimer(limits.readTimeoutMs, 'reply');
      socket.write(req.payload);
    });
    socket.on('data', (chunk: Buffer) => {
      const nul = stopAtNul ? chunk.indexOf(0) : -1;
      const part = nul >= 0 ? chunk.subarray(0, nul) : chunk;
      size += part.length;
      if (size > limits.maxReplyBytes) {
        fail(new MinerError('too-large', `reply larger than ${limits.maxReplyBytes} bytes`, { where }));
        return;
      }
      chunks.push(part);
      if (nul >= 0) succeed(true);
    });
    socket.once('end', () => {
      if (size === 0) {
        fail(new MinerError('closed', connected ? 'peer closed without replying' : 'peer closed before connect', { where }));
        return;
      }
      // The NUL terminator may arrive as the last byte of the stream when stopAtNul is off.
      const last = chunks.length > 0 ? chunks[chunks.length - 1] : undefined;
      if (!stopAtNul && last && last.length > 0 && last[last.length - 1] === 0) {
        chunks[chunks.length - 1] = last.subarray(0, last.length - 1);
        size -= 1;
        succeed(true);
        return;
      }
      succeed(false);
    });
    socket.once('error', (err: Error) => {
      const fault = faultFromSocketError(err);
      fail(new MinerError(fault, `${connected ? 'connection' : 'connect'} failed: ${err.message}`, { where, cause: err }));
    });
    socket.once('close', () => {
      // 'close' without 'end' or 'error' happens when the peer vanishes mid-stream.
      if (!settled) fail(new MinerError('reset', 'connection closed unexpectedly', { where }));
    });
  });
}
