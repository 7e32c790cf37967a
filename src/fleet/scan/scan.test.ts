import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/time.js';
import { runCli } from '../../cli/run.js';
import type { CliIo } from '../../cli/command.js';
import { skipWithoutSharedData } from '../../testing/data.js';
import { defaultDriverRegistry } from '../drivers/index.js';
import { replaySets, startReplay, type StartedReplay } from '../drivers/testing/replay-targets.js';
import { parseInventory, readInventory } from '../inventory.js';
import { startTcpReplay, tableHandler, type RunningServer } from '../protocols/testing/replay-server.js';
import { sampleText } from '../protocols/testing/samples.js';
import { scanFleet } from './scan.js';
import { countAddresses, parseCidr, parseTargets } from './targets.js';

describe('scan targets', () => {
  it('parses CIDRs and single addresses, skipping network/broadcast', () => {
    expect(countAddresses([parseCidr('127.20.0.0/24', 'x')])).toBe(254);
    expect(countAddresses([parseCidr('127.20.0.7', 'x')])).toBe(1);
    expect(countAddresses([parseCidr('127.20.0.0/31', 'x')])).toBe(2);
    expect(countAddresses(parseTargets(['127.20.0.0/16'], { allowNonLoopback: false }))).toBe(65534);
  });

  it('merges overlapping targets', () => {
    expect(countAddresses(parseTargets(['127.0.0.0/24', '127.0.0.5', '127.0.0.128/25'], { allowNonLoopback: false }))).toBe(254);
  });

  it('SAFETY: refuses anything outside 127.0.0.0/8 unless allowed', () => {
    expect(() => parseTargets(['10.0.0.0/24'], { allowNonLoopback: false })).toThrow(/outside loopback.*--allow-non-loopback/);
    expect(() => parseTargets(['126.255.255.255/31'], { allowNonLoopback: false })).toThrow(/outside loopback/);
    expect(() => parseTargets(['127.0.0.0/7'], { allowNonLoopback: false })).toThrow(/outside loopback/);
    expect(parseTargets(['10.0.0.0/24'], { allowNonLoopback: true })).toHaveLength(1);
    expect(() => parseTargets(['127.0.0.0/8'], { allowNonLoopback: false })).toThrow(/exceed the limit/);
    expect(() => parseTargets(['127.0.0.300/24'], { allowNonLoopback: false })).toThrow(/expected an IPv4 CIDR/);
  });
});

function captureIo(cwd: string): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, cwd, stderrIsTty: false, signal: new AbortController().signal };
}

/** A port free on 127.0.0.1 (used on the other loopback addresses too). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe.skipIf(skipWithoutSharedData)('fleet scan over a loopback range served by replay servers', () => {
  // 127.77.0.1 … one address per recorded firmware; the rest of the /27 has nothing listening.
  const base = '127.77.0.';
  const started: StartedReplay[] = [];
  const extra: RunningServer[] = [];
  let apiPort = 0;
  let httpPort = 0;

  beforeAll(async () => {
    apiPort = await freePort();
    httpPort = await freePort();
    const sets = replaySets();
    for (const [i, set] of sets.entries()) {
      started.push(await startReplay(set, { host: `${base}${i + 1}`, apiPort, httpPort }));
    }
    // .20: something that speaks on 4028 but is no miner; .21: a miner whose first connection resets.
    extra.push(await startTcpReplay(() => ({ kind: 'reply', body: 'SSH-2.0-OpenSSH_9.6', nul: false }), { host: `${base}20`, port: apiPort }));
    let first = true;
    const s9 = tableHandler({ version: sampleText('antminer-s21pro-vnish__cgminer__version__invalid-command.json'), stats: sampleText('antminer-s21pro-vnish__cgminer__stats.json') });
    extra.push(
      await startTcpReplay(
        (req) => {
          if (first) {
            first = false;
            return { kind: 'reset' };
          }
          return s9(req);
        },
        { host: `${base}21`, port: apiPort },
      ),
    );
  });
  afterAll(async () => {
    await Promise.all([...started.map((s) => s.close()), ...extra.map((s) => s.close())]);
  });

  it('finds and identifies every recorded firmware, retries a reset once, ignores non-miners', async () => {
    const { inventory, report } = await scanFleet({
      registry: defaultDriverRegistry(),
      ranges: parseTargets([`${base}0/27`], { allowNonLoopback: false }),
      concurrency: 4,
      apiPort,
      httpPort,
      timeoutMs: 2000,
      clock: new FakeClock(Date.UTC(2026, 0, 2, 3, 4, 5)),
      creds: { password: 'my-auth-password', username: 'root' },
      ratedPowerW: (model) => (model === 'Antminer S21' ? 3500 : null),
    });
    expect(parseInventory(inventory)).toEqual(inventory);
    expect(inventory.scannedAt).toBe('2026-01-02T03:04:05.000Z');
    const byHost = new Map(inventory.miners.map((m) => [m.host, m]));
    expect(inventory.miners.map((m) => [m.host, m.type])).toEqual([
      [`${base}1`, 'antminer-stock'],
      [`${base}2`, 'antminer-stock'],
      [`${base}3`, 'luxos'],
      [`${base}4`, 'braiins-legacy'],
      [`${base}5`, 'whatsminer-v2'],
      [`${base}6`, 'vnish'],
      [`${base}7`, 'avalon'],
      [`${base}21`, 'vnish'],
    ]);
    expect(byHost.get(`${base}1`)).toMatchObject({
      id: `${base}1:${apiPort}`,
      model: 'Antminer S21',
      capabilities: ['hashrate', 'power', 'status', 'sleep'],
      ports: { api: apiPort, http: httpPort },
      hashrateThs: 203.00701,
      powerW: 3250,
      ratedPowerW: 3500,
    });
    expect(byHost.get(`${base}3`)).toMatchObject({ model: 'Antminer S19k Pro', firmware: 'LUXminer 2025.4.8.220305-57b389c7', capabilities: ['hashrate', 'power', 'status', 'sleep', 'power-target', 'presets'] });
    expect(byHost.get(`${base}7`)).toMatchObject({ model: 'AvalonMiner 15-194', powerW: 3731 });
    expect(report.unidentified.map((u) => u.host)).toEqual([`${base}20`]);
    expect(report.failed).toEqual([]);
    expect(report.maxInFlight).toBeLessThanOrEqual(4);
    expect(report.addresses).toBe(30);
  });

  it('`mullet fleet scan` writes the inventory file and prints it with --json', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mullet-scan-'));
    try {
      const io = captureIo(dir);
      const code = await runCli(['fleet', 'scan', `${base}0/28`, `${base}21`, '--out', 'inv.json', '--json', '--port', String(apiPort), '--http-port', String(httpPort), '--concurrency', '8', '--password', 'my-auth-password'], io);
      expect(io.err.join('')).toMatch(/scan: done in/);
      expect(code).toBe(0);
      const printed = parseInventory(JSON.parse(io.out.join('')));
      expect(readInventory(path.join(dir, 'inv.json'))).toEqual(printed);
      expect(printed.miners).toHaveLength(8);
      // The S21 is in the built-in catalog: its nameplate power comes from there.
      expect(printed.miners[0]?.ratedPowerW).toBeGreaterThan(3000);
      JSON.parse(readFileSync(path.join(dir, 'inv.json'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CLI refuses a non-loopback target without the flag (exit 2)', async () => {
    const io = captureIo(os.tmpdir());
    expect(await runCli(['fleet', 'scan', '192.168.1.0/24'], io)).toBe(2);
    expect(io.err.join('')).toMatch(/outside loopback/);
  });
});

describe('scan abort', () => {
  it('an aborted signal stops the scan with ABORTED', async () => {
    const err = await scanFleet({
      registry: defaultDriverRegistry(),
      ranges: parseTargets(['127.79.0.0/24'], { allowNonLoopback: false }),
      concurrency: 8,
      apiPort: 4028,
      httpPort: 80,
      timeoutMs: 200,
      clock: new FakeClock(0),
      signal: AbortSignal.abort(),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ABORTED' });
  });
});

describe('bounded concurrency under load', () => {
  it('never holds more sockets than --concurrency, and misses no device that answers slowly', async () => {
    const port = await freePort();
    let open = 0;
    let maxOpen = 0;
    const servers: RunningServer[] = [];
    const reply = JSON.stringify({ STATUS: [{ STATUS: 'E', When: 0, Code: 14, Msg: 'Invalid command', Description: 'x' }], id: 1 });
    try {
      for (let i = 1; i <= 24; i++) {
        servers.push(
          await startTcpReplay(
            async () => {
              open++;
              maxOpen = Math.max(maxOpen, open);
              await new Promise((r) => setTimeout(r, 5));
              open--;
              return { kind: 'reply', body: reply };
            },
            { host: `127.78.0.${i}`, port },
          ),
        );
      }
      const { report } = await scanFleet({
        registry: defaultDriverRegistry(),
        ranges: parseTargets(['127.78.0.0/26'], { allowNonLoopback: false }),
        concurrency: 3,
        apiPort: port,
        httpPort: 1,
        timeoutMs: 2000,
        clock: new FakeClock(0),
      });
      expect(maxOpen).toBeLessThanOrEqual(3);
      expect(report.maxInFlight).toBeLessThanOrEqual(3);
      // Every one of the 24 answered (with errors to version/stats/summary): all reported, none missed.
      expect(report.unidentified).toHaveLength(24);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});
