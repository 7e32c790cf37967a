import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLenientJson } from '../../protocols/lenient-json.js';
import { sampleBytes, sampleText } from '../../protocols/testing/samples.js';
import { skipWithoutSharedData } from '../../../testing/data.js';
import { api, cgJson, startTestHost, type TestHost } from '../testing/clients.js';
import { whatsminerAesKey, whatsminerDecrypt, whatsminerEncrypt, whatsminerKey, whatsminerSign } from '../wm-crypto.js';

const CIDR = '127.126.0.0/24';
const PASSWORD = 'admin';

type Obj = Record<string, unknown>;
const first = (v: unknown): Obj => (Array.isArray(v) ? (v[0] as Obj) : (v as Obj));
const keys = (v: unknown): string[] => Object.keys(first(v)).sort();
const sample = (name: string): Obj => parseLenientJson(sampleText(name)) as Obj;

describe.skipIf(skipWithoutSharedData)('Whatsminer v2 crypto against the recorded reply', () => {
  it('decrypts the recorded encrypted reboot reply with the published test password and salt', () => {
    const enc = (JSON.parse(sampleText('whatsminer-m31s__cgminer__reboot__enc-reply.json')) as { enc: string }).enc;
    const aes = whatsminerAesKey(whatsminerKey('my-auth-password', 'BQ5hoXV9'));
    const dec = whatsminerDecrypt(aes, enc);
    expect(dec).toEqual({ ok: true, text: '{"STATUS":"S","When":1608417125,"Code":131,"Msg":"","Description":"whatsminer v1.1"}' });
    // Re-encrypting the plaintext gives the recorded bytes back (AES-ECB, NUL padding).
    expect(whatsminerEncrypt(aes, dec.ok ? dec.text : '')).toBe(enc);
  });

  it('pads like the firmware: the decrypted write-denied sample is NUL-padded to 16 bytes', () => {
    const bytes = sampleBytes('whatsminer-m31s__cgminer__update_pools__write-denied.decrypted.bin');
    expect(bytes.length % 16).toBe(0);
    const aes = whatsminerAesKey('k');
    const text = bytes.toString('utf8').replace(/\0+$/, '');
    expect(whatsminerDecrypt(aes, whatsminerEncrypt(aes, text))).toEqual({ ok: true, text });
  });
});

let t: TestHost;
let wm: string;
let wm2: string;

beforeAll(async () => {
  t = await startTestHost(
    CIDR,
    [
      { firmware: 'whatsminer-v2', model: 'm60s' },
      { firmware: 'whatsminer-v2', model: 'm60s' },
    ],
    { miner: { wmMaxTokens: 3 } },
  );
  [wm, wm2] = t.ips as [string, string];
});
afterAll(async () => {
  await t.host.close();
});

interface Token {
  readonly aes: Buffer;
  readonly sign: string;
}

async function getToken(ip: string, password = PASSWORD): Promise<Token> {
  const r = cgJson(await api(ip, { cmd: 'get_token' }));
  expect(r).toMatchObject({ STATUS: 'S', Code: 134 });
  const msg = r.Msg as { time: string; salt: string; newsalt: string };
  const key = whatsminerKey(password, msg.salt);
  return { aes: whatsminerAesKey(key), sign: whatsminerSign(key, msg.time, msg.newsalt) };
}

async function privileged(ip: string, tok: Token, cmd: Obj): Promise<Obj> {
  const data = whatsminerEncrypt(tok.aes, JSON.stringify({ ...cmd, token: tok.sign }));
  const reply = cgJson(await api(ip, { enc: 1, data }));
  if (typeof reply.enc !== 'string') return reply;
  const dec = whatsminerDecrypt(tok.aes, reply.enc);
  if (!dec.ok) throw new Error('reply did not decrypt');
  return JSON.parse(dec.text) as Obj;
}

describe('Whatsminer API v2', () => {
  it.skipIf(skipWithoutSharedData)('reads cover the recorded keys (summary, devs, status, get_token)', async () => {
    const sum = cgJson(await api(wm, { cmd: 'summary' }));
    for (const f of ['whatsminer-m20s__cgminer__summary.json', 'whatsminer-apiv1__cgminer__summary.json']) {
      const rec = sample(f);
      expect(keys(rec.STATUS).filter((k) => !keys(sum.STATUS).includes(k))).toEqual([]);
      const missing = keys(rec.SUMMARY).filter((k) => !keys(sum.SUMMARY).includes(k));
      // Old M20S/M31S fields we do not simulate: Power Voltage/Current Input, per-error-code entries.
      expect(missing.filter((k) => !/^(Factory )?Error Code \d|Power (Voltage|Current) Input|HS RT/.test(k))).toEqual([]);
    }
    const devs = cgJson(await api(wm, { command: 'devs' }));
    const recDevs = sample('whatsminer-m20s__cgminer__devs.json');
    expect(keys(recDevs.DEVS).filter((k) => !keys(devs.DEVS).includes(k))).toEqual([]);
    const status = cgJson(await api(wm, { cmd: 'status' }));
    const recStatus = sample('whatsminer-m60s__cgminer__status__low-power.json');
    expect(Object.keys(status)).toEqual(Object.keys(recStatus));
    expect(Object.keys(status.Msg as Obj).sort()).toEqual(Object.keys(recStatus.Msg as Obj).sort());
    const tok = cgJson(await api(wm2, { cmd: 'get_token' }));
    const recTok = sample('whatsminer-m31s__cgminer__get_token.json');
    expect(Object.keys(tok)).toEqual(Object.keys(recTok));
    expect(Object.keys(tok.Msg as Obj)).toEqual(Object.keys(recTok.Msg as Obj));
  });

  it('uses MHS units and Power fields; STATUS is a string for status', async () => {
    const sum = first(cgJson(await api(wm, { cmd: 'summary' })).SUMMARY);
    expect(sum['MHS 5s'] as number).toBeGreaterThan(186e6 * 0.97);
    expect(sum.Power as number).toBeGreaterThan(3441 * 0.99);
    expect(sum['Firmware Version']).toMatch(/^'\d{8}\.\d+\.REL'$/);
    const status = cgJson(await api(wm, { cmd: 'status' }));
    expect(status.STATUS).toBe('S');
    expect(status.Msg).toMatchObject({ mineroff: 'false', power_limit_set: '3441' });
  });

  it('power_off / power_on / adjust_power_limit through get_token and AES-256-ECB', async () => {
    const tok = await getToken(wm);
    const off = await privileged(wm, tok, { cmd: 'power_off', respbefore: 'true' });
    expect(off).toMatchObject({ STATUS: 'S', Code: 131 });
    expect(t.host.truth(wm)[0]).toMatchObject({ state: 'sleeping', sleepCommanded: true });
    const status = cgJson(await api(wm, { cmd: 'status' }));
    expect(status.Msg).toMatchObject({ mineroff: 'true' });
    expect(first(cgJson(await api(wm, { cmd: 'summary' })).SUMMARY)['MHS 5s']).toBe(0);

    // The token stays good for further commands (30 min).
    expect(await privileged(wm, tok, { cmd: 'power_on' })).toMatchObject({ Code: 131 });
    expect(t.host.truth(wm)[0]?.state).toBe('waking');
    t.sim.advance(120_000);
    expect(t.host.truth(wm)[0]?.state).toBe('mining');

    expect(await privileged(wm, tok, { cmd: 'adjust_power_limit', power_limit: '2500' })).toMatchObject({ Code: 131 });
    t.sim.advance(45_000);
    expect(t.host.truth(wm)[0]).toMatchObject({ state: 'mining', targetPowerW: 2500 });
    // The nameplate is the ceiling.
    await privileged(wm, tok, { cmd: 'adjust_power_limit', power_limit: '9000' });
    expect(t.host.truth(wm)[0]?.targetPowerW).toBe(3441);
    expect(await privileged(wm, tok, { cmd: 'adjust_power_limit', power_limit: 'lots' })).toMatchObject({ STATUS: 'E', Code: 132 });
    expect(await privileged(wm, tok, { cmd: 'fly' })).toMatchObject({ STATUS: 'E', Code: 14 });
  });

  it('rejects bad tokens (135), expired tokens (135), plain writes (23), and over-issued tokens (136)', async () => {
    const good = await getToken(wm2);
    expect(await privileged(wm2, { ...good, sign: 'forged' }, { cmd: 'power_off' })).toMatchObject({ STATUS: 'E', Code: 135, Msg: 'check token error' });
    // A wrong password derives a wrong AES key: the miner cannot parse the command.
    const wrong = await getToken(wm2, 'not-the-password');
    expect(await privileged(wm2, wrong, { cmd: 'power_off' })).toMatchObject({ STATUS: 'E', Code: 23 });
    const plain = cgJson(await api(wm2, { cmd: 'power_off', token: good.sign }));
    expect(plain).toMatchObject({ STATUS: 'E', Code: 23, Msg: 'enc json load err' });
    expect(t.host.truth(wm2)[0]?.state).toBe('mining');

    // Three live tokens are the limit configured for this test (32 by default).
    let over = cgJson(await api(wm2, { cmd: 'get_token' }));
    for (let i = 0; i < 3 && over.Code === 134; i++) over = cgJson(await api(wm2, { cmd: 'get_token' }));
    expect(over).toMatchObject({ STATUS: 'E', Code: 136, Msg: 'over max connect' });

    t.wall.advance(30 * 60_000 + 1);
    expect(await privileged(wm2, good, { cmd: 'power_off' })).toMatchObject({ STATUS: 'E', Code: 135 });
    const fresh = await getToken(wm2);
    t.host.addFault(wm2, { kind: 'auth-expiry' });
    expect(await privileged(wm2, fresh, { cmd: 'power_off' })).toMatchObject({ STATUS: 'E', Code: 135 });
    expect(t.host.truth(wm2)[0]?.state).toBe('mining');
  });
});
