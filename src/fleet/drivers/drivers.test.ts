import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/time.js';
import { skipWithoutSharedData } from '../../testing/data.js';
import { canSleep, canTargetPower, DriverRegistry, type DriverFactory } from '../capabilities.js';
import { parseLenientJson } from '../protocols/lenient-json.js';
import { sampleText } from '../protocols/testing/samples.js';
import { startHttpReplay, startTcpReplay, tableHandler, type RunningHttpServer, type RunningServer, type TableEntry } from '../protocols/testing/replay-server.js';
import type { Obj } from '../protocols/values.js';
import { AntminerStockDriver, antminerState, parseBmminerStats } from './antminer-stock.js';
import { avalonTelemetry } from './avalon.js';
import { BraiinsLegacyDriver } from './braiins-legacy.js';
import { defaultDriverRegistry } from './index.js';
import { LuxosDriver, luxosState } from './luxos.js';
import { WhatsminerV2Driver, whatsminerTelemetry } from './whatsminer-v2.js';

const servers: (RunningServer | RunningHttpServer)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function api(table: Record<string, TableEntry>): Promise<RunningServer> {
  const s = await startTcpReplay(tableHandler(table));
  servers.push(s);
  return s;
}

const json = (name: string): Obj => parseLenientJson(sampleText(name)) as Obj;

describe('driver registry', () => {
  it('rejects a duplicate type and lists known types for an unknown one', () => {
    const r = defaultDriverRegistry();
    expect(r.types()).toEqual(['antminer-stock', 'avalon', 'braiins-legacy', 'luxos', 'vnish', 'whatsminer-v2']);
    const dup = r.get('luxos');
    expect(() => r.register(dup)).toThrow(/registered twice/);
    expect(() => r.get('cgminer-generic', 'inventory.json:miners[3].type')).toThrow(/unknown driver type 'cgminer-generic'; known types: antminer-stock, avalon, braiins-legacy, luxos, vnish, whatsminer-v2/);
    try {
      r.get('nope', 'x');
    } catch (err) {
      expect(err).toMatchObject({ code: 'BAD_INPUT', where: 'x' });
    }
  });

  it('controller-side detection is by capability, not by vendor', () => {
    const reg = new DriverRegistry();
    const fake: DriverFactory = {
      type: 'fake',
      description: 'test',
      capabilities: ['status', 'sleep'],
      defaultPorts: { api: 1 },
      create: (c) => ({ type: 'fake', host: c.host, capabilities: new Set(['status', 'sleep'] as const), close: () => Promise.resolve(), sleep: () => Promise.resolve(), wake: () => Promise.resolve(), readTelemetry: () => Promise.reject(new Error('x')) }),
    };
    reg.register(fake);
    const d = reg.create('fake', { host: 'h' });
    expect(canSleep(d)).toBe(true);
    expect(canTargetPower(d)).toBe(false);
  });
});

describe.skipIf(skipWithoutSharedData)('antminer-stock driver', () => {
  it('parses the cold S19 Pro: negative hyphen-packed readings do not break chip temps', () => {
    const s = parseBmminerStats(json('antminer-s19pro-stock__cgminer__stats__cold.json'), 'x');
    expect(s).toMatchObject({ model: 'Antminer S19 Pro', hashrateThs: 110.78679, powerW: null, tempsC: [27, 25, 26], fansRpm: [5520, 5400, 5040, 5040], mode: 2 });
  });

  it('parses the S9 (`}{` quirk): model first line, bogus -83 °C dropped, fans at slots 5-6', () => {
    const s = parseBmminerStats(json('antminer-s9-stock__cgminer__stats.json'), 'x');
    expect(s).toMatchObject({ model: 'Antminer S9', hashrateThs: 13.88381, tempsC: [62, 62], fansRpm: [3720, 2400] });
  });

  it('17-series asleep: Mode 254 → sleeping without asking the web UI', async () => {
    for (const f of ['antminer-t17plus-stock__cgminer__stats__sleeping.json', 'antminer-s17plus-stock__cgminer__stats__sleeping.json']) {
      const s = await api({ stats: sampleText(f) });
      const d = new AntminerStockDriver({ host: s.host, ports: { api: s.port, http: 1 } });
      const t = await d.readTelemetry();
      expect(t).toMatchObject({ hashrateThs: 0, state: 'sleeping', fansRpm: [], tempsC: [] });
    }
  });

  it('zero hashrate reads the work mode: overheated S19 Pro with mode 0 is "waking", never "sleeping"', async () => {
    const s = await api({ stats: sampleText('antminer-s19pro-stock__cgminer__stats__overheating.json') });
    const h = await startHttpReplay({ routes: { '/cgi-bin/get_miner_conf.cgi': { body: sampleText('antminer-s19pro-stock__http__get_miner_conf.cgi__normal.txt') } } });
    servers.push(h);
    const d = new AntminerStockDriver({ host: s.host, ports: { api: s.port, http: h.port } });
    expect((await d.readTelemetry()).state).toBe('waking');
    expect(antminerState(parseBmminerStats(json('antminer-s19pro-stock__cgminer__stats__overheating.json'), 'x'), null)).toBe('unknown');
  });

  it('sleep posts the full conf back with miner-mode 1 (pools kept), wake with 0; one digest challenge', async () => {
    const h = await startHttpReplay({
      routes: {
        '/cgi-bin/get_miner_conf.cgi': { body: sampleText('antminer-s19pro-stock__http__get_miner_conf.cgi__normal.txt') },
        '/cgi-bin/set_miner_conf.cgi': { method: 'POST', body: '{"stats":"success","code":"M000","msg":"OK!"}' },
      },
    });
    servers.push(h);
    const d = new AntminerStockDriver({ host: h.host, ports: { api: 1, http: h.port } });
    await d.sleep();
    await d.wake();
    const posts = h.hits.filter((x) => x.method === 'POST').map((x) => JSON.parse(x.body) as Obj);
    expect(posts[0]).toEqual({
      pools: [
        { url: 'aaa:700', user: 'aaa.248x75', pass: 'x' },
        { url: 'bbb:6000', user: 'bbb.248x75', pass: 'x' },
        { url: 'ccc:1314', user: 'ccc.248x75', pass: 'x' },
      ],
      'bitmain-fan-ctrl': false,
      'bitmain-fan-pwm': '100',
      'freq-level': '100',
      'miner-mode': 1,
    });
    expect(posts[1]?.['miner-mode']).toBe(0);
    expect(h.challenges).toBe(1);
  });

  it('prepare() primes digest and conf: the next sleep is a single POST; a stale prepare is re-read', async () => {
    const h = await startHttpReplay({
      routes: {
        '/cgi-bin/get_miner_conf.cgi': { body: sampleText('antminer-s21-stock__http__get_miner_conf.cgi.json') },
        '/cgi-bin/set_miner_conf.cgi': { method: 'POST', body: '{"stats":"success","code":"M000","msg":"OK!"}' },
      },
    });
    servers.push(h);
    const clock = new FakeClock(0);
    const d = new AntminerStockDriver({ host: h.host, ports: { api: 1, http: h.port }, clock });
    await d.prepare();
    await d.sleep();
    expect(h.hits.map((x) => x.method)).toEqual(['GET', 'POST']);
    await d.prepare();
    clock.advance(61_000);
    await d.wake();
    expect(h.hits.map((x) => x.method)).toEqual(['GET', 'POST', 'GET', 'GET', 'POST']);
    expect(h.challenges).toBe(1);
  });

  it('a refusal body from set_miner_conf.cgi is a PROTOCOL error; a wrong password is AUTH', async () => {
    const h = await startHttpReplay({
      routes: {
        '/cgi-bin/get_miner_conf.cgi': { body: sampleText('antminer-s21-stock__http__get_miner_conf.cgi.json') },
        '/cgi-bin/set_miner_conf.cgi': { method: 'POST', body: '{"stats":"error","code":"M001","msg":"Illegal parameter"}' },
      },
    });
    servers.push(h);
    const d = new AntminerStockDriver({ host: h.host, ports: { api: 1, http: h.port } });
    expect(await d.sleep().catch((e: unknown) => e)).toMatchObject({ code: 'PROTOCOL' });
    const bad = new AntminerStockDriver({ host: h.host, ports: { api: 1, http: h.port }, creds: { password: 'wrong' } });
    expect(await bad.sleep().catch((e: unknown) => e)).toMatchObject({ code: 'AUTH', transient: false });
  });
});

describe.skipIf(skipWithoutSharedData)('luxos driver: sessions', () => {
  const base = (): Record<string, TableEntry> => ({
    logon: sampleText('luxos__cgminer__logon.json'),
    profiles: sampleText('luxos-s19kpro__cgminer__profiles.json'),
    'curtail|yJN2nlj1,sleep': sampleText('luxos__cgminer__curtail-sleep.json'),
    'curtail|yJN2nlj1,wakeup': sampleText('luxos__cgminer__curtail-wakeup.json'),
    profileset: sampleText('luxos__cgminer__profileset.json'),
  });

  it('reuses the session while fresh, logs on again after the 60 s idle expiry (injected clock)', async () => {
    const s = await api(base());
    const clock = new FakeClock(1_000_000);
    const d = new LuxosDriver({ host: s.host, ports: { api: s.port }, clock });
    await d.sleep();
    clock.advance(30_000);
    await d.wake();
    expect(s.requests.filter((r) => r.command === 'logon')).toHaveLength(1);
    clock.advance(61_000);
    await d.sleep();
    expect(s.requests.filter((r) => r.command === 'logon')).toHaveLength(2);
    expect(s.requests.find((r) => r.command === 'curtail')?.parameter).toBe('yJN2nlj1,sleep');
  });

  it('re-logs once when a write is refused for an invalid/expired session', async () => {
    // SYNTHETIC error reply: no recorded LuxOS session-expired reply exists (INDEX.md "Gaps").
    let n = 0;
    const s = await api({
      ...base(),
      'curtail|yJN2nlj1,sleep': () =>
        ++n === 1
          ? { kind: 'reply', body: JSON.stringify({ STATUS: [{ Code: 301, Description: 'LUXminer', Msg: 'Invalid session id', STATUS: 'E', When: 0 }], id: 1 }) }
          : { kind: 'reply', body: sampleText('luxos__cgminer__curtail-sleep.json') },
    });
    const d = new LuxosDriver({ host: s.host, ports: { api: s.port }, clock: new FakeClock(0) });
    await d.sleep();
    expect(s.requests.filter((r) => r.command === 'logon')).toHaveLength(2);
    expect(n).toBe(2);
  });

  it('logon Code 402 (another session active) adopts the active session from `session`', async () => {
    // SYNTHETIC replies in the shapes luxos-tooling and the docs describe.
    const s = await api({
      ...base(),
      logon: JSON.stringify({ STATUS: [{ Code: 402, Description: 'LUXminer', Msg: 'Another session is active', STATUS: 'E', When: 0 }], id: 1 }),
      session: JSON.stringify({ SESSION: [{ SessionID: 'abcd1234' }], STATUS: [{ Code: 319, Description: 'LUXminer', Msg: 'Session information', STATUS: 'S', When: 0 }], id: 1 }),
      'curtail|abcd1234,sleep': sampleText('luxos__cgminer__curtail-sleep.json'),
    });
    const d = new LuxosDriver({ host: s.host, ports: { api: s.port }, clock: new FakeClock(0) });
    await d.sleep();
    expect(d.client.session).toBe('abcd1234');
  });

  it('power target picks the highest profile at or below the request', async () => {
    const s = await api(base());
    const d = new LuxosDriver({ host: s.host, ports: { api: s.port }, clock: new FakeClock(0) });
    const range = await d.powerTargetRangeW();
    expect(range.minW).toBe(784);
    const res = await d.setPowerTargetW(1100);
    expect(res.appliedW).toBe(1080);
    expect(s.requests.find((r) => r.command === 'profileset')?.parameter).toBe('yJN2nlj1,265MHz');
  });

  it('state mapping', () => {
    expect(luxosState({ CurtailMode: 'None', IsPowerSupplyOn: true, IsTuning: false }, 60)).toBe('mining');
    expect(luxosState({ CurtailMode: 'None', IsPowerSupplyOn: true, IsTuning: true }, 60)).toBe('tuning');
    expect(luxosState({ CurtailMode: 'Sleep', IsPowerSupplyOn: false }, 0)).toBe('sleeping');
    expect(luxosState({ CurtailMode: 'Sleep', IsPowerSupplyOn: true }, 12)).toBe('mining'); // still hashing: still drawing power
    expect(luxosState({ CurtailMode: 'None', IsPowerSupplyOn: true }, 0)).toBe('waking');
    expect(luxosState(undefined, 0)).toBe('unknown');
  });
});

describe.skipIf(skipWithoutSharedData)('braiins-legacy and whatsminer state', () => {
  it('braiins: zero hashrate is unknown until a command is on record', async () => {
    const zero = JSON.stringify({ STATUS: [{ STATUS: 'S', When: 1, Code: 11, Msg: 'Summary', Description: 'BOSminer+' }], SUMMARY: [{ 'MHS 5s': 0, 'MHS av': 0 }], id: 1 });
    const s = await api({ summary: zero, pause: sampleText('braiins-os-plus-s17__cgminer__pause.json'), resume: sampleText('braiins-os-plus-s17__cgminer__resume.json') });
    const d = new BraiinsLegacyDriver({ host: s.host, ports: { api: s.port } });
    expect((await d.readTelemetry()).state).toBe('unknown');
    await d.sleep();
    expect((await d.readTelemetry()).state).toBe('sleeping');
    await d.wake();
    expect((await d.readTelemetry()).state).toBe('waking');
  });

  it('whatsminer: btmineroff with zero hashrate → sleeping; M60S low-power status → not off', () => {
    const summary = json('whatsminer-m31s__cgminer__summary.json');
    const sum = (summary.SUMMARY as Obj[])[0] as Obj;
    const zeroed = { ...summary, SUMMARY: [{ ...sum, 'MHS 5s': 0, 'MHS 1m': 0, 'MHS av': 0 }] };
    const sleeping = json('whatsminer-m31s__cgminer__status__sleeping.json').Msg;
    expect(whatsminerTelemetry(zeroed, sleeping, null, 'x')).toMatchObject({ state: 'sleeping', firmware: 'btminer 20200512.13.REL', tempsC: [99.79], fansRpm: [2370, 2430] });
    const low = json('whatsminer-m60s__cgminer__status__low-power.json').Msg;
    expect(whatsminerTelemetry(zeroed, low, null, 'x').state).toBe('waking');
    expect(whatsminerTelemetry(summary, sleeping, null, 'x').state).toBe('mining');
  });

  it('whatsminer: old firmware rejecting {"cmd":"status"} (Code 24) falls back to hashrate only', async () => {
    const s = await api({ summary: sampleText('whatsminer-m20s__cgminer__summary.json'), status: sampleText('whatsminer-m31s__cgminer__pools+summary+edevs__error.json') });
    const d = new WhatsminerV2Driver({ host: s.host, ports: { api: s.port } });
    const t = await d.readTelemetry();
    expect(t).toMatchObject({ state: 'mining', hashrateThs: 64.143778, powerW: 3482, firmware: 'btminer 20200917.22.REL' });
    await d.readTelemetry();
    expect(s.requests.filter((r) => r.command === 'status')).toHaveLength(1); // not asked again
  });

  it('avalon Q soft-off litestats: "In Idle" with zero GHSspd → sleeping', () => {
    const t = avalonTelemetry(json('avalon-q__cgminer__litestats.json'), undefined, 'x');
    expect(t).toMatchObject({ state: 'sleeping', hashrateThs: 0, fansRpm: [0, 0, 0, 0] });
  });
});
