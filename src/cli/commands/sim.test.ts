import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../command.js';
import { runCli } from '../run.js';
import { readInventory } from '../../fleet/inventory.js';
import { ModbusMeterReader } from '../../fleet/meter/meter-reader.js';
import { api, cgJson, httpRequest, TEST_HTTP_PORT } from '../../fleet/sim/testing/clients.js';
import net from 'node:net';
import { freeLoopbackBlock } from './sim.js';

/** Runs `mullet sim …` in-process until it has printed its ready document, then stops it. */
async function withSim<T>(argv: readonly string[], use: (ready: Record<string, unknown>) => Promise<T>): Promise<{ code: number; err: string; value: T }> {
  const controller = new AbortController();
  let out = '';
  let err = '';
  let onOut: () => void = () => undefined;
  const printed = new Promise<void>((resolve) => (onOut = resolve));
  const io: CliIo = {
    stdout: (t) => {
      out += t;
      onOut();
    },
    stderr: (t) => void (err += t),
    env: {},
    cwd: process.cwd(),
    stderrIsTty: false,
    signal: controller.signal,
  };
  const running = runCli(['sim', ...argv], io);
  const first = await Promise.race([printed.then(() => 'ready' as const), running.then(() => 'exited' as const)]);
  if (first === 'exited') throw new Error(`sim exited early: ${err}`);
  let value: T;
  try {
    value = await use(JSON.parse(out) as Record<string, unknown>);
  } finally {
    controller.abort();
  }
  return { code: await running, err, value };
}

describe('mullet sim', () => {
  it('serves the fleet, prints one JSON document, writes the inventory and stops on abort', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mullet-sim-'));
    const inv = path.join(dir, 'inventory.json');
    const { code, err, value } = await withSim(
      ['--miners', '6', '--cidr', '127.127.0.0/24', '--seed', '3', '--json', '--control', '127.0.0.1:0', '--meter', '127.0.0.1:0', '--ai-load-mw', '1', '--http-port', String(TEST_HTTP_PORT), '--inventory-out', inv],
      async (ready) => {
        expect(ready).toMatchObject({ miners: 6, workers: 0, seed: 3, aiLoadW: 1_000_000 });
        const fleet = ready.fleet as { ip: string; firmware: string; model: string; ports: { api: number } }[];
        expect(fleet.map((m) => m.ip)).toEqual(['127.127.0.1', '127.127.0.2', '127.127.0.3', '127.127.0.4', '127.127.0.5', '127.127.0.6']);
        const summary = cgJson(await api(fleet[0]?.ip ?? '', { command: 'summary' }));
        expect(summary.STATUS).toBeDefined();
        const control = new URL(ready.control as string);
        const site = JSON.parse((await httpRequest(control.hostname, Number(control.port), 'GET', '/site')).body) as { sitePowerW: number; minersPowerW: number };
        const [host, port] = (ready.meter as string).split(':');
        const reader = new ModbusMeterReader({ host: host ?? '', port: Number(port) });
        const metered = await reader.readSitePowerW();
        await reader.close();
        expect(metered).toBeGreaterThan(1_000_000 + 6 * 3000);
        expect(Math.abs(metered - site.sitePowerW)).toBeLessThan(100);
        return fleet;
      },
    );
    expect(code).toBe(0);
    expect(err).toContain('sim: stopping');
    const inventory = readInventory(inv);
    expect(inventory.miners.map((m) => m.host)).toEqual(value.map((m) => m.ip));
    expect(inventory.miners.map((m) => m.type)).toEqual(value.map((m) => m.firmware));
    expect(readFileSync(inv, 'utf8').endsWith('\n')).toBe(true);
  });

  it.each([
    [['--miners', '0'], /--miners: must be within 1\.\.200,000 miners, got 0/],
    [['--miners', '3', '--cidr', '10.0.0.0/8'], /--cidr: must be inside loopback/],
    [['--miners', '3', '--mix', 'cgminer:1'], /--mix: unknown firmware/],
    [['--miners', '3', '--fault-rate', '2'], /--fault-rate: must be within 0\.\.1/],
    [['--miners', '3', '--control', 'nope:x'], /--control: expected HOST:PORT/],
    // The simulator's own README: nothing but loopback unless asked (checked before any miner binds).
    [['--miners', '3', '--meter', '0.0.0.0:5099'], /--meter: '0\.0\.0\.0' is not a loopback address.*--allow-non-loopback/],
    [['--miners', '3', '--meter', '[::]:5099'], /--meter: '::' is not a loopback address/],
    [['--miners', '3', '--control', '10.1.2.3:8421'], /--control: '10\.1\.2\.3' is not a loopback address/],
    [['--miners', '3', '--cidr', '10.0.0.0/24', '--allow-non-loopback'], /--cidr: must be inside loopback/],
  ])('rejects %j with exit 2 and the flag named', async (argv, message) => {
    let err = '';
    const code = await runCli(['sim', ...argv], { stdout: () => undefined, stderr: (t) => void (err += t), env: {}, cwd: '/', stderrIsTty: false, signal: new AbortController().signal });
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });
});

describe('simulator binds', () => {
  it('loopback is accepted in every spelling; other hosts only with the explicit flag', async () => {
    const { checkSimBind, isLoopbackHost } = await import('../../fleet/sim/bind.js');
    for (const h of ['127.0.0.1', '127.31.0.9', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '', '10.0.0.1', '128.0.0.1', 'example.com', '::ffff:10.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
    expect(() => checkSimBind('0.0.0.0', '--meter')).toThrow(expect.objectContaining({ code: 'BAD_INPUT', where: '--meter' }));
    expect(() => checkSimBind('0.0.0.0', '--meter', true)).not.toThrow();
  });

  it('the meter and control servers refuse a non-loopback bind themselves (library use, not only the CLI)', async () => {
    const { ModbusMeterServer } = await import('../../fleet/sim/meter-server.js');
    const { ControlServer } = await import('../../fleet/sim/control-api.js');
    const { systemClock } = await import('../../core/time.js');
    const meter = new ModbusMeterServer({ sitePower: () => Promise.resolve({ totalW: 0, minersW: 0, aiLoadW: 0, miners: 0 }) } as never, { cacheMs: 0, wall: systemClock, sim: systemClock });
    await expect(meter.listen('0.0.0.0', 0)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(new ControlServer({} as never).listen('0.0.0.0', 0)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await meter.close();
  });
});

describe('mullet sim --cidr auto (shared hosts)', () => {
  it('picks a loopback block whose miner ports are free, skipping one another user holds, and prints it', async () => {
    const { code, err, value } = await withSim(['--miners', '3', '--cidr', 'auto', '--json', '--meter', '127.0.0.1:0', '--control', '127.0.0.1:0', '--http-port', String(TEST_HTTP_PORT)], (ready) => {
      expect(ready.cidr).toMatch(/^127\.\d+\.\d+\.0\/24$/);
      const fleet = ready.fleet as { ip: string }[];
      expect(fleet[0]?.ip).toBe(String(ready.cidr).replace('.0/24', '.1'));
      // Port 0 gave free ports: the printed addresses are the bound ones.
      expect(ready.meter).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
      return Promise.resolve(ready.cidr as string);
    });
    expect(code).toBe(0);
    expect(err).toContain(`sim: --cidr auto chose ${value}`);
    // A block whose first address is taken on the API port is not chosen.
    const taken = net.createServer();
    const ip = value.replace('.0/24', '.1');
    await new Promise<void>((r) => taken.listen({ host: ip, port: 4028, exclusive: true }, () => r()));
    try {
      const picks = [value, '127.201.7.0/24'];
      expect(await freeLoopbackBlock(3, [4028], 5, () => picks.shift() ?? 'none')).toBe('127.201.7.0/24');
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
