import { afterEach, describe, expect, it } from 'vitest';
import { skipWithoutSharedData } from '../../testing/data.js';
import { AntminerWebClient, confWithMode, workMode } from './antminer-web.js';
import { startCall } from './call.js';
import { HttpSession } from './http1.js';
import { readStatus, section } from './cgminer.js';
import { sampleText } from './testing/samples.js';
import { startHttpReplay, type RunningHttpServer } from './testing/replay-server.js';
import { rateUnit, toThs } from './values.js';

const servers: RunningHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.skipIf(skipWithoutSharedData)('stock Antminer web CGI over Digest auth (recorded bodies)', () => {
  async function client(): Promise<AntminerWebClient> {
    const s = await startHttpReplay({
      routes: {
        '/cgi-bin/stats.cgi': { body: sampleText('antminer-s21-stock__http__stats.cgi.json') },
        '/cgi-bin/summary.cgi': { body: sampleText('antminer-s21-stock__http__summary.cgi.json') },
        '/cgi-bin/get_miner_conf.cgi': { body: sampleText('antminer-s19-stock__http__get_miner_conf.cgi__sleeping.txt') },
      },
    });
    servers.push(s);
    return new AntminerWebClient({ host: s.host, port: s.port });
  }

  it('quirk: stats.cgi STATUS is an object (summary.cgi has an array), lower-case keys, GH/s', async () => {
    const c = await client();
    const stats = await c.stats(startCall({}));
    expect(readStatus(stats)).toMatchObject({ letter: 'S', when: 1766099123, msg: 'stats' });
    const dev = section(stats, 'STATS')[0] ?? {};
    expect(toThs(dev.rate_5s as number, rateUnit(dev.rate_unit) ?? 'GH')).toBeCloseTo(206.9018, 6);
    const summary = await c.summary(startCall({}));
    expect(readStatus(summary)).toMatchObject({ letter: 'S', code: 0, msg: 'summary' });
  });

  it('quirk: get_miner_conf.cgi with leading blank lines and " : " spacing; asleep = work mode 1', async () => {
    const c = await client();
    const conf = await c.getMinerConf(startCall({}));
    expect(workMode(conf)).toBe(1);
    expect(confWithMode(conf, 0)['miner-mode']).toBe(0);
  });

  it('a missing CGI is UNSUPPORTED, not a transient failure', async () => {
    const c = await client();
    expect(await c.cgi(startCall({}), 'blink').catch((e: unknown) => e)).toMatchObject({ code: 'UNSUPPORTED', statusCode: 404, transient: false });
  });

  it('"miner-mode" (older firmware) wins over "bitmain-work-mode"', () => {
    expect(workMode({ 'miner-mode': 1, 'bitmain-work-mode': '0' })).toBe(1);
    expect(workMode({ 'bitmain-work-mode': '0' })).toBe(0);
    expect(workMode({})).toBeNull();
  });
});

describe('sleep over the web CGI', () => {
  const conf = '{"pools":[{"url":"stratum+tcp://pool:3333","user":"w","pass":"x"}],"bitmain-fan-ctrl":false,"bitmain-fan-pwm":"100","bitmain-work-mode":"0"}';

  it('get_miner_conf and set_miner_conf share one keep-alive connection, the 401 included; the pools are posted back', async () => {
    const s = await startHttpReplay({
      routes: {
        '/cgi-bin/get_miner_conf.cgi': { body: conf },
        '/cgi-bin/set_miner_conf.cgi': { method: 'POST', body: '{"stats":"success","code":"M000","msg":"OK!"}' },
      },
    });
    servers.push(s);
    const c = new AntminerWebClient({ host: s.host, port: s.port });
    const session = new HttpSession(s.host, s.port);
    try {
      await c.setWorkMode(startCall({ timeoutMs: 5_000 }), 1, session);
    } finally {
      session.close();
    }
    expect(s.hits.map((h) => `${h.method} ${h.path}`)).toEqual(['GET /cgi-bin/get_miner_conf.cgi', 'POST /cgi-bin/set_miner_conf.cgi']);
    expect(JSON.parse(s.hits[1]?.body ?? '{}')).toMatchObject({ 'miner-mode': 1, pools: [{ url: 'stratum+tcp://pool:3333' }] });
    expect(s.challenges).toBe(1);
    expect(s.connections).toBe(1);
  });

  it('the sleep read-back is stats.cgi and the stored work mode on the same connection, never summary.cgi', async () => {
    const asleepStats = '{"STATUS":{"STATUS":"S","Msg":"stats"},"STATS":[{"rate_5s":0,"rate_unit":"GH/s"}]}';
    const s = await startHttpReplay({
      routes: {
        '/cgi-bin/get_miner_conf.cgi': { body: conf.replace('"bitmain-work-mode":"0"', '"bitmain-work-mode":"1"') },
        '/cgi-bin/set_miner_conf.cgi': { method: 'POST', body: '{"stats":"success"}' },
        '/cgi-bin/stats.cgi': { body: asleepStats },
      },
    });
    servers.push(s);
    const c = new AntminerWebClient({ host: s.host, port: s.port });
    expect(await c.setWorkModeThenReadBack(startCall({ timeoutMs: 5_000 }), 1)).toEqual({ hashrateThs: 0, mode: 1 });
    expect(s.hits.map((h) => `${h.method} ${h.path}`)).toEqual(['GET /cgi-bin/get_miner_conf.cgi', 'POST /cgi-bin/set_miner_conf.cgi', 'GET /cgi-bin/stats.cgi', 'GET /cgi-bin/get_miner_conf.cgi']);
    expect(s.connections).toBe(1);
  });

  it('firmware without stats.cgi: the command still succeeds and the read-back is null (the agent reads back its own way)', async () => {
    const s = await startHttpReplay({ routes: { '/cgi-bin/get_miner_conf.cgi': { body: conf }, '/cgi-bin/set_miner_conf.cgi': { method: 'POST', body: '{"stats":"success"}' } } });
    servers.push(s);
    const c = new AntminerWebClient({ host: s.host, port: s.port });
    expect(await c.setWorkModeThenReadBack(startCall({ timeoutMs: 5_000 }), 1)).toBeNull();
    expect(s.hits.some((h) => h.path === '/cgi-bin/set_miner_conf.cgi')).toBe(true);
  });

  it('a refused set_miner_conf fails the command', async () => {
    const s = await startHttpReplay({
      routes: { '/cgi-bin/get_miner_conf.cgi': { body: conf }, '/cgi-bin/set_miner_conf.cgi': { method: 'POST', body: '{"stats":"error","code":"E000","msg":"bad"}' } },
    });
    servers.push(s);
    const c = new AntminerWebClient({ host: s.host, port: s.port });
    expect(await c.setWorkMode(startCall({ timeoutMs: 5_000 }), 1).catch((e: unknown) => e)).toMatchObject({ fault: 'status', reason: 'rejected' });
  });

});
