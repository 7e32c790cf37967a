/**
 * A private nats-server for tests that need their own (authorization, a server restart): Debian's
 * `/usr/sbin/nats-server` on 127.0.0.1 and a random port, JetStream in a temporary folder. Tests
 * skip (with the reason) where no binary is installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATS_SERVER_BIN = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => existsSync(p)) ?? null;

export class NatsServerProcess {
  private constructor(
    private child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
    private readonly conf: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts a server with `extraConfig` (e.g. an authorization block); resolves once it listens. */
  static async start(extraConfig = '', port = -1): Promise<NatsServerProcess> {
    if (!NATS_SERVER_BIN) throw new Error('no nats-server binary');
    const dir = mkdtempSync(join(tmpdir(), 'mullet-nats-'));
    const conf = join(dir, 'nats.conf');
    writeFileSync(conf, [`host: 127.0.0.1`, `port: ${port}`, `jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }`, extraConfig].join('\n'));
    const { child, port: bound } = await launch(conf);
    return new NatsServerProcess(child, bound, dir, conf);
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }

  /** Starts it again on the same port with the same store (a server restart). */
  async restart(): Promise<void> {
    await this.stop();
    writeFileSync(this.conf, readFileSync(this.conf, 'utf8').replace(/^port: .*$/m, `port: ${this.port}`));
    this.child = (await launch(this.conf)).child;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function launch(conf: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NATS_SERVER_BIN as string, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nats-server did not start within 10 s: ${out.slice(-500)}`));
    }, 10_000);
    const onData = (b: Buffer): void => {
      out += b.toString('utf8');
      const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        // Keep draining so the pipe never fills.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`nats-server exited (${code}): ${out.slice(-500)}`));
    });
  });
}
