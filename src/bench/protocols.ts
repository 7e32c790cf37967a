/**
 * Wire-framing benchmark: what hostile replies cost the site agent. A loopback server sends each
 * reply in MSS-sized writes (1,460 bytes, one TCP segment each as far as the kernel allows) and the
 * client side reads it with the project's own clients; figures are wall time and this process's
 * CPU time (the server's share is a few ms of writes).
 *
 *   - httpHeaderFlood1MB: status line, then 1 MiB of header lines (a "header-flooding device"),
 *     read with the default limits (rejected at the 16 KiB header cap) and with the cap raised
 *     above 1 MiB (the cost of reading the flood itself, which must be linear);
 *   - httpChunkedBody4MB: a legitimate 4 MiB chunked body;
 *   - cgminerTrailingSpaces128K: a cgminer reply followed by 128 KiB of spaces and one byte.
 * Only public APIs that existed before the framing rewrite are used, so the same file measures the
 * old code (copy it into an old build's dist/bench).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { startCall } from '../fleet/protocols/call.js';
import { cgminerCommand } from '../fleet/protocols/cgminer.js';
import { httpExchange } from '../fleet/protocols/http1.js';

const SEGMENT = 1460;

export interface FramingFigure {
  outcome: string;
  wallMs: number;
  cpuMs: number;
  replyBytes: number;
}

/** Serves `reply` to every connection in SEGMENT-byte writes, each after the previous one drained. */
async function segmentedServer(reply: Buffer): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = net.createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => {
      let at = 0;
      const next = (): void => {
        if (s.destroyed) return;
        if (at >= reply.length) return void s.end();
        const part = reply.subarray(at, at + SEGMENT);
        at += part.length;
        s.write(part, () => setImmediate(next));
      };
      next();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  return { port, close: () => new Promise((r) => srv.close(() => r())) };
}

async function measure(reply: Buffer, call: (port: number) => Promise<string>): Promise<FramingFigure> {
  const server = await segmentedServer(reply);
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const outcome = await call(server.port).catch((err: unknown) => `error ${(err as { fault?: string }).fault ?? ''}: ${err instanceof Error ? err.message.slice(0, 80) : String(err)}`);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { outcome, wallMs: Math.round(wallMs), cpuMs: Math.round((cpu.user + cpu.system) / 1000), replyBytes: reply.length };
  } finally {
    await server.close();
  }
}

function headerFlood(bytes: number): Buffer {
  const line = `X-Flood: ${'a'.repeat(54)}\r\n`;
  return Buffer.from(`HTTP/1.1 200 OK\r\n${line.repeat(Math.ceil(bytes / line.length))}Content-Length: 2\r\n\r\nok`, 'latin1');
}

function chunkedBody(bytes: number): Buffer {
  const piece = 'y'.repeat(4096);
  const chunk = `${piece.length.toString(16)}\r\n${piece}\r\n`;
  return Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(Math.ceil(bytes / piece.length))}0\r\n\r\n`, 'latin1');
}

export async function benchProtocols(): Promise<Record<string, unknown>> {
  const get = (port: number, limits?: Record<string, number>) =>
    httpExchange(startCall({ timeoutMs: 600_000 }), { method: 'GET', host: '127.0.0.1', port, path: '/', ...(limits ? { limits: { readTimeoutMs: 600_000, ...limits } } : { limits: { readTimeoutMs: 600_000 } }) }).then(
      (r) => `HTTP ${r.status}, ${r.body.length} body bytes`,
    );
  const flood = headerFlood(1024 * 1024);
  const chunked = chunkedBody(4 * 1024 * 1024 - 64 * 1024);
  const spaces = Buffer.from(`{"STATUS":[{"STATUS":"S","Code":11,"Msg":"Summary"}],"SUMMARY":[{}],"id":1}${' '.repeat(128 * 1024)}x`, 'latin1');
  return {
    httpHeaderFlood1MB: await measure(flood, (port) => get(port)),
    httpHeaderFlood1MBLimitRaised: await measure(flood, (port) => get(port, { maxHeaderBytes: 2 * 1024 * 1024, maxHeaderCount: 100_000 })),
    httpChunkedBody4MB: await measure(chunked, (port) => get(port)),
    cgminerTrailingSpaces128K: await measure(spaces, (port) =>
      cgminerCommand({ host: '127.0.0.1', port, limits: { readTimeoutMs: 600_000 } }, 'summary', { timeoutMs: 600_000 }).then((r) => `STATUS ${r.status.letter}`),
    ),
  };
}
