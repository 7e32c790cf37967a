/**
 * Serves a Hono app on node:http (@hono/node-server) with the limits every Mullet listener keeps:
 * loopback unless told otherwise (a non-loopback address is refused without `allowNonLoopback` —
 * the callers have no authentication yet — and logged loudly with it), a cap on open connections
 * (idle keep-alives included) so clients cannot take the descriptors devices need, header and
 * request timeouts, and a bounded header count.
 */
import { createAdaptorServer } from '@hono/node-server';
import { createServer as createHttpsServer } from 'node:https';
import type { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { MulletError, badInput } from '../core/errors.js';
import { isLoopbackHost } from '../core/net.js';

export interface ServeOptions {
  host: string;
  port: number;
  /** Most open connections at once; more are closed on arrival. */
  maxConnections?: number;
  allowNonLoopback?: boolean;
  /** The flag that permits a non-loopback address, named in the refusal. */
  allowFlag?: string;
  /** What is exposed, for the refusal and the warning. */
  what?: string;
  log?: (line: string) => void;
  /** Serve HTTPS with this certificate and private key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8420 */
  readonly url: string;
  close(): Promise<void>;
}

export const DEFAULT_MAX_CONNECTIONS = 64;

export async function serveHttp(app: Hono, o: ServeOptions): Promise<RunningServer> {
  const what = o.what ?? 'this API';
  if (!isLoopbackHost(o.host)) {
    if (!o.allowNonLoopback) {
      throw badInput(
        `'${o.host}' can be reached from other machines and ${what} has no authentication yet: anyone who reaches it can act on the site. Keep it on loopback (127.0.0.1) behind an authenticating proxy, or pass ${o.allowFlag ?? '--allow-non-loopback'} to accept the risk`,
        '--listen',
      );
    }
    o.log?.(`WARNING: ${what} listens on ${o.host}:${o.port}, reachable from other machines, WITHOUT AUTHENTICATION: anyone who reaches it can act on this site`);
  }
  const server = (o.tls ? createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false, createServer: createHttpsServer, serverOptions: { cert: o.tls.cert, key: o.tls.key } }) : createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false })) as Server;
  server.maxConnections = o.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  server.requestTimeout = 90_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new MulletError('IO', `cannot listen on ${o.host}:${o.port}: ${err.message}`, { where: '--listen', cause: err })));
    server.listen(o.port, o.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `${o.tls ? 'https' : 'http'}://${host}:${a.port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
