import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Test-only loopback HTTP server (127.0.0.1, ephemeral port) answering from a handler, so the real
 * fetch path is exercised without any network beyond loopback.
 */
export interface LoopbackReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Never answer (to exercise deadlines); the socket is destroyed on close(). */
  hang?: boolean;
}

export interface Loopback {
  baseUrl: string;
  /** Path plus query of every request received, in order. */
  seen: string[];
  close(): Promise<void>;
}

export type LoopbackHandler = (pathAndQuery: string, req: IncomingMessage, body: string) => LoopbackReply;

export async function startLoopback(handler: LoopbackHandler): Promise<Loopback> {
  const seen: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      seen.push(path);
      const reply = handler(path, req, Buffer.concat(chunks).toString('utf8'));
      if (reply.hang) return;
      res.writeHead(reply.status ?? 200, reply.headers ?? {});
      res.end(reply.body === undefined ? undefined : Buffer.from(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL on which nothing listens (bound, then released), for connection-refused tests. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
