/**
 * E-mail delivery over SMTP with nodemailer: one message per notification, under a deadline
 * (nodemailer's connect / greeting / socket timeouts, and the whole send raced against the
 * caller's AbortSignal and `timeoutMs`, after which the connection is closed). TLS as configured:
 * implicit (465), STARTTLS required (587, the default), or none for a relay on loopback. The
 * password comes from the environment variable the config names and is never logged or recorded.
 */
import { createTransport } from 'nodemailer';
import { MulletError } from '../core/errors.js';
import type { Clock } from '../core/time.js';
import type { EmailConfig } from './config.js';
import { headline, type AlertNotification } from './notification.js';
import type { ChannelResult } from './store.js';

/** Plain-text body: what fired, where, since when, and how to see more. */
export function emailText(n: AlertNotification): string {
  const a = n.alert;
  return [
    `${n.event === 'fired' ? 'Alert' : 'Resolved'} at site ${n.site}`,
    '',
    `rule:      ${a.ruleId} (${a.kind}, ${a.key})`,
    `severity:  ${a.severity}`,
    `detail:    ${a.detail}`,
    `fired:     ${a.firedAt}`,
    ...(a.resolvedAt ? [`resolved:  ${a.resolvedAt}`] : []),
    '',
    `Alert #${a.id}; the console's alert history (GET /api/v1/alerts) has it with its deliveries.`,
    '',
  ].join('\n');
}

export async function sendEmail(cfg: EmailConfig, password: string | undefined, n: AlertNotification, deps: { clock: Clock }, signal?: AbortSignal): Promise<ChannelResult> {
  const tls = cfg.tls ?? (cfg.port === 465 ? 'implicit' : 'starttls');
  const transport = createTransport({
    host: cfg.host,
    port: cfg.port,
    secure: tls === 'implicit',
    requireTLS: tls === 'starttls',
    ignoreTLS: tls === 'none',
    ...(cfg.user !== undefined && password !== undefined ? { auth: { user: cfg.user, pass: password } } : {}),
    connectionTimeout: cfg.timeoutMs,
    greetingTimeout: cfg.timeoutMs,
    socketTimeout: cfg.timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const at = () => new Date(deps.clock.nowMs()).toISOString();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MulletError('TIMEOUT', `no complete SMTP exchange within ${cfg.timeoutMs} ms`)), cfg.timeoutMs);
      onAbort = () => reject(new MulletError('ABORTED', 'e-mail delivery cancelled', { transient: false }));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    await Promise.race([transport.sendMail({ from: cfg.from, to: cfg.to, subject: headline(n), text: emailText(n), headers: { 'X-Mullet-Alert': n.id } }), stop]);
    return { channel: 'email', ok: true, at: at(), attempts: 1, error: null };
  } catch (err) {
    if (signal?.aborted) throw err instanceof MulletError ? err : new MulletError('ABORTED', 'e-mail delivery cancelled', { cause: err, transient: false });
    // nodemailer's messages name the server and the SMTP reply, never the password.
    const e = err as { code?: string; responseCode?: number; message?: string };
    const why = err instanceof MulletError ? err.message : `${e.code ?? 'SMTP'}${e.responseCode ? ` ${e.responseCode}` : ''}: ${(e.message ?? String(err)).slice(0, 200)}`;
    return { channel: 'email', ok: false, at: at(), attempts: 1, error: why };
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    transport.close();
  }
}
