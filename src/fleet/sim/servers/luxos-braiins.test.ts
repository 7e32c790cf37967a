import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLenientJson } from '../../protocols/lenient-json.js';
import { sampleText } from '../../protocols/testing/samples.js';
import { skipWithoutSharedData } from '../../../testing/data.js';
import { findModel } from '../models.js';
import { api, cgJson, startTestHost, type TestHost } from '../testing/clients.js';
import { luxProfiles } from './luxos.js';

const CIDR = '127.125.0.0/24';

type Obj = Record<string, unknown>;
const first = (v: unknown): Obj => (Array.isArray(v) ? (v[0] as Obj) : (v as Obj));
const keys = (v: unknown): string[] => Object.keys(first(v)).sort();
const sample = (name: string): Obj => parseLenientJson(sampleText(name)) as Obj;
function expectKeysCover(ours: unknown, recorded: unknown): void {
  expect(keys(recorded).filter((k) => !keys(ours).includes(k))).toEqual([]);
}

let t: TestHost;
let lux: string;
let lux2: string;
let bos: string;

beforeAll(async () => {
  t = await startTestHost(CIDR, [
    { firmware: 'luxos', model: 's19jpro' },
    { firmware: 'luxos', model: 's21' },
    { firmware: 'braiins-legacy', model: 's19xp' },
  ]);
  [lux, lux2, bos] = t.ips as [string, string, string];
});
afterAll(async () => {
  await t.host.close();
});

describe('LuxOS', () => {
  it('answers compact JSON with LUXminer key order (alphabetical) and a NUL', async () => {
    const r = await api(lux, { command: 'version' });
    expect(r.text.endsWith('}\0')).toBe(true);
    expect(r.text.startsWith('{"STATUS":[{"Code":22,"Description":"LUXminer ')).toBe(true);
    expect(r.text).toMatch(/"VERSION":\[\{"API":"3.7","CompileTime":/);
  });

  it.skipIf(skipWithoutSharedData)('covers the recorded reply keys', async () => {
    for (const cmd of ['version', 'summary', 'power', 'profiles', 'fans'] as const) {
      const ours = cgJson(await api(lux, { command: cmd }));
      const rec = sample(`luxos-s19kpro__cgminer__${cmd}.json`);
      for (const section of Object.keys(rec)) {
        if (section === 'id') continue;
        expectKeysCover(ours[section], rec[section]);
      }
    }
    const cfg = cgJson(await api(lux, { command: 'config' }));
    const recCfg = first(sample('luxos-s19kpro__cgminer__config.json').CONFIG);
    const needed = ['CurtailMode', 'IsPowerSupplyOn', 'Model', 'NameplateTHS', 'Profile', 'ProfileStep', 'IsTuning', 'IsAtmEnabled'];
    for (const k of needed) expect(Object.keys(recCfg)).toContain(k);
    for (const k of needed) expect(Object.keys(first(cfg.CONFIG))).toContain(k);
    expectKeysCover(cgJson(await api(lux, { command: 'session' })).SESSION, sample('luxos__cgminer__session__none.json').SESSION);
  });

  it('allows one session at a time; writes need it as the first parameter', async () => {
    const none = cgJson(await api(lux, { command: 'session' }));
    expect(first(none.SESSION)).toEqual({ SessionID: '' });
    const noSession = cgJson(await api(lux, { command: 'curtail', parameter: 'nosuchid,sleep' }));
    expect(first(noSession.STATUS)).toMatchObject({ STATUS: 'E', Code: 400, Msg: 'Invalid session id' });
    expect(t.host.truth(lux)[0]?.state).toBe('mining');

    const logon = cgJson(await api(lux, { command: 'logon' }));
    expect(first(logon.STATUS)).toMatchObject({ STATUS: 'S', Code: 316, Msg: 'Session created' });
    const sid = first(logon.SESSION).SessionID as string;
    expect(sid).toMatch(/^[A-Za-z0-9]{8}$/);
    const again = cgJson(await api(lux, { command: 'logon' }));
    expect(first(again.STATUS)).toMatchObject({ STATUS: 'E', Code: 402, Msg: 'Another session is active' });
    expect(again.SESSION).toBeUndefined();

    const sleep = cgJson(await api(lux, { command: 'curtail', parameter: `${sid},sleep` }));
    expect(first(sleep.STATUS)).toMatchObject({ STATUS: 'S', Code: 335, Msg: 'Curtailment command sent' });
    expect(first(sleep.CURTAIL)).toEqual({ Action: 'sleep mode' });
    expect(t.host.truth(lux)[0]).toMatchObject({ state: 'sleeping', sleepCommanded: true });
    const cfg = first(cgJson(await api(lux, { command: 'config' })).CONFIG);
    expect(cfg).toMatchObject({ CurtailMode: 'Sleep', IsPowerSupplyOn: false });
    expect(first(cgJson(await api(lux, { command: 'summary' })).SUMMARY)['GHS 5s']).toBe(0);
    expect(first(cgJson(await api(lux, { command: 'power' })).POWER).Watts).toBeLessThan(20);

    const wake = cgJson(await api(lux, { command: 'curtail', parameter: `${sid},wakeup` }));
    expect(first(wake.CURTAIL)).toEqual({ Action: 'wake up' });
    expect(t.host.truth(lux)[0]?.state).toBe('waking');

    const off = cgJson(await api(lux, { command: 'logoff', parameter: sid }));
    expect(first(off.STATUS)).toMatchObject({ STATUS: 'S' });
    expect(first(cgJson(await api(lux, { command: 'session' })).SESSION)).toEqual({ SessionID: '' });
  });

  it('expires an idle session after 60 s and on an auth-expiry fault', async () => {
    const sid = first(cgJson(await api(lux2, { command: 'logon' })).SESSION).SessionID as string;
    t.wall.advance(59_000);
    expect(first(cgJson(await api(lux2, { command: 'profileset', parameter: `${sid},default` })).STATUS).STATUS).toBe('S');
    // The use refreshed it: 59 s later it is still alive, 61 s idle later it is gone.
    t.wall.advance(59_000);
    expect(first(cgJson(await api(lux2, { command: 'session' })).SESSION).SessionID).toBe(sid);
    t.wall.advance(61_000);
    expect(first(cgJson(await api(lux2, { command: 'curtail', parameter: `${sid},sleep` })).STATUS).Code).toBe(400);

    const sid2 = first(cgJson(await api(lux2, { command: 'logon' })).SESSION).SessionID as string;
    t.host.addFault(lux2, { kind: 'auth-expiry' });
    expect(first(cgJson(await api(lux2, { command: 'curtail', parameter: `${sid2},sleep` })).STATUS).Code).toBe(400);
  });

  it('profileset tunes to the profile power along the efficiency curve', async () => {
    const model = findModel('s21');
    const profiles = luxProfiles(model);
    expect(profiles.find((p) => p.name === 'default')).toMatchObject({ step: 0, powerW: 3500, hashrateThs: 200 });
    expect(profiles.every((p) => p.powerW >= model.minPowerW && p.powerW <= model.maxPowerW)).toBe(true);
    const low = profiles[0] as (typeof profiles)[number];
    const sid = first(cgJson(await api(lux2, { command: 'logon' })).SESSION).SessionID as string;
    const set = cgJson(await api(lux2, { command: 'profileset', parameter: `${sid},${low.name}` }));
    expect(first(set.PROFILE)).toMatchObject({ Board: 0, Profile: low.name });
    expect(t.host.truth(lux2)[0]).toMatchObject({ state: 'tuning', targetPowerW: low.powerW });
    t.sim.advance(30_000);
    const truth = t.host.truth(lux2)[0];
    expect(truth?.state).toBe('mining');
    expect(truth?.hashrateThs).toBeCloseTo(low.hashrateThs, -1);
    const unknown = cgJson(await api(lux2, { command: 'profileset', parameter: `${sid},9999MHz` }));
    expect(first(unknown.STATUS).STATUS).toBe('E');
    await api(lux2, { command: 'logoff', parameter: sid });
  });
});

describe('Braiins OS legacy API', () => {
  it.skipIf(skipWithoutSharedData)('covers the recorded reply keys', async () => {
    for (const [cmd, file] of [
      ['summary', 'braiins-os-plus-s9__cgminer__summary.json'],
      ['fans', 'braiins-os-plus-s9__cgminer__fans.json'],
      ['temps', 'braiins-os-plus-s9__cgminer__temps.json'],
      ['tunerstatus', 'braiins-os-plus-s9__cgminer__tunerstatus.json'],
    ] as const) {
      const ours = cgJson(await api(bos, { command: cmd }));
      const rec = sample(file);
      for (const section of Object.keys(rec)) if (section !== 'id') expectKeysCover(ours[section], rec[section]);
    }
  });

  it('pauses and resumes with the documented replies; a paused miner still answers', async () => {
    const pause = cgJson(await api(bos, { command: 'pause' }));
    expect(first(pause.STATUS)).toMatchObject({ STATUS: 'S', Code: 204, Msg: 'Pause' });
    expect(pause.PAUSE).toEqual([true]);
    expect(t.host.truth(bos)[0]?.state).toBe('sleeping');
    const sum = first(cgJson(await api(bos, { command: 'summary' })).SUMMARY);
    expect(sum['MHS 5s']).toBe(0);
    const resume = cgJson(await api(bos, { command: 'resume' }));
    expect(first(resume.STATUS)).toMatchObject({ Code: 205, Msg: 'Resume' });
    expect(resume.RESUME).toEqual([true]);
    expect(t.host.truth(bos)[0]?.state).toBe('waking');
    t.sim.advance(30_000);
    expect(t.host.truth(bos)[0]?.state).toBe('mining');
  });
});
