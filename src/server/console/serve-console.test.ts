/**
 * The console's listener on a real loopback socket: HTTPS with a throw-away certificate (Secure,
 * `__Host-` session cookie over TLS), and the refusal of a non-loopback address without TLS
 * (checked before anything binds).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthService } from '../../console/auth-service.js';
import { MemoryIdentityStore } from '../../console/memory-store.js';
import { TEST_SCRYPT } from '../../console/secrets.js';
import { fakeFleet } from '../../fleet/agent/testing/fake-driver.js';
import { setup } from '../../fleet/agent/testing/harness.js';
import type { RunningServer } from '../serve.js';
import { mountConsole } from './app.js';
import { checkConsoleListen, serveConsole } from './serve-console.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mullet-tls-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore', timeout: 20_000 });
  return { cert, key };
}

function httpsPost(url: string, ca: string, body: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

describe('serving the console', () => {
  it('refuses a non-loopback address without TLS unless --insecure-http, which is logged', () => {
    expect(() => checkConsoleListen({ host: '0.0.0.0', port: 8443 })).toThrow(/clear text.*--insecure-http/);
    const lines: string[] = [];
    checkConsoleListen({ host: '0.0.0.0', port: 8443, insecureHttp: true, log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(/^WARNING: --insecure-http/);
    expect(() => checkConsoleListen({ host: '0.0.0.0', port: 8443, tls: { cert: 'c', key: 'k' } })).not.toThrow();
    expect(() => checkConsoleListen({ host: '127.0.0.1', port: 8443 })).not.toThrow();
  });

  it.skipIf(!haveOpenssl())('serves HTTPS with a Secure __Host- session cookie (skipped without openssl to make a certificate)', async () => {
    const files = selfSigned();
    const { agent, clock } = await setup(fakeFleet(1));
    const auth = new AuthService({ store: new MemoryIdentityStore(), clock, scrypt: TEST_SCRYPT });
    await auth.addUser({ kind: 'cli', name: 't' }, { name: 'op', password: 'correct horse battery', role: 'operator', site: null });
    const app = new Hono();
    mountConsole(app, { agent, auth, clock, secureCookies: true });
    const srv: RunningServer = await serveConsole(app, { host: '127.0.0.1', port: 0, tls: files });
    cleanup.push(() => srv.close());
    expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await httpsPost(`${srv.url}/api/v1/login`, readFileSync(files.cert, 'utf8'), JSON.stringify({ name: 'op', password: 'correct horse battery' }));
    expect(r.status).toBe(200);
    const cookie = String(r.headers['set-cookie'] ?? '');
    expect(cookie).toMatch(/^__Host-mullet_session=/);
    expect(cookie).toMatch(/Secure/);
    expect(String(r.headers['strict-transport-security'])).toMatch(/max-age/);
  });

  it('refuses a file that is not a PEM certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mullet-tls-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'c.pem'), 'hello');
    writeFileSync(join(dir, 'k.pem'), 'hello');
    await expect(serveConsole(new Hono(), { host: '127.0.0.1', port: 0, tls: { cert: join(dir, 'c.pem'), key: join(dir, 'k.pem') } })).rejects.toThrow(/not a PEM certificate/);
  });
});
