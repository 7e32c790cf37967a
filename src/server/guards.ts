/**
 * Middleware every Mullet HTTP edge runs before its routes: refuse what a browser page or a rebound
 * DNS name could send (a Host that is not ours, an Origin or Sec-Fetch-Site from another site),
 * require JSON bodies on writes, cap bodies, and set the security headers.
 */
import type { MiddlewareHandler } from 'hono';
import { MulletError } from '../core/errors.js';
import { hostOf, isIpLiteral, isLoopbackHost } from '../core/net.js';
import { HttpProblem } from './errors.js';

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Refuses requests from elsewhere: a Host that is not an address, localhost or an allowed name
 * (DNS rebinding), an Origin that is not this Host, and `Sec-Fetch-Site` other than same-origin/none.
 */
export function sameSiteOnly(allowedHosts: readonly string[] = []): MiddlewareHandler {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  return async (c, next) => {
    const hostHeader = c.req.header('host') ?? '';
    if (hostHeader === '') throw new MulletError('BAD_INPUT', 'missing Host header', { where: 'Host' });
    const host = hostOf(hostHeader);
    if (!isIpLiteral(host) && !isLoopbackHost(host) && !allowed.has(host)) {
      throw new MulletError('FORBIDDEN', `Host '${hostHeader}' is not an address of this server (DNS rebinding?): use an IP address, localhost, or list the name in the allowed hosts`, { where: 'Host' });
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== '') {
      let originHost: string;
      try {
        originHost = new URL(origin).host.toLowerCase();
      } catch {
        throw new MulletError('FORBIDDEN', `unreadable Origin '${origin}'`, { where: 'Origin' });
      }
      if (originHost !== hostHeader.trim().toLowerCase()) throw new MulletError('FORBIDDEN', `cross-origin request from '${origin}' refused`, { where: 'Origin' });
    }
    const site = c.req.header('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new MulletError('FORBIDDEN', `cross-site request (Sec-Fetch-Site: ${site}) refused`, { where: 'Sec-Fetch-Site' });
    await next();
  };
}

/** Bodies must say Content-Type: application/json (a form or text/plain is what a cross-site page can send). */
export function jsonWrites(): MiddlewareHandler {
  return async (c, next) => {
    const hasBody = Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined;
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && (hasBody || c.req.method === 'POST')) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (type !== 'application/json') throw new HttpProblem(415, 'BAD_INPUT', `send the body as Content-Type: application/json (got '${type || 'none'}')`, { where: 'Content-Type' });
    }
    await next();
  };
}

/** A declared body over `maxBytes` gets 413 before anything is read (streamed ones: `jsonBody`). */
export function cappedBodies(maxBytes = MAX_BODY_BYTES): MiddlewareHandler {
  return async (c, next) => {
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (declared > maxBytes) throw tooLarge(maxBytes);
    await next();
  };
}

function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(413, 'BAD_INPUT', `body larger than ${maxBytes} bytes`);
}

/** Headers every answer carries. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('x-content-type-options', 'nosniff');
    c.header('cache-control', 'no-store');
    c.header('referrer-policy', 'no-referrer');
    c.header('x-frame-options', 'DENY');
  };
}

/**
 * Reads a JSON body (empty = {}) of at most `maxBytes` (a chunked body is cut off at the cap with
 * 413), `unknown` until a schema parses it.
 */
export async function jsonBody(req: { raw: Request }, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const body = req.raw.body;
  if (body) {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MulletError('BAD_INPUT', 'body is not JSON');
  }
}
