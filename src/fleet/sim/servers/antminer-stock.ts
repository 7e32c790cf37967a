import { errorReply, statusObject, toTextReply, type ApiRequest } from '../cgminer-wire.js';
import { ANTMINER_REALM, challengeHeader, checkDigest, type DigestPolicy } from '../digest-server.js';
import type { SimMiner } from '../miner.js';
import type { SimModel } from '../models.js';
import type { Telemetry } from '../physics.js';
import { hash32 } from '../rng.js';
import { exp, fixed, toWire, type Wire } from '../wire-json.js';
import {
  CGMINER_COMMANDS,
  chainRatesGhs,
  fanRpm,
  isMiningState,
  macAddress, macAddressFromSeed,
  POOL_DIFF,
  round,
  sensorC,
  serial,
  shareCounters,
  type ApiOutcome,
  type FirmwareBehaviour,
  type HttpOutcome,
  type HttpRequestInfo,
} from './common.js';

/**
 * Stock Antminer (bmminer): the cgminer API on 4028 is read-only (api-groups
 * "A:stats:pools:devs:summary:version"; anything else is denied with Code 45), control is the web
 * UI's CGI on port 80 behind Digest auth (root/root, realm "antMiner Configuration"):
 *   GET  /cgi-bin/get_miner_conf.cgi   → "bitmain-work-mode": "0" normal | "1" sleep | "3" low power
 *   POST /cgi-bin/set_miner_conf.cgi   ← {"miner-mode": 1, …} (or "bitmain-work-mode"), reply {"stats":"success","code":"M000","msg":"OK!"}
 *   GET  /cgi-bin/summary.cgi, stats.cgi, get_system_info.cgi; POST reboot.cgi, blink.cgi
 * Replies follow the recorded S19/S21 samples: "GHS 5s" units, "total rate" with a space,
 * hyphen-packed per-chain temperatures, chain_rate as strings, "Deed" for empty pools,
 * "chain_power":"3250 W" on S21-generation stats, get_miner_conf with two leading blank lines and
 * " : " spacing. A sleeping miner answers everything with zero hashrate.
 */
const DESCRIPTION = 'cgminer 1.0.0';

/** Work modes the CGI accepts: 0 normal, 1 sleep, 3 low power (about 70 % of nameplate). */
const LOW_POWER_RATIO = 0.7;

interface Build {
  readonly miner: string;
  readonly compileTime: string;
}

function build(m: { readonly model: SimModel }): Build {
  // S21-generation control boards report "uart_trans.1.3"; S19-generation a bmminer version.
  return m.model.id.startsWith('s21')
    ? { miner: 'uart_trans.1.3', compileTime: 'Thu Jul 11 16:38:25 CST 2024' }
    : { miner: '49.0.1.3', compileTime: 'Tue Dec  6 16:12:30 CST 2022' };
}

interface Snapshot {
  readonly tel: Telemetry;
  readonly mining: boolean;
  readonly elapsedS: number;
  readonly ghs5s: number;
}

function snapshot(m: SimMiner): Snapshot {
  const tel = m.read();
  const elapsedS = Math.max(0, Math.floor((m.clocks.sim.nowMs() - Math.max(m.apiStartSimMs, m.current().bootMs)) / 1000));
  return { tel, mining: isMiningState(tel), elapsedS, ghs5s: tel.hashrateThs * 1000 };
}

function status(m: SimMiner, code: number, msg: string): Record<string, Wire> {
  return statusObject({ letter: 'S', code, msg, description: DESCRIPTION, whenS: m.whenS() });
}

function versionReply(m: SimMiner): Record<string, Wire> {
  const b = build(m);
  return {
    STATUS: [status(m, 22, 'CGMiner versions')],
    VERSION: [{ BMMiner: '1.0.0', API: '3.1', Miner: b.miner, CompileTime: b.compileTime, Type: m.model.name }],
    id: 1,
  };
}

function summaryReply(m: SimMiner): Record<string, Wire> {
  const s = snapshot(m);
  const c = shareCounters(m, s.tel, s.elapsedS, s.mining);
  return {
    STATUS: [status(m, 11, 'Summary')],
    SUMMARY: [
      {
        Elapsed: s.elapsedS,
        'GHS 5s': fixed(s.ghs5s),
        'GHS av': fixed(c.avgGhs),
        'GHS 30m': fixed(s.mining ? s.tel.targetHashrateThs * 1000 : 0),
        'Found Blocks': 0,
        Getwork: c.getworks,
        Accepted: c.accepted,
        Rejected: c.rejected,
        'Hardware Errors': c.hwErrors,
        Utility: fixed(s.elapsedS > 0 ? (c.accepted * 60) / s.elapsedS : 0),
        Discarded: c.discarded,
        Stale: 0,
        'Get Failures': 0,
        'Local Work': c.discarded + c.getworks,
        'Remote Failures': 0,
        'Network Blocks': Math.floor(s.elapsedS / 600),
        'Total MH': exp(c.totalMh),
        'Work Utility': fixed(s.elapsedS > 0 ? (c.diffAccepted * 60) / s.elapsedS / 1000 : 0),
        'Difficulty Accepted': fixed(c.diffAccepted, 1),
        'Difficulty Rejected': fixed(c.diffRejected, 1),
        'Difficulty Stale': fixed(0, 1),
        'Best Share': c.bestShare,
        'Device Hardware%': fixed(0, 1),
        'Device Rejected%': fixed(0, 1),
        'Pool Rejected%': fixed(0, 1),
        'Pool Stale%': fixed(0, 1),
        'Last getwork': m.whenS(),
      },
    ],
    id: 1,
  };
}

/** Per-chain temperature sensors: pic, pcb, chip, four each (the firmware's hyphen-packed strings). */
function chainSensors(m: SimMiner, tel: Telemetry, chain: number): { pic: number[]; pcb: number[]; chip: number[] } {
  const pcb = [0, 1, 2, 3].map((i) => sensorC(m, tel.boardTempC, chain, i));
  const chip = [0, 1, 2, 3].map((i) => sensorC(m, tel.chipTempC, chain, i + 4));
  const pic = pcb.map((t) => t - 10);
  return { pic, pcb, chip };
}

const packed = (xs: readonly number[]): string => xs.join('-');

function statsReply(m: SimMiner): Record<string, Wire> {
  const s = snapshot(m);
  const b = build(m);
  const md = m.model;
  const c = shareCounters(m, s.tel, s.elapsedS, s.mining);
  const rates = chainRatesGhs(m, s.ghs5s, md.chains);
  const dev: Record<string, Wire> = {
    STATS: 0,
    ID: 'BTM_SOC0',
    Elapsed: s.elapsedS,
    Calls: 0,
    Wait: 0,
    Max: 0,
    Min: 99999999,
    'GHS 5s': fixed(s.ghs5s),
    'GHS av': fixed(c.avgGhs),
    rate_30m: fixed(s.mining ? s.tel.targetHashrateThs * 1000 : 0),
    Mode: 2,
    miner_count: md.chains,
    frequency: md.baseFreqMhz,
    fan_num: md.fans,
  };
  for (let f = 1; f <= md.fans; f++) dev[`fan${f}`] = fanRpm(m, s.tel, f);
  dev.temp_num = md.chains;
  const sensors = Array.from({ length: md.chains }, (_, i) => chainSensors(m, s.tel, i));
  sensors.forEach((t, i) => {
    dev[`temp${i + 1}`] = Math.max(...t.pcb);
    dev[`temp2_${i + 1}`] = Math.max(...t.chip);
  });
  // Four chain slots as on the S19 control board; the unused one reads zeros / empty strings.
  const slots = 4;
  for (const kind of ['pcb', 'chip', 'pic'] as const) {
    for (let i = 0; i < slots; i++) dev[`temp_${kind}${i + 1}`] = packed(sensors[i]?.[kind] ?? [0, 0, 0, 0]);
  }
  dev.total_rateideal = fixed(s.tel.targetHashrateThs * 1000, 1);
  dev.rate_unit = 'GH';
  dev.total_freqavg = md.baseFreqMhz;
  dev.total_acn = md.chains * md.chipsPerChain;
  dev['total rate'] = fixed(s.ghs5s);
  dev.temp_max = 0;
  dev.no_matching_work = c.hwErrors;
  for (let i = 0; i < slots; i++) dev[`chain_acn${i + 1}`] = i < md.chains ? md.chipsPerChain : 0;
  const group = s.mining && s.tel.hashrateThs > 0 ? ' ooo' : ' xx';
  for (let i = 0; i < slots; i++) dev[`chain_acs${i + 1}`] = i < md.chains ? group.repeat(Math.ceil(md.chipsPerChain / 3)) : '';
  for (let i = 0; i < slots; i++) dev[`chain_hw${i + 1}`] = i < md.chains ? Math.floor(c.hwErrors / md.chains) : 0;
  for (let i = 0; i < slots; i++) dev[`chain_rate${i + 1}`] = i < md.chains ? (rates[i] ?? 0).toFixed(2) : '';
  for (let i = 0; i < slots; i++) dev[`freq${i + 1}`] = i < md.chains ? md.baseFreqMhz : 0;
  dev.miner_version = b.miner;
  dev.miner_id = hash32(m.seed, 81).toString(16).padStart(8, '0') + hash32(m.seed, 82).toString(16).padStart(8, '0');
  // S21-generation firmware adds the PSU reading as a string with its unit.
  if (md.id.startsWith('s21')) dev.chain_power = `${Math.round(s.tel.powerW)} W`;
  return {
    STATUS: [status(m, 70, 'CGMiner stats')],
    STATS: [{ BMMiner: '1.0.0', Miner: '49.0.1.3', CompileTime: b.compileTime, Type: md.name }, dev],
    id: 1,
  };
}

function devsReply(m: SimMiner): Record<string, Wire> {
  const s = snapshot(m);
  const c = shareCounters(m, s.tel, s.elapsedS, s.mining);
  const when = m.whenS();
  return {
    STATUS: [status(m, 9, '1 ASC(s)')],
    DEVS: [
      {
        ASC: 0,
        Name: 'BTM_SOC',
        ID: 0,
        Enabled: 'Y',
        Status: 'Alive',
        Temperature: fixed(Math.round(s.tel.chipTempC), 1),
        'MHS av': fixed(c.avgGhs * 1000),
        'MHS 5s': fixed(s.ghs5s * 1000),
        Accepted: c.accepted,
        Rejected: c.rejected,
        'Hardware Errors': 0,
        Utility: fixed(0, 1),
        'Last Share Pool': 0,
        'Last Share Time': when,
        'Total MH': fixed(0, 1),
        'Diff1 Work': 0,
        'Difficulty Accepted': c.diffAccepted,
        'Difficulty Rejected': c.diffRejected,
        // Sic: this firmware puts an epoch timestamp in "Last Share Difficulty".
        'Last Share Difficulty': when,
        'Last Valid Work': when,
        'Device Hardware%': fixed(0, 1),
        'Device Rejected%': fixed(0, 1),
        'Device Elapsed': s.elapsedS,
      },
    ],
    id: 1,
  };
}

function poolsReply(m: SimMiner): Record<string, Wire> {
  const s = snapshot(m);
  const c = shareCounters(m, s.tel, s.elapsedS, s.mining);
  const pool = (i: number): Record<string, Wire> => {
    const active = i === 0;
    return {
      POOL: i,
      URL: active ? 'stratum+tcp://stratum.sim.invalid:3333' : '',
      // Sic: empty pool slots report "Deed".
      Status: active ? 'Alive' : 'Deed',
      Priority: i,
      Quota: 1,
      'Long Poll': 'N',
      Getworks: active ? c.getworks : 0,
      Accepted: active ? c.accepted : 0,
      Rejected: active ? c.rejected : 0,
      Discarded: active ? c.discarded : 0,
      Stale: 0,
      'Get Failures': 0,
      'Remote Failures': 0,
      User: active ? `sim.${m.ip.replace(/\./g, 'x')}` : '',
      'Last Share Time': active && s.mining ? '0:00:12' : '0',
      Diff: active ? '262K' : '',
      'Diff1 Shares': 0,
      'Proxy Type': '',
      Proxy: '',
      'Difficulty Accepted': fixed(active ? c.diffAccepted : 0, 1),
      'Difficulty Rejected': fixed(active ? c.diffRejected : 0, 1),
      'Difficulty Stale': fixed(0, 1),
      'Last Share Difficulty': fixed(active ? POOL_DIFF : 0, 1),
      'Has Stratum': active,
      'Stratum Active': active,
      'Stratum URL': active ? 'stratum.sim.invalid' : '',
      'Has GBT': false,
      'Best Share': fixed(active ? c.bestShare : 0, 1),
      'Pool Rejected%': fixed(0, 1),
      // Sic: the doubled percent sign is in the real reply.
      'Pool Stale%%': fixed(0, 1),
    };
  };
  return { STATUS: [status(m, 7, '3 Pool(s)')], POOLS: [pool(0), pool(1), pool(2)], id: 1 };
}

function readReply(m: SimMiner, cmd: string): Record<string, Wire> {
  switch (cmd) {
    case 'version':
      return versionReply(m);
    case 'summary':
      return summaryReply(m);
    case 'stats':
      return statsReply(m);
    case 'devs':
      return devsReply(m);
    case 'pools':
      return poolsReply(m);
    default:
      return CGMINER_COMMANDS.has(cmd)
        ? errorReply({ code: 45, msg: `Access denied to '${cmd}' command`, description: DESCRIPTION, whenS: m.whenS() })
        : errorReply({ code: 14, msg: 'Invalid command', description: DESCRIPTION, whenS: m.whenS() });
  }
}

/** Shared by the other cgminer-family firmwares: multi-command joining and text mode. */
export function answerCgminer(req: ApiRequest, single: (cmd: string) => Record<string, Wire>, opts: { sortKeys?: boolean } = {}): ApiOutcome {
  if (req.commands.length > 1) {
    if (!req.json) return { reply: toTextReply(single('')) };
    const joined: Record<string, Wire> = {};
    for (const c of req.commands) joined[c] = [single(c)];
    joined.id = 1;
    return { reply: toWire(joined, opts) };
  }
  const reply = single(req.commands[0] ?? '');
  return { reply: req.json ? toWire(reply, opts) : toTextReply(reply) };
}

// --- HTTP CGI -------------------------------------------------------------------------------

const UNAUTHORIZED_BODY =
  '<?xml version="1.0" encoding="iso-8859-1"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
  '         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
  ' <head>\n  <title>401 - Unauthorized</title>\n </head>\n <body>\n  <h1>401 - Unauthorized</h1>\n </body>\n</html>\n';

function digestPolicy(m: SimMiner): DigestPolicy {
  return {
    realm: ANTMINER_REALM,
    username: m.opts.antminerUser,
    password: m.opts.antminerPassword,
    secret: `sim-${m.seed}`,
    nonceTtlMs: m.opts.nonceTtlMs,
  };
}

function workMode(m: SimMiner): '0' | '1' | '3' {
  if (m.reportsSleep()) return '1';
  return m.current().targetPowerW < m.model.ratedPowerW * 0.95 ? '3' : '0';
}

/** get_miner_conf.cgi exactly as the S19 firmware lays it out: two blank lines, " : ", "]\n,". */
function minerConfBody(m: SimMiner): string {
  const q = (s: string): string => JSON.stringify(s);
  const pools = [0, 1, 2]
    .map((i) => `{\n"url" : ${q(i === 0 ? 'stratum+tcp://stratum.sim.invalid:3333' : '')},\n"user" : ${q(i === 0 ? `sim.${m.ip.replace(/\./g, 'x')}` : '')},\n"pass" : ${q(i === 0 ? 'x' : '')}\n}`)
    .join(',\n');
  const lines = [
    `"api-listen" : true`,
    `"api-network" : true`,
    `"api-groups" : "A:stats:pools:devs:summary:version"`,
    `"api-allow" : "A:0/0,W:*"`,
    `"bitmain-fan-ctrl" : false`,
    `"bitmain-fan-pwm" : "100"`,
    `"bitmain-use-vil" : true`,
    `"bitmain-freq" : "${m.model.baseFreqMhz}"`,
    `"bitmain-voltage" : "1320"`,
    `"bitmain-ccdelay" : "0"`,
    `"bitmain-pwth" : "0"`,
    `"bitmain-work-mode" : "${workMode(m)}"`,
    `"bitmain-freq-level" : "100"`,
  ];
  return `\n\n{\n"pools" : [\n${pools}\n]\n,\n${lines.join(',\n')}\n}`;
}

function summaryCgi(m: SimMiner): Record<string, Wire> {
  const real = snapshot(m);
  // lie-summary: bmminer restarting under a config write reports nothing hashed on this channel.
  const s = m.lies('lie-summary') ? { ...real, ghs5s: 0 } : real;
  const c = shareCounters(m, s.tel, s.elapsedS, s.mining);
  const b = build(m);
  const st = (type: string): Record<string, Wire> => ({ type, status: 's', code: 0, msg: '' });
  return {
    STATUS: [{ STATUS: 'S', When: m.whenS(), Msg: 'summary', Code: 0, Description: '' }],
    INFO: { miner_version: b.miner, CompileTime: b.compileTime, type: m.model.name },
    SUMMARY: [
      {
        ...cgiRates(s, c),
        hw_all: c.hwErrors,
        bestshare: c.bestShare,
        status: [st('rate'), st('network'), st('fans'), st('temp')],
      },
    ],
  };
}

/** The rate fields summary.cgi and stats.cgi share, GH/s. */
function cgiRates(s: Snapshot, c: ReturnType<typeof shareCounters>): Record<string, Wire> {
  return {
    elapsed: s.elapsedS,
    rate_5s: round(s.ghs5s),
    rate_30m: round(s.mining ? s.tel.targetHashrateThs * 1000 : 0),
    rate_avg: round(c.avgGhs),
    rate_ideal: fixed(s.tel.targetHashrateThs * 1000, 1),
    rate_unit: 'GH/s',
  };
}

function statsCgi(m: SimMiner): Record<string, Wire> {
  const s = snapshot(m);
  const c = shareCounters(m, s.tel, s.elapsedS, s.mining);
  const b = build(m);
  const md = m.model;
  const rates = chainRatesGhs(m, s.ghs5s, md.chains);
  const ideal = (s.tel.targetHashrateThs * 1000) / md.chains;
  const chain = Array.from({ length: md.chains }, (_, i): Record<string, Wire> => {
    const t = chainSensors(m, s.tel, i);
    return {
      index: i,
      freq_avg: md.baseFreqMhz,
      rate_ideal: fixed(ideal, 1),
      rate_real: round(rates[i] ?? 0),
      asic_num: md.chipsPerChain,
      temp_pic: t.pic,
      temp_pcb: t.pcb,
      temp_chip: t.chip,
      hw: Math.floor(c.hwErrors / md.chains),
      sn: serial(m, 'SMTT', 13, i),
      hwp: 0,
    };
  });
  return {
    // Sic: STATUS is an object here, not an array.
    STATUS: { STATUS: 'S', when: m.whenS(), Msg: 'stats', api_version: '1.0.0' },
    INFO: { miner_version: b.miner, CompileTime: b.compileTime, type: md.name },
    STATS: [
      {
        ...cgiRates(s, c),
        chain_num: md.chains,
        fan_num: md.fans,
        fan: Array.from({ length: md.fans }, (_, f) => fanRpm(m, s.tel, f + 1)),
        psu: { index: 0, status: 'ok' },
        hwp_total: 0,
        chain,
      },
    ],
  };
}

function systemInfoCgi(m: SimMiner): Record<string, Wire> {
  return {
    minertype: m.model.name,
    nettype: 'DHCP',
    netdevice: 'eth0',
    macaddr: macAddress(m, '02'),
    hostname: 'Antminer',
    ipaddress: m.ip,
    netmask: '255.0.0.0',
    gateway: '',
    dnsservers: '',
    system_mode: 'GNU/Linux',
    system_kernel_version: 'Linux 4.9.113 #1 SMP PREEMPT Thu Oct 9 18:55:45 CST 2025',
    system_filesystem_version: 'FR-1.12(251009-S21)',
    firmware_type: 'Release',
    serinum: serial(m, 'TH', 15),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies a set_miner_conf.cgi body; returns an error text for a body it cannot use. */
function setMinerConf(m: SimMiner, body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Older web UIs post form fields; accept `miner-mode=1` too.
    parsed = Object.fromEntries(new URLSearchParams(body));
  }
  if (!isRecord(parsed)) return 'body is not an object';
  const raw = parsed['miner-mode'] ?? parsed['bitmain-work-mode'];
  if (raw === undefined) {
    m.recordWrite('set_miner_conf');
    return undefined;
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') return 'work mode must be a number or a string';
  const mode = String(raw);
  const simNow = m.clocks.sim.nowMs();
  switch (mode) {
    case '0':
      m.apply({ kind: 'set-power', powerW: m.model.ratedPowerW });
      m.wake('set_miner_conf');
      break;
    case '1':
      m.sleep('set_miner_conf');
      break;
    case '3':
      m.apply({ kind: 'set-power', powerW: m.model.ratedPowerW * LOW_POWER_RATIO });
      m.wake('set_miner_conf');
      break;
    default:
      return `unknown work mode '${mode}'`;
  }
  // Writing the config restarts bmminer: the API's Elapsed starts again.
  m.apiStartSimMs = simNow;
  return undefined;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' } as const;

function http(m: SimMiner, req: HttpRequestInfo): HttpOutcome {
  const wall = m.clocks.wall.nowMs();
  const policy = digestPolicy(m);
  const auth = checkDigest(policy, req.authorization, req.method, req.url, wall, m.authEpoch);
  if (!auth.ok) {
    return {
      status: 401,
      headers: { 'WWW-Authenticate': challengeHeader(policy, wall, m.authEpoch, auth.stale), 'Content-Type': 'text/html' },
      body: UNAUTHORIZED_BODY,
    };
  }
  const ok = (body: string, headers: Readonly<Record<string, string>> = JSON_HEADERS): HttpOutcome => ({ status: 200, headers, body });
  switch (req.path) {
    case '/cgi-bin/get_miner_conf.cgi':
      return ok(minerConfBody(m), { 'Content-Type': 'text/plain' });
    case '/cgi-bin/set_miner_conf.cgi': {
      if (req.method !== 'POST') return ok(toWire({ stats: 'error', code: 'M001', msg: 'POST required' }));
      const err = setMinerConf(m, req.body);
      return ok(toWire(err === undefined ? { stats: 'success', code: 'M000', msg: 'OK!' } : { stats: 'error', code: 'M001', msg: err }));
    }
    case '/cgi-bin/summary.cgi':
      return ok(toWire(summaryCgi(m)));
    case '/cgi-bin/stats.cgi':
      return ok(toWire(statsCgi(m)));
    case '/cgi-bin/get_system_info.cgi':
      return ok(toWire(systemInfoCgi(m)));
    case '/cgi-bin/blink.cgi':
    case '/cgi-bin/get_blink_status.cgi':
      return ok(toWire({ code: 'B000' }));
    case '/cgi-bin/reboot.cgi':
      m.reboot('reboot.cgi');
      return ok(toWire({ stats: 'success', code: 'R000', msg: 'OK!' }));
    default:
      return { status: 404, headers: { 'Content-Type': 'text/html' }, body: '<html><body><h1>404 - Not Found</h1></body></html>\n' };
  }
}

export const antminerStock: FirmwareBehaviour = {
  reportedMac: (seed, hasWebPort) => hasWebPort ? macAddressFromSeed(seed, '02') : null,
  id: 'antminer-stock',
  label(model) {
    const b = build({ model });
    return `bmminer ${b.miner} (${b.compileTime})`;
  },
  api(m, req) {
    return answerCgminer(req, (cmd) => readReply(m, cmd));
  },
  apiError(m, code, msg) {
    return { reply: toWire(errorReply({ code, msg, description: DESCRIPTION, whenS: m.whenS() })) };
  },
  http,
};
