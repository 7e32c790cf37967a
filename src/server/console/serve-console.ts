/**
 * Listens for the console with its one extra rule: beyond loopback only over TLS. The console
 * authenticates every request, so reaching it from other machines is the point — but passwords,
 * session cookies and API keys must not cross a network in clear text. A non-loopback address
 * without a certificate is refused unless `--insecure-http` is given, which is logged loudly.
 */
import type { Hono } from 'hono';
import { badInput } from '../../core/errors.js';
import { readRegularTextFileSync } from '../../core/files.js';
import { isLoopbackHost } from '../../core/net.js';
import { serveHttp, type RunningServer } from '../serve.js';

export interface ConsoleTlsFiles {
  /** PEM certificate (chain) file. */
  cert: string;
  /** PEM private key file. */
  key: string;
}

export interface ServeConsoleOptions {
  host: string;
  port: number;
  tls?: ConsoleTlsFiles;
  insecureHttp?: boolean;
  maxConnections?: number;
  log?: (line: string) => void;
}

/** Checks the listen policy before anything is built (the app needs to know whether cookies are Secure). */
export function checkConsoleListen(o: Pick<ServeConsoleOptions, 'host' | 'port' | 'tls' | 'insecureHttp' | 'log'>): void {
  if (isLoopbackHost(o.host) || o.tls) return;
  if (!o.insecureHttp) {
    throw badInput(
      `'${o.host}' can be reached from other machines, and without TLS the console's passwords, session cookies and API keys would cross the network in clear text. Give a certificate and key (console.tls in the config, or --tls-cert and --tls-key), keep it on loopback (127.0.0.1) behind a TLS proxy, or pass --insecure-http to accept the risk`,
      '--listen',
    );
  }
  o.log?.(`WARNING: --insecure-http: the console listens on ${o.host}:${o.port} over plain HTTP, reachable from other machines: passwords, session cookies and API keys cross the network in clear text`);
}

export async function serveConsole(app: Hono, o: ServeConsoleOptions): Promise<RunningServer> {
  checkConsoleListen({ ...o, log: () => undefined });
  const tls = o.tls ? { cert: readRegularTextFileSync(o.tls.cert, o.tls.cert, 1 << 20, 'TLS certificate'), key: readRegularTextFileSync(o.tls.key, o.tls.key, 1 << 20, 'TLS key') } : undefined;
  if (tls && !/-----BEGIN [A-Z ]*CERTIFICATE-----/.test(tls.cert)) throw badInput('not a PEM certificate', o.tls?.cert);
  if (tls && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(tls.key)) throw badInput('not a PEM private key', o.tls?.key);
  return serveHttp(app, { host: o.host, port: o.port, allowNonLoopback: true, what: 'the console', ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}), ...(tls ? { tls } : {}) });
}
