import { statusObject, type ApiRequest } from '../cgminer-wire.js';
import type { SimMiner } from '../miner.js';
import type { SimModel } from '../models.js';
import { powerForHashrateW } from '../physics.js';
import { toWire, type Wire } from '../wire-json.js';
import { answerCgminer } from './antminer-stock.js';
import { CGMINER_COMMANDS, fanRpm, isMiningState, macAddress, macAddressFromSeed, round, sensorC, serial, shareCounters, uptimeS, type FirmwareBehaviour } from './common.js';

/**
 * LuxOS (LUXminer) on 4028: cgminer-style, keys in alphabetical order (LUXminer's native order),
 * compact bytes. Writes need a session: `logon` creates the only one (Code 316); a second logon
 * while it lives answers Code 402 "Another session is active"; it expires after 60 s idle, each
 * use refreshes it; the session id is the FIRST comma-separated parameter of a write
 * (`curtail` "id,sleep|wakeup" → Code 335; `profileset` "id,profile" → Code 321; `reboot` "id").
 * `curtail` answers at once ("command sent"); the miner then sleeps, or ramps up like a reboot.
 * Assumed (no recorded reply): an invalid or expired session id → STATUS E, Code 400,
 * "Invalid session id"; logoff → Code 318 "Session terminated"; an unknown profile → Code 322.
 */
const VERSION = '2025.4.8.220305-57b389c7';
const DESCRIPTION = `LUXminer ${VERSION}`;
const SORTED = { sortKeys: true } as const;

/** Commands that need the session id (luxos-tooling api.json, logon_required). */
const SESSION_COMMANDS = new Set([
  'atmset', 'autotunerset', 'curtail', 'disableboard', 'enableboard', 'fanset', 'frequencyset', 'frequencystop', 'hashboardoptsset',
  'healthchipset', 'healthctrlset', 'immersionswitch', 'ledset', 'logoff', 'netset', 'profilenew', 'profilerem', 'profilerestore',
  'profileset', 'reboot', 'rebootdevice', 'resetminer', 'resetconfig', 'tempctrlset', 'tempsensorset', 'tunableswitch', 'tunerswitch',
  'uninstallluxos', 'updaterun', 'updateset', 'voltageset',
]);

export interface LuxProfile {
  readonly name: string;
  readonly step: number;
  readonly frequencyMhz: number;
  readonly voltageV: number;
  readonly hashrateThs: number;
  readonly powerW: number;
}

const profileCache = new Map<string, readonly LuxProfile[]>();

/**
 * LuxOS dynamic profiles for a model: 25 MHz steps around the nameplate clock ("default" = step
 * 0); hashrate scales with the clock, power follows the model's efficiency curve; only steps
 * inside the model's power range are offered (the sample S19k Pro lists −16…+8).
 */
export function luxProfiles(model: SimModel): readonly LuxProfile[] {
  const cached = profileCache.get(model.id);
  if (cached) return cached;
  const out: LuxProfile[] = [];
  for (let step = -16; step <= 8; step++) {
    const f = model.baseFreqMhz + 25 * step;
    if (f <= 0) continue;
    const hashrateThs = (model.ratedHashrateThs * f) / model.baseFreqMhz;
    const powerW = powerForHashrateW(model, hashrateThs);
    if (powerW < model.minPowerW - 0.5 || powerW > model.maxPowerW + 0.5) continue;
    out.push({
      name: step === 0 ? 'default' : `${f}MHz`,
      step,
      frequencyMhz: f,
      voltageV: round(Math.max(11.88, 13.35 + 0.15 * step), 2),
      hashrateThs: round(hashrateThs, 1),
      powerW: Math.round(powerW),
    });
  }
  profileCache.set(model.id, out);
  return out;
}

function findProfile(model: SimModel, name: string): LuxProfile | undefined {
  return luxProfiles(model).find((p) => p.name === name);
}

function currentProfile(m: SimMiner): LuxProfile {
  return findProfile(m.model, m.luxProfile) ?? (findProfile(m.model, 'default') as LuxProfile);
}

function reply(m: SimMiner, code: number, msg: string, sections: Record<string, Wire> = {}, letter: 'S' | 'E' = 'S'): Record<string, Wire> {
  return { ...sections, STATUS: [statusObject({ letter, code, msg, description: DESCRIPTION, whenS: m.whenS() })], id: 1 };
}

function summary(m: SimMiner): Record<string, Wire> {
  const tel = m.read();
  const mining = isMiningState(tel);
  const elapsedS = uptimeS(m);
  const c = shareCounters(m, tel, elapsedS, mining);
  const ghs = round(tel.hashrateThs * 1000);
  const avg = round(mining ? tel.targetHashrateThs * 1000 : 0);
  return reply(m, 11, 'Summary', {
    SUMMARY: [
      {
        Accepted: c.accepted,
        'Best Share': c.bestShare,
        'Device Hardware%': 0,
        'Device Rejected%': 0,
        'Difficulty Accepted': c.diffAccepted,
        'Difficulty Rejected': c.diffRejected,
        'Difficulty Stale': 0,
        Discarded: 0,
        Elapsed: elapsedS,
        'Found Blocks': 0,
        'GHS 15m': avg,
        'GHS 1m': ghs,
        'GHS 24h': round(c.avgGhs),
        'GHS 30m': avg,
        'GHS 5m': avg,
        'GHS 5s': ghs,
        'GHS av': round(c.avgGhs),
        'Get Failures': 0,
        Getworks: c.getworks,
        'Hardware Errors': c.hwErrors,
        'Last getwork': m.whenS(),
        'Local Work': 0,
        'Network Blocks': 0,
        'Pool Rejected%': c.accepted > 0 ? round((100 * c.rejected) / c.accepted, 4) : 0,
        'Pool Stale%': 0,
        Rejected: c.rejected,
        'Remote Failures': 0,
        Stale: 0,
        'Total MH': c.totalMh,
        Utility: round(elapsedS > 0 ? (c.accepted * 60) / elapsedS : 0),
        'Work Utility': round(elapsedS > 0 ? (c.diffAccepted * 60) / elapsedS / 1e6 : 0),
      },
    ],
  });
}

function config(m: SimMiner): Record<string, Wire> {
  const p = m.current();
  const prof = currentProfile(m);
  const asleep = m.reportsSleep();
  return reply(m, 33, 'LUXminer config', {
    CONFIG: [
      {
        'ASC Count': m.model.chains,
        ControlBoardType: 'cvitek',
        Cooling: 'Air',
        CurtailMode: asleep ? 'Sleep' : 'None',
        DHCP: true,
        FeeStatus: 'Ok',
        Hostname: `lux-${m.index}`,
        IPAddr: m.ip,
        ImmersionMode: false,
        IsAtmEnabled: false,
        // The PSU is switched off in sleep mode.
        IsPowerSupplyOn: p.state !== 'sleeping' && p.state !== 'off',
        IsTuning: p.state === 'tuning',
        MACAddr: macAddress(m, '62').toLowerCase(),
        Model: m.model.name,
        NameplateTHS: m.model.ratedHashrateThs,
        OS: 'LuxOS',
        'Pool Count': 1,
        Profile: prof.name,
        ProfileStep: String(prof.step),
        SerialNumber: serial(m, 'JYZZ', 13),
        Strategy: 'Failover',
        SystemStatus: 'Normal',
      },
    ],
  });
}

function power(m: SimMiner): Record<string, Wire> {
  // LUXminer's Watts is its own estimate (PSU false = not read from the PSU).
  return reply(m, 311, 'Power usage', { POWER: [{ PSU: false, Watts: Math.round(m.read().powerW) }] });
}

function profiles(m: SimMiner): Record<string, Wire> {
  const cur = currentProfile(m);
  return reply(m, 320, 'Profiles', {
    PROFILES: luxProfiles(m.model).map((p) => ({
      CanRestore: true,
      Frequency: p.frequencyMhz,
      HasOverrides: false,
      Hashrate: p.hashrateThs,
      IsDynamic: true,
      IsTuned: p.name === cur.name,
      'Profile Name': p.name,
      Step: String(p.step),
      Voltage: p.voltageV,
      Watts: p.powerW,
    })),
  });
}

function fans(m: SimMiner): Record<string, Wire> {
  const tel = m.read();
  const speed = Math.round((100 * tel.fanRpm) / m.model.maxFanRpm);
  return reply(m, 202, `${m.model.fans} Fan(s)`, {
    FANCTRL: [{ MinFans: 3, PowerOffSpeed: 20 }],
    FANS: Array.from({ length: m.model.fans }, (_, i) => ({ FAN: `FAN${i + 1}`, ID: i, RPM: fanRpm(m, tel, i + 1), Speed: speed })),
  });
}

function temps(m: SimMiner): Record<string, Wire> {
  const tel = m.read();
  return reply(m, 201, `${m.model.chains} Temp(s)`, {
    TEMPS: Array.from({ length: m.model.chains }, (_, i) => ({
      Board: sensorC(m, tel.boardTempC, i, 0),
      Chip: sensorC(m, tel.chipTempC, i, 4),
      ID: i,
      TEMP: i,
    })),
  });
}

function version(m: SimMiner): Record<string, Wire> {
  return reply(m, 22, 'LUXminer versions', {
    VERSION: [{ API: '3.7', CompileTime: 'Tue Apr  8 22:05:35 UTC 2025', LUXminer: VERSION, Miner: VERSION.split('-')[0] ?? VERSION, Type: m.model.name }],
  });
}

function devs(m: SimMiner): Record<string, Wire> {
  const tel = m.read();
  const per = (tel.hashrateThs * 1e6) / m.model.chains;
  return reply(m, 9, `${m.model.chains} ASC(s)`, {
    DEVS: Array.from({ length: m.model.chains }, (_, i) => ({
      ASC: i,
      Enabled: 'Y',
      ID: i,
      'MHS 5s': round(per),
      'MHS av': round(isMiningState(tel) ? (tel.targetHashrateThs * 1e6) / m.model.chains : 0),
      Name: 'BTM_SOC',
      Status: isMiningState(tel) ? 'Alive' : 'Dead',
      Temperature: sensorC(m, tel.chipTempC, i, 4),
    })),
  });
}

function pools(m: SimMiner): Record<string, Wire> {
  return reply(m, 7, '1 Pool(s)', {
    POOLS: [{ POOL: 0, Priority: 0, Quota: 1, Status: 'Alive', 'Stratum Active': true, URL: 'stratum+tcp://stratum.sim.invalid:3333', User: `sim.${m.index}` }],
  });
}

function atm(m: SimMiner): Record<string, Wire> {
  const list = luxProfiles(m.model);
  return reply(m, 339, 'ATM configuration values', {
    ATM: [{ Enabled: false, MaxProfile: list[list.length - 1]?.name ?? 'default', MinProfile: '', PostRampMinutes: 1, StartupMinutes: 1, TempWindow: 3.0 }],
  });
}

function invalidSession(m: SimMiner): Record<string, Wire> {
  return reply(m, 400, 'Invalid session id', {}, 'E');
}

/** The parameter split on commas; the first item is the session id for session commands. */
function params(req: ApiRequest): string[] {
  return (req.parameter ?? '').split(',').map((s) => s.trim());
}

function handle(m: SimMiner, req: ApiRequest, cmd: string): Record<string, Wire> {
  if (SESSION_COMMANDS.has(cmd)) {
    const [sid = '', ...rest] = params(req);
    if (!m.luxTouch(sid)) return invalidSession(m);
    switch (cmd) {
      case 'logoff':
        m.luxSession = undefined;
        return reply(m, 318, 'Session terminated', { SESSION: [{ SessionID: sid }] });
      case 'curtail': {
        const action = (rest[0] ?? '').toLowerCase();
        if (action === 'sleep') {
          m.sleep('curtail sleep');
          return reply(m, 335, 'Curtailment command sent', { CURTAIL: [{ Action: 'sleep mode' }] });
        }
        if (action === 'wakeup') {
          m.wake('curtail wakeup');
          // Sic: "wake up" with a space, although the parameter is "wakeup".
          return reply(m, 335, 'Curtailment command sent', { CURTAIL: [{ Action: 'wake up' }] });
        }
        return reply(m, 336, `Invalid curtail action '${rest[0] ?? ''}'`, {}, 'E');
      }
      case 'profileset': {
        // "id,profile" or the older per-board form "id,board,profile".
        const name = rest[rest.length - 1] ?? '';
        const prof = findProfile(m.model, name);
        if (!prof) return reply(m, 322, `Profile '${name}' not found`, {}, 'E');
        m.luxProfile = prof.name;
        m.apply({ kind: 'set-power', powerW: prof.powerW }, `profileset ${prof.name}`);
        // Sic: PROFILE echoes Board 0 although profiles now apply to the whole machine.
        return reply(m, 321, 'Profile Set', { PROFILE: [{ Board: 0, FrequencyStep: 5, Profile: prof.name, VoltageStep: 0.05 }] });
      }
      case 'reboot':
      case 'rebootdevice':
        m.reboot(cmd);
        return reply(m, 326, 'Reboot requested', { REBOOT: [{ Action: 'reboot' }] });
      default:
        return reply(m, 14, 'Invalid command', {}, 'E');
    }
  }
  switch (cmd) {
    case 'logon': {
      const id = m.luxLogon();
      if (id === undefined) return reply(m, 402, 'Another session is active', {}, 'E');
      return reply(m, 316, 'Session created', { SESSION: [{ SessionID: id }] });
    }
    case 'session':
      return reply(m, 319, 'Session information', { SESSION: [{ SessionID: m.liveLuxSession()?.id ?? '' }] });
    case 'version':
      return version(m);
    case 'summary':
      return summary(m);
    case 'config':
      return config(m);
    case 'power':
      return power(m);
    case 'profiles':
      return profiles(m);
    case 'fans':
      return fans(m);
    case 'temps':
      return temps(m);
    case 'devs':
      return devs(m);
    case 'pools':
      return pools(m);
    case 'atm':
      return atm(m);
    default:
      return reply(m, CGMINER_COMMANDS.has(cmd) ? 45 : 14, CGMINER_COMMANDS.has(cmd) ? `Access denied to '${cmd}' command` : 'Invalid command', {}, 'E');
  }
}

export const luxos: FirmwareBehaviour = {
  reportedMac: (seed) => macAddressFromSeed(seed, '62'),
  id: 'luxos',
  label: () => DESCRIPTION,
  api(m, req) {
    return answerCgminer(req, (cmd) => handle(m, req, cmd), SORTED);
  },
  apiError(m, code, msg) {
    return { reply: toWire(reply(m, code, msg, {}, 'E'), SORTED) };
  },
};

