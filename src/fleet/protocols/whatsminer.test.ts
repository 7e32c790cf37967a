import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/time.js';
import { skipWithoutSharedData } from '../../testing/data.js';
import { startCall } from './call.js';
import { MinerError } from './errors.js';
import { parseLenientJson } from './lenient-json.js';
import { sampleBytes, sampleText } from './testing/samples.js';
import { startTcpReplay, tableHandler, type ReplayAction, type ReplayRequest, type RunningServer } from './testing/replay-server.js';
import { aesDecryptBase64, aesEncryptBase64, parseToken, WhatsminerClient, whatsminerKeys, type WhatsminerToken } from './whatsminer.js';
import { createCipheriv } from 'node:crypto';

// The public Foreman test hard-codes this password; INDEX.md documents it.
const PASSWORD = 'my-auth-password';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function tokenFromSample(): WhatsminerToken {
  const t = parseToken(parseLenientJson(sampleText('whatsminer-m31s__cgminer__get_token.json')) as Record<string, unknown>);
  if (!t) throw new Error('sample token unreadable');
  return t;
}

describe('AES-256-ECB helpers', () => {
  it('round-trips with NUL padding to 16 bytes', () => {
    const key = Buffer.alloc(32, 7);
    const b64 = aesEncryptBase64(key, '{"cmd":"power_on"}');
    expect(Buffer.from(b64, 'base64').length).toBe(32);
    expect(aesDecryptBase64(key, b64)).toBe('{"cmd":"power_on"}');
  });
});

describe.skipIf(skipWithoutSharedData)('Whatsminer v2 against recorded replies', () => {
  it('derives key and sign from the recorded get_token (md5-crypt as openssl computes it)', () => {
    const token = tokenFromSample();
    expect(token).toEqual({ time: '6915', salt: 'BQ5hoXV9', newsalt: 'a5TtWui2' });
    const keys = whatsminerKeys(PASSWORD, token);
    expect(keys.key).toBe('WssMFDgz6KlzbAfbu9Jph/'); // `openssl passwd -1 -salt BQ5hoXV9 my-auth-password`
    expect(keys.aesKey).toHaveLength(32);
    expect(keys.sign).toMatch(/^[./0-9A-Za-z]{22}$/);
  });

  it('decrypts the recorded encrypted reboot reply: Code 131 command OK', () => {
    const keys = whatsminerKeys(PASSWORD, tokenFromSample());
    const enc = (JSON.parse(sampleText('whatsminer-m31s__cgminer__reboot__enc-reply.json')) as { enc: string }).enc;
    const plain = aesDecryptBase64(keys.aesKey, enc);
    expect(JSON.parse(plain)).toEqual({ STATUS: 'S', When: 1608417125, Code: 131, Msg: '', Description: 'whatsminer v1.1' });
  });

  /** A miner that checks our token and encryption, answering encrypted requests from `reply`. */
  async function miner(reply: (plain: Record<string, unknown>, n: number) => ReplayAction): Promise<{ s: RunningServer; plains: Record<string, unknown>[] }> {
    const keys = whatsminerKeys(PASSWORD, tokenFromSample());
    const plains: Record<string, unknown>[] = [];
    const s = await startTcpReplay(
      tableHandler({ get_token: sampleText('whatsminer-m31s__cgminer__get_token.json') }, (req: ReplayRequest) => {
        if (req.json?.enc !== 1 || typeof req.json.data !== 'string') return { kind: 'reply', body: sampleText('whatsminer__cgminer__enc-json-load-err.json') };
        const plain = JSON.parse(aesDecryptBase64(keys.aesKey, req.json.data)) as Record<string, unknown>;
        plains.push(plain);
        return reply(plain, plains.length);
      }),
    );
    servers.push(s);
    return { s, plains };
  }

  it('power_off through the socket: encrypted, signed, recorded encrypted reply accepted', async () => {
    const { s, plains } = await miner(() => ({ kind: 'reply', body: sampleText('whatsminer-m31s__cgminer__reboot__enc-reply.json') }));
    const client = new WhatsminerClient({ host: s.host, port: s.port }, { clock: new FakeClock(0), password: PASSWORD });
    const r = await client.powerOff(startCall({}));
    expect(r.status.code).toBe(131);
    const keys = whatsminerKeys(PASSWORD, tokenFromSample());
    expect(plains[0]).toEqual({ cmd: 'power_off', respbefore: 'true', token: keys.sign });
    await client.adjustPowerLimit(startCall({}), 3100.4);
    expect(plains[1]).toEqual({ cmd: 'adjust_power_limit', power_limit: '3100', token: keys.sign });
    // The token is reused within its lifetime: one get_token for both commands.
    expect(s.requests.filter((r) => r.command === 'get_token')).toHaveLength(1);
  });

  it('quirk: decrypted reply with NUL padding (write API disabled) → PROTOCOL access-denied, Code 45', async () => {
    const keys = whatsminerKeys(PASSWORD, tokenFromSample());
    const plaintext = sampleBytes('whatsminer-m31s__cgminer__update_pools__write-denied.decrypted.bin');
    expect(plaintext.length % 16).toBe(0); // the recorded plaintext keeps its AES zero padding
    const c = createCipheriv('aes-256-ecb', keys.aesKey, null);
    c.setAutoPadding(false);
    const enc = Buffer.concat([c.update(plaintext), c.final()]).toString('base64');
    const { s } = await miner(() => ({ kind: 'reply', body: JSON.stringify({ enc }) }));
    const client = new WhatsminerClient({ host: s.host, port: s.port }, { clock: new FakeClock(0), password: PASSWORD });
    const err = await client.powerOn(startCall({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MinerError);
    expect(err).toMatchObject({ code: 'PROTOCOL', statusCode: 45, reason: 'access-denied', transient: false });
  });

  it('check token error (135) refreshes the token once, then succeeds', async () => {
    const { s } = await miner((_p, n) =>
      n === 1
        ? { kind: 'reply', body: JSON.stringify({ STATUS: 'E', When: 1, Code: 135, Msg: 'check token err', Description: '' }) }
        : { kind: 'reply', body: sampleText('whatsminer-m31s__cgminer__reboot__enc-reply.json') },
    );
    const client = new WhatsminerClient({ host: s.host, port: s.port }, { clock: new FakeClock(0), password: PASSWORD });
    expect((await client.powerOn(startCall({}))).status.code).toBe(131);
    expect(s.requests.filter((r) => r.command === 'get_token')).toHaveLength(2);
  });

  it('135 twice → AUTH (wrong password), 136 → transient', async () => {
    const { s } = await miner(() => ({ kind: 'reply', body: JSON.stringify({ STATUS: 'E', When: 1, Code: 135, Msg: 'check token err', Description: '' }) }));
    const client = new WhatsminerClient({ host: s.host, port: s.port }, { clock: new FakeClock(0), password: PASSWORD });
    expect(await client.powerOn(startCall({})).catch((e: unknown) => e)).toMatchObject({ code: 'AUTH', statusCode: 135 });
    const m2 = await miner(() => ({ kind: 'reply', body: JSON.stringify({ STATUS: 'E', When: 1, Code: 136, Msg: 'token over max times', Description: '' }) }));
    const c2 = new WhatsminerClient({ host: m2.s.host, port: m2.s.port }, { clock: new FakeClock(0), password: PASSWORD });
    expect(await c2.powerOn(startCall({})).catch((e: unknown) => e)).toMatchObject({ code: 'PROTOCOL', statusCode: 136, transient: true });
  });

  it('a request the miner cannot decrypt gets "enc json load err" (Code 23) → PROTOCOL invalid-json', async () => {
    const s = await startTcpReplay(tableHandler({ get_token: sampleText('whatsminer-m31s__cgminer__get_token.json') }, () => ({ kind: 'reply', body: sampleText('whatsminer__cgminer__enc-json-load-err.json') })));
    servers.push(s);
    const client = new WhatsminerClient({ host: s.host, port: s.port }, { clock: new FakeClock(0), password: 'wrong' });
    expect(await client.powerOn(startCall({})).catch((e: unknown) => e)).toMatchObject({ code: 'PROTOCOL', statusCode: 23, reason: 'invalid-json' });
  });
});
