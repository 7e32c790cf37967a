import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { skipWithoutSharedData } from '../../testing/data.js';
import { cgminerCommand, cgminerMulti, encodeRequest, parseTextReply, readStatus, section } from './cgminer.js';
import { MinerError } from './errors.js';
import { sampleText } from './testing/samples.js';
import { startTcpReplay, tableHandler, type ReplayAction, type RunningServer } from './testing/replay-server.js';
import { hyphenList, num, pickNum } from './values.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(table: Parameters<typeof tableHandler>[0]): Promise<RunningServer> {
  const s = await startTcpReplay(tableHandler(table));
  servers.push(s);
  return s;
}

async function serveAction(action: ReplayAction): Promise<RunningServer> {
  const s = await startTcpReplay(() => action);
  servers.push(s);
  return s;
}

async function failure(p: Promise<unknown>): Promise<MinerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MinerError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** A port with nothing listening: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return addr.port;
}

describe('encodeRequest', () => {
  it('JSON form with parameter, text form with |, Whatsminer cmd key', () => {
    expect(encodeRequest({ command: 'summary' })).toBe('{"command":"summary"}');
    expect(encodeRequest({ command: 'curtail', parameter: 'abc,sleep' })).toBe('{"command":"curtail","parameter":"abc,sleep"}');
    expect(encodeRequest({ command: 'ascset', parameter: '0,led,1-1', form: 'text' })).toBe('ascset|0,led,1-1');
    expect(encodeRequest({ command: 'status', key: 'cmd' })).toBe('{"cmd":"status"}');
  });
});

describe('parseTextReply', () => {
  it('reads sections, escapes and numbers', () => {
    const body = parseTextReply('STATUS=S,When=5,Code=11,Msg=Summary\\, ok,Description=x|SUMMARY,Elapsed=155,MHS av=1.5|');
    expect(body).toEqual({ STATUS: [{ STATUS: 'S', When: 5, Code: 11, Msg: 'Summary, ok', Description: 'x' }], SUMMARY: [{ Elapsed: 155, 'MHS av': 1.5 }] });
  });
});

describe('readStatus shapes', () => {
  it('array, object and bare string (Whatsminer puts Code/Msg beside it)', () => {
    expect(readStatus({ STATUS: [{ STATUS: 'S', Code: 11, Msg: 'Summary', When: 1 }] })?.code).toBe(11);
    expect(readStatus({ STATUS: { STATUS: 'S', when: 1766099123, Msg: 'stats' } })?.when).toBe(1766099123);
    const wm = readStatus({ STATUS: 'S', When: 1608417125, Code: 134, Msg: { time: '6915' } });
    expect(wm).toMatchObject({ letter: 'S', code: 134, msg: { time: '6915' } });
    expect(readStatus({})).toBeNull();
  });
});

describe.skipIf(skipWithoutSharedData)('cgminer client against recorded replies (real sockets)', () => {
  it('reads a normal reply and strips the NUL the server appends', async () => {
    const s = await serve({ version: sampleText('antminer-s21-stock__cgminer__version.json') });
    const r = await cgminerCommand({ host: s.host, port: s.port }, 'version');
    expect(r.status).toMatchObject({ letter: 'S', code: 22 });
    expect(section(r.body, 'VERSION')[0]?.Type).toBe('Antminer S21');
    expect(s.requests[0]?.json).toEqual({ command: 'version' });
  });

  it('reassembles a reply written in many small chunks', async () => {
    const s = await serve({ stats: { kind: 'reply', body: sampleText('antminer-s19pro-stock__cgminer__stats.json'), chunks: 37 } });
    const r = await cgminerCommand({ host: s.host, port: s.port }, 'stats');
    expect(pickNum(section(r.body, 'STATS')[1] ?? {}, 'total rate', 'total_rate')).toBe(111834.63);
  });

  it('quirk: `}{` between STATS objects (S9 bmminer), model string with an escaped newline', async () => {
    const s = await serve({ stats: sampleText('antminer-s9-stock__cgminer__stats.json') });
    const r = await cgminerCommand({ host: s.host, port: s.port }, 'stats');
    const stats = section(r.body, 'STATS');
    expect(stats).toHaveLength(2);
    expect(stats[0]?.Type).toBe('Antminer S9\nV1.3.58');
    expect(num(stats[1]?.['GHS 5s'])).toBe(13883.81);
  });

  it('quirk: bare nan in a multi-command reply becomes null, never NaN', async () => {
    const s = await serve({ 'pools+summary+stats': sampleText('avalon-1047__cgminer__summary+stats+pools__nan.txt') });
    const replies = await cgminerMulti({ host: s.host, port: s.port }, ['summary', 'stats', 'pools']);
    const summary = section(replies.get('summary')?.body ?? {}, 'SUMMARY')[0] ?? {};
    expect(summary['MHS av']).toBeNull();
    expect(num(summary['MHS av'])).toBeNull();
    expect(summary['MHS 30s']).toBe(0);
    expect(s.requests[0]?.command).toBe('summary+stats+pools');
  });

  it('quirk: multi-command reply shape {"summary":[...],"stats":[...],"pools":[...],"id":1}', async () => {
    const s = await serve({ 'pools+summary+stats': sampleText('avalon-1047__cgminer__summary+stats+pools.json') });
    const replies = await cgminerMulti({ host: s.host, port: s.port }, ['summary', 'stats', 'pools']);
    expect([...replies.keys()]).toEqual(['summary', 'stats', 'pools']);
    expect(replies.get('stats')?.status.code).toBe(70);
    // "When":168 is uptime (clock not set): passed through, never used as a timestamp.
    expect(replies.get('summary')?.status.when).toBe(168);
  });

  it("quirk: \\' escape inside a string (Whatsminer M20S Firmware Version)", async () => {
    const s = await serve({ summary: sampleText('whatsminer-m20s__cgminer__summary.json') });
    const r = await cgminerCommand({ host: s.host, port: s.port }, 'summary');
    expect(section(r.body, 'SUMMARY')[0]?.['Firmware Version']).toBe("'20200917.22.REL'");
  });

  it('quirk: vendor typos "Deed" and "Pool Stale%%" are kept as sent', async () => {
    const s = await serve({ pools: sampleText('antminer-s21-stock__cgminer__pools.json') });
    const pools = section((await cgminerCommand({ host: s.host, port: s.port }, 'pools')).body, 'POOLS');
    expect(pools.map((p) => p.Status)).toEqual(['Alive', 'Deed', 'Deed']);
    expect(pools[0]?.['Pool Stale%%']).toBe(0);
  });

  it('quirk: hyphen-packed temperature lists with negative readings', async () => {
    const s = await serve({ stats: sampleText('antminer-s19pro-stock__cgminer__stats__cold.json') });
    const dev = section((await cgminerCommand({ host: s.host, port: s.port }, 'stats')).body, 'STATS')[1] ?? {};
    expect(hyphenList(dev.temp_pcb1)).toEqual([2, -1, 20, 22]);
    expect(hyphenList(dev.temp_pic1)).toEqual([-8, -11, 10, 12]);
    expect(hyphenList(dev.temp_pic3)).toEqual([-9, -12, 11, 9]);
    expect(hyphenList(dev.temp_pcb4)).toEqual([0, 0, 0, 0]);
  });

  it('quirk: numbers as strings ("GHS 5s" on VNish, "3250 W" on S21, empty chain_rate)', async () => {
    const s = await serve({ stats: sampleText('antminer-s21pro-vnish__cgminer__stats.json'), 'stats|s21': sampleText('antminer-s21-stock__cgminer__stats.json') });
    const vnish = section((await cgminerCommand({ host: s.host, port: s.port }, 'stats')).body, 'STATS')[1] ?? {};
    expect(vnish['GHS 5s']).toBe('173870.94');
    expect(num(vnish['GHS 5s'])).toBe(173870.94);
    expect(hyphenList(vnish.temp_sens1)).toBeNull(); // "m-m-m-m": sensors missing
    const s21 = section((await cgminerCommand({ host: s.host, port: s.port }, 'stats', { parameter: 's21' })).body, 'STATS')[1] ?? {};
    expect(num(s21.chain_power)).toBe(3250);
    expect(num('')).toBeNull();
  });

  it('quirk: "total rate" (S19 Pro) vs "total_rate" (S17+) key drift', async () => {
    const s = await serve({ stats: sampleText('antminer-s17plus-stock__cgminer__stats__sleeping.json'), 'stats|s19': sampleText('antminer-s19pro-stock__cgminer__stats.json') });
    const s17 = section((await cgminerCommand({ host: s.host, port: s.port }, 'stats')).body, 'STATS')[1] ?? {};
    const s19 = section((await cgminerCommand({ host: s.host, port: s.port }, 'stats', { parameter: 's19' })).body, 'STATS')[1] ?? {};
    expect(pickNum(s17, 'total rate', 'total_rate')).toBe(0);
    expect(pickNum(s19, 'total rate', 'total_rate')).toBe(111834.63);
  });

  it('quirk: no "id" field (VNish) is fine', async () => {
    const s = await serve({ summary: sampleText('antminer-s21pro-vnish__cgminer__summary.json') });
    const r = await cgminerCommand({ host: s.host, port: s.port }, 'summary');
    expect(r.body.id).toBeUndefined();
    expect(r.status.letter).toBe('S');
  });

  it('quirk: "Invalid command" with non-standard Code 0 → PROTOCOL, reason invalid-command', async () => {
    const s = await serve({ version: sampleText('antminer-s21pro-vnish__cgminer__version__invalid-command.json') });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port }, 'version'));
    expect(err).toMatchObject({ code: 'PROTOCOL', fault: 'status', transient: false, statusCode: 0, statusLetter: 'E', reason: 'invalid-command' });
  });

  it('quirk: text-mode reply to a text-mode request (Avalon ascset)', async () => {
    const s = await serve({ 'ascset|0,led,1-1': { kind: 'reply', body: sampleText('avalon__cgminer__ascset-led__text.txt') } });
    const r = await cgminerCommand({ host: s.host, port: s.port }, 'ascset', { parameter: '0,led,1-1', form: 'text' });
    expect(s.requests[0]?.raw).toBe('ascset|0,led,1-1');
    expect(r.status).toMatchObject({ letter: 'S', code: 119, msg: 'ASC 0 set OK', when: 18984 });
  });

  it('quirk: informational STATUS "I" with the result inside Msg passes', async () => {
    const s = await serve({ ascset: sampleText('avalon-q__cgminer__ascset-softoff.json') });
    const r = await cgminerCommand({ host: s.host, port: s.port }, 'ascset', { parameter: '0,softoff' });
    expect(r.status.letter).toBe('I');
    expect(r.status.msg).toMatch(/success softoff:\d+/);
  });

  it('quirk: STATUS as a bare string with an object Msg (Whatsminer status)', async () => {
    const s = await serve({ status: sampleText('whatsminer-m31s__cgminer__status__sleeping.json') });
    const r = await cgminerCommand({ host: s.host, port: s.port }, 'status', { key: 'cmd' });
    expect(r.status).toMatchObject({ letter: 'S', code: 131, msg: { btmineroff: 'true' } });
    expect(s.requests[0]?.json).toEqual({ cmd: 'status' });
  });

  it('quirk: old Whatsminer firmware rejects the "cmd" key (Code 24) → reason missing-command', async () => {
    const s = await serve({ 'pools+summary+edevs': sampleText('whatsminer-m31s__cgminer__pools+summary+edevs__error.json') });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port }, 'pools+summary+edevs', { key: 'cmd' }));
    expect(err).toMatchObject({ code: 'PROTOCOL', statusCode: 24, reason: 'missing-command' });
  });

  it('a multi-command answered by a single error STATUS raises that error', async () => {
    const s = await serve({ version: sampleText('antminer-s21pro-vnish__cgminer__version__invalid-command.json') });
    const err = await failure(cgminerMulti({ host: s.host, port: s.port }, ['version', 'nosuch']));
    expect(err).toMatchObject({ code: 'PROTOCOL', reason: 'invalid-command' });
  });
});

describe('connection-level error taxonomy (real sockets)', () => {
  it('refused → NETWORK, transient', async () => {
    const err = await failure(cgminerCommand({ host: '127.0.0.1', port: await closedPort() }, 'summary'));
    expect(err).toMatchObject({ code: 'NETWORK', fault: 'refused', transient: true });
  });

  it('no reply before the read deadline → TIMEOUT, transient', async () => {
    const s = await serveAction({ kind: 'hang' });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port, limits: { readTimeoutMs: 50 } }, 'summary'));
    expect(err).toMatchObject({ code: 'TIMEOUT', fault: 'timeout', transient: true });
  });

  it('the call deadline caps the read deadline', async () => {
    const s = await serveAction({ kind: 'hang' });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port }, 'summary', { timeoutMs: 40 }));
    expect(err).toMatchObject({ code: 'TIMEOUT', transient: true });
  });

  it('reset mid-exchange → NETWORK, transient', async () => {
    const s = await serveAction({ kind: 'reset' });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port }, 'summary'));
    expect(err).toMatchObject({ code: 'NETWORK', transient: true });
    expect(['reset', 'closed']).toContain(err.fault);
  });

  it('closed without a byte → NETWORK closed, transient', async () => {
    const s = await serveAction({ kind: 'close' });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port }, 'summary'));
    expect(err).toMatchObject({ code: 'NETWORK', fault: 'closed', transient: true });
  });

  it('truncated reply (no NUL, cut JSON) → NETWORK truncated, transient', async () => {
    const body = JSON.stringify({ STATUS: [{ STATUS: 'S', Code: 11, Msg: 'Summary' }], SUMMARY: [{ 'GHS 5s': 1 }], id: 1 });
    const s = await serveAction({ kind: 'truncate', body, bytes: 30 });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port }, 'summary'));
    expect(err).toMatchObject({ code: 'NETWORK', fault: 'truncated', transient: true });
  });

  it('garbage → PARSE, permanent', async () => {
    const s = await serveAction({ kind: 'reply', body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]) });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port }, 'summary'));
    expect(err).toMatchObject({ code: 'PARSE', fault: 'garbage', transient: false });
  });

  it('complete (NUL-terminated) but malformed JSON → PARSE garbage', async () => {
    const s = await serveAction({ kind: 'reply', body: '{"STATUS":[{"STATUS":"S"}]]}' });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port }, 'summary'));
    expect(err).toMatchObject({ code: 'PARSE', fault: 'garbage' });
  });

  it('plain-text "Socket connect failed" → NETWORK daemon-down, transient', async () => {
    const s = await serveAction({ kind: 'reply', body: 'Socket connect failed: Connection refused', nul: false });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port }, 'summary'));
    expect(err).toMatchObject({ code: 'NETWORK', fault: 'daemon-down', transient: true });
  });

  it('reply over the size cap → PARSE too-large', async () => {
    const s = await serveAction({ kind: 'reply', body: '{"x":"' + 'a'.repeat(5000) + '"}' });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port, limits: { maxReplyBytes: 1000 } }, 'summary'));
    expect(err).toMatchObject({ code: 'PARSE', fault: 'too-large' });
  });

  it('caller abort → ABORTED, permanent; an already-aborted signal never connects', async () => {
    const s = await serveAction({ kind: 'hang' });
    const ctl = new AbortController();
    const p = cgminerCommand({ host: s.host, port: s.port }, 'summary', { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 10);
    expect(await failure(p)).toMatchObject({ code: 'ABORTED', fault: 'aborted', transient: false });
    const before = s.requests.length;
    const err = await failure(cgminerCommand({ host: s.host, port: s.port }, 'summary', { signal: AbortSignal.abort() }));
    expect(err.code).toBe('ABORTED');
    expect(s.requests.length).toBe(before);
  });

  it('E STATUS with cgminer Code 45 → PROTOCOL access-denied', async () => {
    const s = await serveAction({ kind: 'reply', body: JSON.stringify({ STATUS: [{ STATUS: 'E', When: 1, Code: 45, Msg: "Access denied to 'devdetails' command", Description: 'bmminer' }], id: 1 }) });
    const err = await failure(cgminerCommand({ host: s.host, port: s.port }, 'devdetails'));
    expect(err).toMatchObject({ code: 'PROTOCOL', statusCode: 45, reason: 'access-denied', transient: false });
  });
});
