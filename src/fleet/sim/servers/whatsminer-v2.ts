import { statusObject, type ApiRequest } from '../cgminer-wire.js';
import type { SimMiner } from '../miner.js';
import { fixed, toWire, type Wire } from '../wire-json.js';
import { whatsminerDecrypt, whatsminerEncrypt, whatsminerSign } from '../wm-crypto.js';
import { answerCgminer } from './antminer-stock.js';
import { chainRatesGhs, isMiningState, macAddress, macAddressFromSeed, round, sensorC, serial, shareCounters, uptimeS, type ApiOutcome, type FirmwareBehaviour } from './common.js';

/**
 * Whatsminer (btminer) API v2 on 4028. Reads take {"cmd":"summary"} (or "command"); summary/devs
 * use MHS units and carry Power, Power_RT and "Power Limit"; `status` answers with STATUS as a
 * string and Msg as an object of strings ("mineroff":"true").
 * Writes: {"cmd":"get_token"} → Code 134, Msg {time, salt, newsalt} (plain). The client derives
 * key = md5crypt(password, salt), sign = md5crypt(key + time, newsalt), encrypts
 * {"cmd":"power_off","token":sign,…} with AES-256-ECB (key sha256(key)) and sends
 * {"enc":1,"data":base64}. Replies to encrypted commands are {"enc":base64(aes(json))}.
 * Codes: 131 OK, 132 command error, 134 token, 135 check token error (unknown or expired token;
 * tokens live 30 min), 136 token over max times (more than 32 live tokens: get_token refuses),
 * 137 base64 decode error, 23 enc json load err (cannot decrypt / plain write), 14 invalid cmd.
 * Writes: power_off (sleep; "respbefore"), power_on (wake, ramps), adjust_power_limit
 * {"power_limit":"3000"} (tunes down to the limit; nameplate is the ceiling), reboot,
 * restart_btminer (a short reboot).
 */
const FW_VERSION = '20240624.18.REL';
const API_VERSION = '2.0.5';
const CGMINER_DESCRIPTION = 'cgminer 4.9.2';
const PRIVILEGED = new Set(['power_off', 'power_on', 'adjust_power_limit', 'reboot', 'restart_btminer', 'update_pools', 'set_led', 'set_low_power', 'set_normal_power', 'set_high_power', 'set_power_pct', 'factory_reset', 'update_pwd', 'net_config', 'set_target_freq']);
/** A btminer restart (restart_btminer) is quicker than a reboot, sim ms. */
const BTMINER_RESTART_MS = 15_000;

function plainStatus(m: SimMiner, letter: 'S' | 'E', code: number, msg: Wire): Record<string, Wire> {
  // Sic: STATUS is a string here, not an array, and Msg may be an object.
  return { STATUS: letter, When: m.whenS(), Code: code, Msg: msg, Description: '' };
}

function cgStatus(m: SimMiner, code: number, msg: string): Wire[] {
  return [statusObject({ letter: 'S', code, msg, description: CGMINER_DESCRIPTION, whenS: m.whenS() })];
}

function summary(m: SimMiner): Record<string, Wire> {
  const tel = m.read();
  const mining = isMiningState(tel);
  const elapsedS = uptimeS(m);
  const c = shareCounters(m, tel, elapsedS, mining);
  const mhs = tel.hashrateThs * 1e6;
  const avg = mining ? tel.targetHashrateThs * 1e6 : 0;
  const chipAvg = tel.chipTempC;
  const powerMode = tel.targetPowerW < m.model.ratedPowerW * 0.95 ? 'Low' : 'Normal';
  return {
    STATUS: cgStatus(m, 11, 'Summary'),
    SUMMARY: [
      {
        Elapsed: elapsedS,
        'MHS av': fixed(c.avgGhs * 1000),
        'MHS 5s': fixed(mhs),
        'MHS 1m': fixed(mhs),
        'MHS 5m': fixed(avg),
        'MHS 15m': fixed(avg),
        'Found Blocks': 0,
        Getworks: c.getworks,
        Accepted: c.accepted,
        Rejected: c.rejected,
        'Hardware Errors': c.hwErrors,
        Utility: fixed(elapsedS > 0 ? (c.accepted * 60) / elapsedS : 0),
        Discarded: c.discarded,
        Stale: 0,
        'Get Failures': 0,
        'Local Work': c.discarded * 60,
        'Remote Failures': 0,
        'Network Blocks': Math.floor(elapsedS / 600),
        'Total MH': fixed(c.totalMh, 4),
        'Work Utility': fixed(elapsedS > 0 ? (c.diffAccepted * 60) / elapsedS / 1e6 : 0),
        'Difficulty Accepted': fixed(c.diffAccepted, 8),
        'Difficulty Rejected': fixed(c.diffRejected, 8),
        'Difficulty Stale': fixed(0, 8),
        'Best Share': c.bestShare,
        Temperature: fixed(tel.boardTempC),
        freq_avg: m.model.baseFreqMhz,
        'Fan Speed In': Math.round(tel.fanRpm),
        'Fan Speed Out': Math.round(tel.fanRpm * 1.01),
        Voltage: 1300,
        Power: Math.round(tel.powerW),
        Power_RT: Math.round(tel.powerW),
        'Device Hardware%': fixed(0, 4),
        'Device Rejected%': fixed(0, 4),
        'Pool Rejected%': fixed(c.accepted > 0 ? (100 * c.rejected) / c.accepted : 0, 4),
        'Pool Stale%': fixed(0, 4),
        'Last getwork': 0,
        Uptime: uptimeS(m) + 600,
        'Chip Data': 'K8EC374-2426 BINVE6-197806A',
        'Power Current': Math.round(tel.powerW / 12.5),
        'Power Fanspeed': mining ? 8880 : 0,
        'Error Code Count': 0,
        'Factory Error Code Count': 0,
        'Security Mode': 0,
        'Liquid Cooling': false,
        'Hash Stable': tel.state === 'mining',
        'Hash Stable Cost Seconds': 1498,
        'Hash Deviation%': fixed(mining && avg > 0 ? (100 * (mhs - avg)) / avg : 0, 4),
        'Target Freq': m.model.baseFreqMhz,
        'Target MHS': Math.round(tel.targetHashrateThs * 1e6),
        'Env Temp': fixed(m.env.ambientC),
        'Power Mode': powerMode,
        // Sic: the version is wrapped in single quotes inside the string.
        'Firmware Version': `'${FW_VERSION}'`,
        'CB Platform': 'H616',
        'CB Version': 'CB6V10',
        MAC: macAddress(m, 'C4'),
        'Factory GHS': Math.round(m.model.ratedHashrateThs * 1000),
        'Power Limit': Math.round(m.wmPowerLimitW),
        'Chip Temp Min': fixed(chipAvg - 8),
        'Chip Temp Max': fixed(chipAvg + 10),
        'Chip Temp Avg': fixed(chipAvg),
      },
    ],
    id: 1,
  };
}

function devs(m: SimMiner): Record<string, Wire> {
  const tel = m.read();
  const mining = isMiningState(tel);
  const rates = chainRatesGhs(m, tel.hashrateThs * 1000, m.model.chains);
  const elapsedS = uptimeS(m);
  const c = shareCounters(m, tel, elapsedS, mining);
  const n = m.model.chains;
  const when = m.whenS();
  return {
    STATUS: cgStatus(m, 9, `${m.model.chains} ASC(s)`),
    DEVS: Array.from({ length: m.model.chains }, (_, i): Record<string, Wire> => ({
      ASC: i,
      Name: 'SM',
      ID: i,
      Slot: i,
      Enabled: 'Y',
      Status: mining ? 'Alive' : 'Dead',
      Temperature: fixed(sensorC(m, tel.boardTempC, i, 0)),
      'Chip Frequency': m.model.baseFreqMhz,
      'Fan Speed In': Math.round(tel.fanRpm),
      'Fan Speed Out': Math.round(tel.fanRpm * 1.01),
      'MHS av': fixed(mining ? (tel.targetHashrateThs * 1e6) / n : 0),
      'MHS 5s': fixed((rates[i] ?? 0) * 1000),
      'MHS 1m': fixed((rates[i] ?? 0) * 1000),
      'MHS 5m': fixed(mining ? (tel.targetHashrateThs * 1e6) / n : 0),
      'MHS 15m': fixed(mining ? (tel.targetHashrateThs * 1e6) / n : 0),
      Accepted: Math.floor(c.accepted / n),
      Rejected: Math.floor(c.rejected / n),
      'Hardware Errors': Math.floor(c.hwErrors / n),
      Utility: fixed(elapsedS > 0 ? (c.accepted * 60) / elapsedS / n : 0),
      'Last Share Pool': 0,
      'Last Share Time': when,
      'Total MH': fixed(c.totalMh / n, 4),
      'Diff1 Work': Math.floor(c.accepted / n) * 8,
      'Difficulty Accepted': fixed(c.diffAccepted / n, 8),
      'Difficulty Rejected': fixed(c.diffRejected / n, 8),
      'Last Share Difficulty': fixed(262_144, 8),
      'Last Valid Work': when,
      'Device Hardware%': fixed(0, 4),
      'Device Rejected%': fixed(0, 4),
      'Device Elapsed': elapsedS,
      'Upfreq Complete': tel.state === 'mining' ? 1 : 0,
      'Effective Chips': m.model.chipsPerChain,
      'PCB SN': serial(m, 'BKM3CSE', 13, i),
      'Chip Temp Min': fixed(sensorC(m, tel.chipTempC - 8, i, 1)),
      'Chip Temp Max': fixed(sensorC(m, tel.chipTempC + 10, i, 2)),
      'Chip Temp Avg': fixed(sensorC(m, tel.chipTempC, i, 3)),
    })),
    id: 1,
  };
}

/** The hardware model string btminer reports (v3 "type": "M60S_VK40"). */
function wmModelName(m: SimMiner): string {
  return `${m.model.name.replace(/^whatsminer\s+/i, '')}_VK40`;
}

function devdetails(m: SimMiner): Record<string, Wire> {
  return {
    STATUS: cgStatus(m, 69, 'Device Details'),
    DEVDETAILS: Array.from({ length: m.model.chains }, (_, i) => ({
      DEVDETAILS: i,
      Name: 'SM',
      ID: i,
      Driver: 'bitmicro',
      Kernel: '',
      Model: wmModelName(m),
    })),
    id: 1,
  };
}

function pools(m: SimMiner): Record<string, Wire> {
  return {
    STATUS: cgStatus(m, 7, '1 Pool(s)'),
    POOLS: [{ POOL: 0, URL: 'stratum+tcp://stratum.sim.invalid:3333', Status: 'Alive', Priority: 0, Quota: 1, User: `sim.${m.index}`, 'Stratum Active': true }],
    id: 1,
  };
}

function statusReply(m: SimMiner): Record<string, Wire> {
  const off = m.reportsSleep();
  return plainStatus(m, 'S', 131, {
    mineroff: off ? 'true' : 'false',
    mineroff_reason: off ? 'api power off' : '',
    mineroff_time: off && m.lastWrite ? new Date(m.lastWrite.wallMs).toISOString().replace('T', ' ').slice(0, 19) : '',
    FirmwareVersion: FW_VERSION,
    power_mode: m.current().targetPowerW < m.model.ratedPowerW * 0.95 ? 'low' : 'normal',
    power_limit_set: String(Math.round(m.wmPowerLimitW)),
    hash_percent: '100',
  });
}

function readCommand(m: SimMiner, cmd: string, joined: boolean): Record<string, Wire> {
  switch (cmd) {
    case 'summary':
      return summary(m);
    case 'devs':
    case 'edevs':
      return devs(m);
    case 'pools':
      return pools(m);
    case 'devdetails':
      return devdetails(m);
    default:
      break;
  }
  // get_* and status are not joinable (btminer answers them on their own).
  if (!joined) {
    switch (cmd) {
      case 'status':
        return statusReply(m);
      case 'get_version':
        return plainStatus(m, 'S', 131, { api_ver: API_VERSION, fw_ver: FW_VERSION, platform: 'H616', chip: 'K8' });
      case 'get_psu': {
        const tel = m.read();
        return plainStatus(m, 'S', 131, {
          name: 'P221B',
          hw_version: 'RT0159',
          sw_version: '230224.220429',
          model: 'P221B',
          iin: String(round(tel.powerW / 230, 2)),
          vin: '23000',
          fan_speed: String(Math.round(tel.fanRpm)),
          version: '1',
          serial_no: serial(m, '1436B', 10),
          vender: '1',
          temp0: String(Math.round(tel.boardTempC - 10)),
        });
      }
      default:
        break;
    }
  }
  return plainStatus(m, 'E', 14, 'invalid cmd');
}

/** Executes a decrypted privileged command; the reply is then encrypted. */
function privileged(m: SimMiner, body: Readonly<Record<string, unknown>>): Record<string, Wire> {
  const cmd = typeof body.cmd === 'string' ? body.cmd : typeof body.command === 'string' ? body.command : '';
  const ok = (): Record<string, Wire> => plainStatus(m, 'S', 131, '');
  switch (cmd) {
    case 'power_off':
      m.sleep('power_off');
      return ok();
    case 'power_on':
      m.wake('power_on');
      return ok();
    case 'adjust_power_limit': {
      const raw = body.power_limit;
      const w = typeof raw === 'string' || typeof raw === 'number' ? Number(raw) : NaN;
      if (!Number.isFinite(w) || w <= 0) return plainStatus(m, 'E', 132, 'API command ERROR');
      // The nameplate is the ceiling: a Whatsminer power limit only curtails.
      m.wmPowerLimitW = Math.min(w, m.model.ratedPowerW);
      m.apply({ kind: 'set-power', powerW: m.wmPowerLimitW }, 'adjust_power_limit');
      return ok();
    }
    case 'reboot':
      m.reboot('reboot');
      return ok();
    case 'restart_btminer':
      m.reboot('restart_btminer', BTMINER_RESTART_MS);
      return ok();
    default:
      return plainStatus(m, 'E', 14, 'invalid cmd');
  }
}

function encrypted(m: SimMiner, req: ApiRequest): ApiOutcome {
  const body = req.body ?? {};
  const data = body.data;
  if (typeof data !== 'string') return { reply: toWire(plainStatus(m, 'E', 23, 'enc json load err')) };
  const { aes } = m.wmKeys();
  const dec = whatsminerDecrypt(aes, data);
  if (!dec.ok) return { reply: toWire(plainStatus(m, 'E', dec.reason === 'base64' ? 137 : 23, dec.reason === 'base64' ? 'base64 decode error' : 'enc json load err')) };
  let inner: unknown;
  try {
    inner = JSON.parse(dec.text);
  } catch {
    // A wrong password decrypts to noise.
    return { reply: toWire(plainStatus(m, 'E', 23, 'enc json load err')) };
  }
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return { reply: toWire(plainStatus(m, 'E', 23, 'enc json load err')) };
  const rec = inner as Record<string, unknown>;
  if (typeof rec.token !== 'string' || !m.wmTokenValid(rec.token)) return { reply: toWire(plainStatus(m, 'E', 135, 'check token error')) };
  const result = privileged(m, rec);
  return { reply: toWire({ enc: whatsminerEncrypt(aes, toWire(result)) }) };
}

export const whatsminerV2: FirmwareBehaviour = {
  reportedMac: (seed) => macAddressFromSeed(seed, 'C4'),
  id: 'whatsminer-v2',
  label: () => `btminer ${FW_VERSION}`,
  api(m, req) {
    if (req.json && req.body?.enc !== undefined) return encrypted(m, req);
    const cmd = req.commands[0] ?? '';
    if (req.commands.length === 1 && cmd === 'get_token') {
      const issued = m.wmIssueToken(whatsminerSign);
      if (!issued) return { reply: toWire(plainStatus(m, 'E', 136, 'over max connect')) };
      return { reply: toWire(plainStatus(m, 'S', 134, { time: issued.time, salt: m.wmSalt, newsalt: issued.newsalt })) };
    }
    if (req.commands.length === 1 && PRIVILEGED.has(cmd)) {
      // A write sent in the clear: with a token btminer tries to decrypt it and fails.
      return { reply: toWire(req.body?.token !== undefined ? plainStatus(m, 'E', 23, 'enc json load err') : plainStatus(m, 'E', 45, "can't access write cmd")) };
    }
    return answerCgminer(req, (c) => readCommand(m, c, req.commands.length > 1));
  },
  apiError(m, code, msg) {
    return { reply: toWire({ STATUS: [statusObject({ letter: 'E', code, msg, description: CGMINER_DESCRIPTION, whenS: m.whenS() })], id: 1 }) };
  },
};
