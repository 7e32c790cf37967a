import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultState } from './faults.js';
import { api, cgJson, digestRequest, rawExchange, startTestHost, TEST_HTTP_PORT, type TestHost } from './testing/clients.js';

const CIDR = '127.122.0.0/24';

type Obj = Record<string, unknown>;
const first = (v: unknown): Obj => (Array.isArray(v) ? (v[0] as Obj) : (v as Obj));

function connectError(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.createConnection({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
  });
}

let t: TestHost;
let ips: string[];

beforeAll(async () => {
  t = await startTestHost(CIDR, [
    { firmware: 'antminer-stock', model: 's21' },
    { firmware: 'luxos', model: 's21' },
    { firmware: 'braiins-legacy', model: 's19xp' },
    { firmware: 'whatsminer-v2', model: 'm60s' },
    { firmware: 'antminer-stock', model: 's19jpro' },
  ]);
  ips = t.ips;
});
afterAll(async () => {
  await t.host.close();
});

describe('per-request faults', () => {
  it('timeout: accepts, reads, never answers, drops the socket after the hold time', async () => {
    const ip = ips[2] as string;
    t.host.addFault(ip, { kind: 'timeout' });
    const r = await rawExchange(ip, 4028, '{"command":"summary"}', 5_000);
    // Dropped by the server after holdMs (300 ms in tests), with nothing sent.
    expect(r.bytes.length).toBe(0);
    expect(r.end).not.toBe('timeout');
    // Only one request was affected.
    expect(cgJson(await api(ip, { command: 'summary' })).STATUS).toBeDefined();
  });

  it('truncated: half the reply, no NUL; garbage: bytes that are not the reply', async () => {
    const ip = ips[2] as string;
    const full = await api(ip, { command: 'version' });
    t.host.addFault(ip, { kind: 'truncated' });
    const cut = await api(ip, { command: 'version' });
    expect(cut.end).toBe('close');
    expect(cut.text.includes('\0')).toBe(false);
    expect(cut.bytes.length).toBe(Math.floor((full.bytes.length - 1) / 2));
    expect(() => JSON.parse(cut.text) as unknown).toThrow();

    t.host.addFault(ip, { kind: 'garbage', count: 2 });
    const g1 = await api(ip, { command: 'version' });
    const g2 = await api(ip, { command: 'version' });
    expect(g1.bytes.length).toBeGreaterThanOrEqual(16);
    expect(g1.bytes.equals(g2.bytes)).toBe(false);
    expect(cgJson(await api(ip, { command: 'version' })).VERSION).toBeDefined();
  });

  it('refused: listeners close for the duration, then reopen', async () => {
    const ip = ips[0] as string;
    t.host.addFault(ip, { kind: 'refused', durationMs: 2_000 });
    expect(await connectError(ip, 4028)).toBe('ECONNREFUSED');
    expect(await connectError(ip, TEST_HTTP_PORT)).toBe('ECONNREFUSED');
    expect(t.host.truth(ip)[0]).toMatchObject({ listening: false, state: 'mining' });
    t.wall.advance(1_000);
    await t.host.maintain();
    expect(await connectError(ip, 4028)).toBe('ECONNREFUSED');
    t.wall.advance(1_001);
    await t.host.maintain();
    expect(await connectError(ip, 4028)).toBeUndefined();
    expect(await connectError(ip, TEST_HTTP_PORT)).toBeUndefined();
    expect(t.host.truth(ip)[0]?.listening).toBe(true);
  });

  it('reboot during a command: the connection drops, the command is lost, the miner reboots then ramps back', async () => {
    const ip = ips[4] as string;
    t.host.addFault(ip, { kind: 'reboot', rebootMs: 20_000, port: 'http' });
    // The API port is not affected by an http-only fault.
    expect(cgJson(await api(ip, { command: 'summary' })).SUMMARY).toBeDefined();
    const { reply } = await digestRequest(ip, TEST_HTTP_PORT, 'POST', '/cgi-bin/set_miner_conf.cgi', 'root', '{"miner-mode":1}').then(
      (r) => r,
      (err: NodeJS.ErrnoException) => ({ reply: { status: -1, body: err.code ?? '' } }),
    );
    // The challenge round trip consumed the fault: the connection was dropped without a reply.
    expect(reply.status).toBe(-1);
    expect(t.host.truth(ip)[0]).toMatchObject({ state: 'rebooting', sleepCommanded: false, listening: false });
    expect(await connectError(ip, 4028)).toBe('ECONNREFUSED');
    t.sim.advance(20_000);
    await t.host.maintain();
    expect(t.host.truth(ip)[0]).toMatchObject({ state: 'waking', listening: true });
    const sum = cgJson(await api(ip, { command: 'summary' }));
    // Just booted: Elapsed restarts.
    expect(first(sum.SUMMARY).Elapsed).toBe(0);
    t.sim.advance(180_000);
    expect(t.host.truth(ip)[0]?.state).toBe('mining');
  });
});

describe('ignore-sleep', () => {
  it('acknowledges sleep but keeps mining; ground truth shows the gap', async () => {
    const ip = ips[1] as string;
    t.host.addFault(ip, { kind: 'ignore-sleep' });
    const sid = first(cgJson(await api(ip, { command: 'logon' })).SESSION).SessionID as string;
    const reply = cgJson(await api(ip, { command: 'curtail', parameter: `${sid},sleep` }));
    expect(first(reply.STATUS)).toMatchObject({ STATUS: 'S', Code: 335 });
    const truth = t.host.truth(ip)[0];
    expect(truth).toMatchObject({ state: 'mining', sleepCommanded: true });
    expect(truth?.faults.map((f) => f.kind)).toEqual(['ignore-sleep']);
    expect(first(cgJson(await api(ip, { command: 'summary' })).SUMMARY)['GHS 5s']).toBeGreaterThan(100_000);
    t.host.clearFaults(ip);
    await api(ip, { command: 'curtail', parameter: `${sid},sleep` });
    expect(t.host.truth(ip)[0]?.state).toBe('sleeping');
    await api(ip, { command: 'logoff', parameter: sid });
  });
});

describe('control actions', () => {
  it('power-off refuses connections and reads 0 W; power-on boots back', async () => {
    const ip = ips[3] as string;
    t.host.act(ip, 'power-off');
    expect(t.host.truth(ip)[0]).toMatchObject({ state: 'off', powerW: 0, listening: false });
    expect(await connectError(ip, 4028)).toBe('ECONNREFUSED');
    t.host.act(ip, 'power-on');
    expect(t.host.truth(ip)[0]?.state).toBe('rebooting');
    t.sim.advance(60_000);
    await t.host.maintain();
    expect(await connectError(ip, 4028)).toBeUndefined();
  });
});

describe('random faults', () => {
  it('are drawn from a seeded per-miner stream: same seed and sequence, same faults', () => {
    const draw = (seed: number): string[] => {
      const f = new FaultState(seed, 0.3);
      return Array.from({ length: 200 }, () => f.drawRandom()?.kind ?? '-');
    };
    const a = draw(99);
    expect(draw(99)).toEqual(a);
    expect(draw(100)).not.toEqual(a);
    const hits = a.filter((k) => k !== '-').length;
    expect(hits).toBeGreaterThan(35);
    expect(hits).toBeLessThan(85);
    expect(new Set(a)).toContain('timeout');
    expect(new FaultState(1, 0).drawRandom()).toBeUndefined();
    // Sleep commands are ignored at the same rate (a flaky firmware), never at rate 0.
    expect(new FaultState(1, 1).takeIgnoreSleep(0)).toBe(true);
    expect(new FaultState(1, 0).takeIgnoreSleep(0)).toBe(false);
  });
});

describe('lying faults: what the miner reports against what it does', () => {
  it('lie-summary: summary.cgi says 0 GH/s while cgminer stats shows the miner hashing', async () => {
    const ip = ips[0] as string;
    t.host.addFault(ip, { kind: 'lie-summary' });
    const { reply } = await digestRequest(ip, TEST_HTTP_PORT, 'GET', '/cgi-bin/summary.cgi');
    expect((first((JSON.parse(reply.body) as Obj).SUMMARY) as { rate_5s: number }).rate_5s).toBe(0);
    const stats = cgJson(await api(ip, { command: 'stats' }));
    expect(Number((stats.STATS as Obj[])[1]?.['GHS 5s'])).toBeGreaterThan(100_000);
    expect(t.host.truth(ip)[0]?.state).toBe('mining');
    t.host.clearFaults(ip);
  });

  it('fake-sleep: every read says asleep (work mode, zero hashrate) while the truth is full power', async () => {
    const ip = ips[1] as string; // LuxOS
    if (t.host.truth(ip)[0]?.state !== 'mining') {
      t.host.act(ip, 'wake');
      t.sim.advance(600_000);
      await t.host.maintain();
    }
    expect(t.host.truth(ip)[0]?.state).toBe('mining');
    t.host.addFault(ip, { kind: 'fake-sleep' });
    const cfg = first(cgJson(await api(ip, { command: 'config' })).CONFIG);
    expect(cfg.CurtailMode).toBe('Sleep');
    const sum = first(cgJson(await api(ip, { command: 'summary' })).SUMMARY);
    expect(Number(sum['GHS 5s'])).toBe(0);
    expect(t.host.truth(ip)[0]).toMatchObject({ state: 'mining' });
    expect(t.host.truth(ip)[0]?.powerW).toBeGreaterThan(3000);
    t.host.clearFaults(ip);
  });

  it('implausible: replies report 10¹² W and a negative hashrate', async () => {
    const ip = ips[3] as string; // Whatsminer reports Power
    t.host.addFault(ip, { kind: 'implausible' });
    const sum = first(cgJson(await api(ip, { cmd: 'summary' })).SUMMARY);
    expect(Number(sum.Power)).toBe(1e12);
    expect(Number(sum['MHS 5s'])).toBeLessThan(0);
    t.host.clearFaults(ip);
  });
});
