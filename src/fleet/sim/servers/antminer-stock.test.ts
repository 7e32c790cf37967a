import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLenientJson } from '../../protocols/lenient-json.js';
import { sampleText } from '../../protocols/testing/samples.js';
import { skipWithoutSharedData } from '../../../testing/data.js';
import { api, cgJson, digestRequest, httpRequest, startTestHost, TEST_HTTP_PORT, type TestHost } from '../testing/clients.js';

// Distinct loopback block per test file: files run in parallel.
const CIDR = '127.121.0.0/24';

type Obj = Record<string, unknown>;
const first = (v: unknown): Obj => (Array.isArray(v) ? (v[0] as Obj) : (v as Obj));
const keys = (v: unknown): string[] => Object.keys(first(v)).sort();
const sample = (name: string): Obj => parseLenientJson(sampleText(name)) as Obj;

/** Every key of the recorded reply's section is present in ours. */
function expectKeysCover(ours: unknown, recorded: unknown): void {
  const missing = keys(recorded).filter((k) => !keys(ours).includes(k));
  expect(missing).toEqual([]);
}

let t: TestHost;
let s21: string;
let s19: string;

beforeAll(async () => {
  t = await startTestHost(CIDR, [
    { firmware: 'antminer-stock', model: 's21' },
    { firmware: 'antminer-stock', model: 's19xp' },
  ]);
  [s21, s19] = t.ips as [string, string];
});
afterAll(async () => {
  await t.host.close();
});

describe('stock Antminer cgminer API (4028)', () => {
  it('answers JSON ending with one NUL, bmminer STATUS shape, GHS units', async () => {
    const r = await api(s21, { command: 'summary' });
    expect(r.end).toBe('close');
    expect(r.text.indexOf('\0')).toBe(r.text.length - 1);
    const body = cgJson(r);
    expect(first(body.STATUS)).toMatchObject({ STATUS: 'S', Code: 11, Msg: 'Summary', Description: 'cgminer 1.0.0' });
    expect(first(body.STATUS).When).toBe(Math.floor(t.sim.nowMs() / 1000));
    const ghs = first(body.SUMMARY)['GHS 5s'] as number;
    expect(ghs).toBeGreaterThan(200_000 * 0.97);
    expect(ghs).toBeLessThan(200_000 * 1.03);
    // Firmware number formatting survives: "Total MH" in exponent form.
    expect(r.text).toMatch(/"Total MH":\d\.\d+E\+\d+/);
  });

  it.skipIf(skipWithoutSharedData)('covers the recorded reply keys (version, summary, pools, devs, stats)', async () => {
    for (const cmd of ['version', 'summary', 'pools', 'devs'] as const) {
      const ours = cgJson(await api(s21, { command: cmd }));
      const rec = sample(`antminer-s21-stock__cgminer__${cmd}.json`);
      expect(Object.keys(ours).sort()).toEqual(Object.keys(rec).sort());
      expectKeysCover(ours.STATUS, rec.STATUS);
      const section = Object.keys(rec).find((k) => k !== 'STATUS' && k !== 'id') as string;
      expectKeysCover(ours[section], rec[section]);
    }
    const stats = cgJson(await api(s19, { command: 'stats' }));
    const rec = sample('antminer-s19pro-stock__cgminer__stats.json');
    expectKeysCover((stats.STATS as Obj[])[0], (rec.STATS as Obj[])[0]);
    expectKeysCover((stats.STATS as Obj[])[1], (rec.STATS as Obj[])[1]);
    const s21stats = cgJson(await api(s21, { command: 'stats' }));
    expectKeysCover((s21stats.STATS as Obj[])[1], (sample('antminer-s21-stock__cgminer__stats.json').STATS as Obj[])[1]);
  });

  it('keeps the firmware quirks: "Deed", "Pool Stale%%", string chain rates, hyphen temps, "3250 W"', async () => {
    const pools = cgJson(await api(s21, { command: 'pools' }));
    const p1 = (pools.POOLS as Obj[])[1] as Obj;
    expect(p1.Status).toBe('Deed');
    expect(p1).toHaveProperty(['Pool Stale%%']);
    const stats = (cgJson(await api(s21, { command: 'stats' })).STATS as Obj[])[1] as Obj;
    expect(typeof stats.chain_rate1).toBe('string');
    expect(stats.chain_rate4).toBe('');
    expect(stats.temp_pcb1).toMatch(/^\d+-\d+-\d+-\d+$/);
    expect(stats.chain_power).toMatch(/^\d+ W$/);
    expect(stats['total rate']).toBeGreaterThan(0);
  });

  it('is read-only: writes are denied (45), unknown commands invalid (14)', async () => {
    const denied = cgJson(await api(s21, { command: 'ascset', parameter: '0,softoff' }));
    expect(first(denied.STATUS)).toMatchObject({ STATUS: 'E', Code: 45, Msg: "Access denied to 'ascset' command" });
    const invalid = cgJson(await api(s21, { command: 'frobnicate' }));
    expect(first(invalid.STATUS)).toMatchObject({ STATUS: 'E', Code: 14 });
    const bad = cgJson(await api(s21, '{"command":'));
    // An unfinished JSON request waits for more bytes; the client's close ends it as invalid.
    expect(first(bad.STATUS)).toMatchObject({ STATUS: 'E', Code: 23 });
  });

  it('joins multi-commands and answers text mode', async () => {
    const joined = cgJson(await api(s21, { command: 'summary+stats' }));
    expect(Object.keys(joined).sort()).toEqual(['id', 'stats', 'summary']);
    expect(first((joined.summary as Obj[])[0]?.STATUS)).toMatchObject({ Code: 11 });
    const text = await api(s21, 'summary');
    expect(text.text).toMatch(/^STATUS=S,When=\d+,Code=11,Msg=Summary,Description=cgminer 1\.0\.0\|SUMMARY,Elapsed=\d+,GHS 5s=/);
    expect(text.text.endsWith('|\0')).toBe(true);
  });
});

describe('stock Antminer web CGI (digest auth)', () => {
  it('challenges with a digest 401 and the XHTML body, then serves the raw config layout', async () => {
    const { challenge, reply } = await digestRequest(s21, TEST_HTTP_PORT, 'GET', '/cgi-bin/get_miner_conf.cgi');
    expect(challenge.status).toBe(401);
    expect(challenge.headers['www-authenticate']).toMatch(/^Digest realm="antMiner Configuration", .*nonce="[0-9a-f]{32}", qop="auth"/);
    expect(challenge.body).toContain('<title>401 - Unauthorized</title>');
    expect(reply.status).toBe(200);
    expect(reply.body.startsWith('\n\n{\n"pools" : [')).toBe(true);
    expect(reply.body).toContain('"bitmain-work-mode" : "0"');
    expect(reply.body).toContain(']\n,\n"api-listen" : true');
    const conf = parseLenientJson(reply.body) as Obj;
    expect(conf['api-groups']).toBe('A:stats:pools:devs:summary:version');
  });

  it.skipIf(skipWithoutSharedData)('config, summary.cgi and stats.cgi cover the recorded keys', async () => {
    const conf = parseLenientJson((await digestRequest(s19, TEST_HTTP_PORT, 'GET', '/cgi-bin/get_miner_conf.cgi')).reply.body) as Obj;
    expectKeysCover(conf, sample('antminer-s19pro-stock__http__get_miner_conf.cgi__normal.txt'));
    const sum = JSON.parse((await digestRequest(s21, TEST_HTTP_PORT, 'GET', '/cgi-bin/summary.cgi')).reply.body) as Obj;
    const recSum = sample('antminer-s21-stock__http__summary.cgi.json');
    expect(Object.keys(sum).sort()).toEqual(Object.keys(recSum).sort());
    expectKeysCover(sum.SUMMARY, recSum.SUMMARY);
    expectKeysCover(sum.INFO, recSum.INFO);
    const stats = JSON.parse((await digestRequest(s21, TEST_HTTP_PORT, 'GET', '/cgi-bin/stats.cgi')).reply.body) as Obj;
    const recStats = sample('antminer-s21-stock__http__stats.cgi.json');
    // Sic: STATUS is an object in stats.cgi.
    expect(Array.isArray(stats.STATUS)).toBe(false);
    expectKeysCover(stats.STATUS, recStats.STATUS);
    expectKeysCover(stats.STATS, recStats.STATS);
    expectKeysCover((first(stats.STATS).chain as Obj[])[0], (first(recStats.STATS).chain as Obj[])[0]);
    const sys = JSON.parse((await digestRequest(s21, TEST_HTTP_PORT, 'GET', '/cgi-bin/get_system_info.cgi')).reply.body) as Obj;
    expectKeysCover(sys, sample('antminer-s21-stock__http__get_system_info.cgi__fw2025.json'));
  });

  it('sleeps on work mode 1: still answers, zero hashrate, mode "1"; wakes along the ramp on 0', async () => {
    const set = await digestRequest(s19, TEST_HTTP_PORT, 'POST', '/cgi-bin/set_miner_conf.cgi', 'root', JSON.stringify({ 'bitmain-fan-ctrl': false, 'miner-mode': 1 }));
    expect(JSON.parse(set.reply.body)).toEqual({ stats: 'success', code: 'M000', msg: 'OK!' });
    expect(t.host.truth(s19)[0]).toMatchObject({ state: 'sleeping', sleepCommanded: true });
    const sum = cgJson(await api(s19, { command: 'summary' }));
    expect(first(sum.SUMMARY)['GHS 5s']).toBe(0);
    // bmminer restarted with the new config: Elapsed starts again.
    expect(first(sum.SUMMARY).Elapsed).toBe(0);
    const stats = (cgJson(await api(s19, { command: 'stats' })).STATS as Obj[])[1] as Obj;
    expect(stats.chain_acs1).toMatch(/^( xx)+$/);
    const conf = await digestRequest(s19, TEST_HTTP_PORT, 'GET', '/cgi-bin/get_miner_conf.cgi');
    expect(conf.reply.body).toContain('"bitmain-work-mode" : "1"');

    await digestRequest(s19, TEST_HTTP_PORT, 'POST', '/cgi-bin/set_miner_conf.cgi', 'root', JSON.stringify({ 'miner-mode': '0' }));
    expect(t.host.truth(s19)[0]?.state).toBe('waking');
    t.sim.advance(180_000);
    expect(t.host.truth(s19)[0]?.state).toBe('mining');
  });

  it('rejects a wrong password with a plain 401 and a stale nonce with stale=true', async () => {
    const wrong = await digestRequest(s21, TEST_HTTP_PORT, 'GET', '/cgi-bin/summary.cgi', 'admin');
    expect(wrong.reply.status).toBe(401);
    expect(wrong.reply.headers['www-authenticate']).not.toMatch(/stale/);

    const ok = await digestRequest(s21, TEST_HTTP_PORT, 'GET', '/cgi-bin/summary.cgi');
    expect(ok.reply.status).toBe(200);
    // The same credentials stay good while the nonce is fresh…
    expect((await httpRequest(s21, TEST_HTTP_PORT, 'GET', '/cgi-bin/summary.cgi', { Authorization: ok.authorization })).status).toBe(200);
    // …and go stale after the nonce TTL (10 min of wall time) or an auth-expiry fault.
    t.wall.advance(600_001);
    const late = await httpRequest(s21, TEST_HTTP_PORT, 'GET', '/cgi-bin/summary.cgi', { Authorization: ok.authorization });
    expect(late.status).toBe(401);
    expect(late.headers['www-authenticate']).toMatch(/stale="true"/);

    const fresh = await digestRequest(s21, TEST_HTTP_PORT, 'GET', '/cgi-bin/summary.cgi');
    t.host.addFault(s21, { kind: 'auth-expiry' });
    const expired = await httpRequest(s21, TEST_HTTP_PORT, 'GET', '/cgi-bin/summary.cgi', { Authorization: fresh.authorization });
    expect(expired.status).toBe(401);
    expect(expired.headers['www-authenticate']).toMatch(/stale="true"/);
  });
});
