/** E-mail delivery against a loopback SMTP server (smtp-server, port 0). */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailConfigSchema } from './config.js';
import { sendEmail } from './email.js';
import type { AlertNotification } from './notification.js';

const NOW = Date.parse('2026-08-04T12:00:03Z');
const clock = { nowMs: () => NOW };
const n: AlertNotification = { v: 1, id: '7-fired', site: 'demo', event: 'fired', sentAt: new Date(NOW).toISOString(), alert: { id: 7, ruleId: 'offline', kind: 'miner-offline', key: 'fleet', severity: 'warning', detail: '3 of 24 miners cannot be read (state unknown)', firedAt: new Date(NOW).toISOString(), resolvedAt: null } };
const PASSWORD = 'smtp-password-not-real';

const got: { from: string; to: string[]; data: string; user: string | null }[] = [];
let server: SMTPServer;
let port: number;

beforeAll(async () => {
  server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, session, cb) {
      if (auth.username === 'mullet' && auth.password === PASSWORD) cb(null, { user: 'mullet' });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        got.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString('utf8'), user: typeof session.user === 'string' ? session.user : null });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const cfg = (over: Record<string, unknown> = {}) => emailConfigSchema.parse({ host: '127.0.0.1', port, tls: 'none', from: 'mullet@example.com', to: ['ops@example.com', 'oncall@example.com'], user: 'mullet', passwordEnv: 'MULLET_SMTP_PASSWORD', timeoutMs: 5000, ...over });

describe('e-mail delivery (loopback SMTP)', () => {
  it('sends the alert, authenticated, to every recipient', async () => {
    got.length = 0;
    const d = await sendEmail(cfg(), PASSWORD, n, { clock });
    expect(d).toEqual({ channel: 'email', ok: true, at: new Date(NOW).toISOString(), attempts: 1, error: null });
    expect(got).toHaveLength(1);
    const m = got[0] as (typeof got)[number];
    expect(m.from).toBe('mullet@example.com');
    expect(m.to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(m.user).toBe('mullet');
    expect(m.data).toContain("Subject: [mullet WARNING] demo: offline - 3 of 24 miners");
    expect(m.data).toContain('3 of 24 miners cannot be read (state unknown)');
    expect(m.data).toContain('X-Mullet-Alert: 7-fired');
  }, 15_000);

  it('a refused login is a failed delivery that names the reply, never the password', async () => {
    const d = await sendEmail(cfg(), 'wrong', n, { clock });
    expect(d.ok).toBe(false);
    expect(d.error).toMatch(/EAUTH 535/);
    expect(d.error).not.toContain('wrong');
    expect(d.error).not.toContain(PASSWORD);
  }, 15_000);

  it('STARTTLS required and not offered: nothing is sent in clear text', async () => {
    got.length = 0;
    const d = await sendEmail(cfg({ tls: 'starttls' }), PASSWORD, n, { clock });
    expect(d.ok).toBe(false);
    expect(got).toHaveLength(0);
  }, 15_000);

  it('an unreachable server fails within its deadline', async () => {
    const d = await sendEmail(cfg({ port: 1, timeoutMs: 500 }), PASSWORD, n, { clock });
    expect(d.ok).toBe(false);
    expect(d.error).toMatch(/ECONNECTION|ECONNREFUSED|ESOCKET/);
  }, 15_000);
});
