/**
 * Webhook delivery: POST the notification as JSON, signed, under a deadline per attempt, retried
 * with equal-jitter exponential backoff on transient failures (network, timeout, 429, 5xx) — never
 * on another 4xx (the receiver refused it; sending it again will not help).
 *
 * Headers (a receiver checks them with `verifyWebhookSignature`):
 *   X-Mullet-Timestamp: 1754308803                        unix seconds of this attempt
 *   X-Mullet-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 *   X-Mullet-Delivery:  7-fired                           the notification id, the same on every retry
 * Signing the timestamp with the body lets a receiver refuse a replayed request (±5 min).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { MulletError } from '../core/errors.js';
import type { Clock } from '../core/time.js';
import { backoffDelayMs, fetchTransport, realSleep, type Sleep, type Transport } from '../net/http-client.js';
import type { WebhookConfig } from './config.js';
import type { AlertNotification } from './notification.js';
import type { ChannelResult } from './store.js';

export const SIGNATURE_HEADER = 'x-mullet-signature';
export const TIMESTAMP_HEADER = 'x-mullet-timestamp';
export const DELIVERY_HEADER = 'x-mullet-delivery';

export function signWebhook(secret: string, timestampS: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

/** For receivers (and our tests): the signature matches and the timestamp is within `toleranceS` of now. */
export function verifyWebhookSignature(secret: string, o: { timestamp: string | null; signature: string | null; body: string; nowMs: number; toleranceS?: number }): boolean {
  if (o.timestamp === null || o.signature === null || !/^\d{1,12}$/.test(o.timestamp)) return false;
  const ts = Number(o.timestamp);
  if (Math.abs(o.nowMs / 1000 - ts) > (o.toleranceS ?? 300)) return false;
  const want = Buffer.from(signWebhook(secret, ts, o.body));
  const got = Buffer.from(o.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

export interface WebhookDeps {
  clock: Clock;
  transport?: Transport;
  sleep?: Sleep;
  /** Uniform [0, 1) for the backoff jitter (tests: fixed). */
  random?: () => number;
}

const transient = (status: number): boolean => status === 429 || status >= 500;

/** Sends one notification; resolves to its delivery record (ok or not), rejects only when `signal` aborts. */
export async function postWebhook(cfg: WebhookConfig, secret: string, n: AlertNotification, deps: WebhookDeps, signal?: AbortSignal): Promise<ChannelResult> {
  const transport = deps.transport ?? fetchTransport;
  const sleep = deps.sleep ?? realSleep;
  const random = deps.random ?? Math.random;
  const body = JSON.stringify(n);
  const attempts = cfg.retries + 1;
  let error = '';
  for (let k = 1; k <= attempts; k++) {
    if (signal?.aborted) throw new MulletError('ABORTED', 'webhook delivery cancelled', { transient: false });
    const ts = Math.floor(deps.clock.nowMs() / 1000);
    const deadline = AbortSignal.timeout(cfg.timeoutMs);
    let retry = true;
    try {
      const res = await transport.send({
        method: 'POST',
        url: cfg.url,
        headers: { 'content-type': 'application/json', 'user-agent': 'mullet-alerts/1', [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signWebhook(secret, ts, body), [DELIVERY_HEADER]: n.id },
        body,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
        maxBytes: 64 * 1024,
      });
      if (res.status >= 200 && res.status < 300) return { channel: 'webhook', ok: true, at: new Date(deps.clock.nowMs()).toISOString(), attempts: k, error: null };
      error = `HTTP ${res.status}`;
      retry = transient(res.status);
    } catch (err) {
      if (signal?.aborted) throw new MulletError('ABORTED', 'webhook delivery cancelled', { cause: err, transient: false });
      // Never the URL's query or the body in the record: either may carry a token.
      error = deadline.aborted ? `no answer within ${cfg.timeoutMs} ms` : `cannot reach ${new URL(cfg.url).host}${(err as { cause?: { code?: string } }).cause?.code ? ` (${(err as { cause: { code: string } }).cause.code})` : ''}`;
    }
    if (!retry || k === attempts) return { channel: 'webhook', ok: false, at: new Date(deps.clock.nowMs()).toISOString(), attempts: k, error };
    await sleep(backoffDelayMs(k, { attempts, baseDelayMs: cfg.backoffMs, maxDelayMs: cfg.backoffMs * 32 }, random), signal);
  }
  return { channel: 'webhook', ok: false, at: new Date(deps.clock.nowMs()).toISOString(), attempts, error };
}
