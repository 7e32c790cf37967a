/**
 * Replay targets for the driver contract and the scanner tests: loopback servers that answer
 * with the REAL recorded replies in ../shared/data/samples/miners (read at test time). Where no
 * recording exists (marked SYNTHETIC below) a minimal reply in the documented shape stands in,
 * only so that the command path can be exercised.
 */
import { sampleText } from '../../protocols/testing/samples.js';
import { startHttpReplay, startTcpReplay, tableHandler, type ReplayRequest, type RunningServer, type TableEntry } from '../../protocols/testing/replay-server.js';
import { aesDecryptBase64, whatsminerKeys, parseToken } from '../../protocols/whatsminer.js';
import { parseLenientJson } from '../../protocols/lenient-json.js';
import type { ContractTarget } from '../driver.contract.js';

export const WHATSMINER_SAMPLE_PASSWORD = 'my-auth-password';

// SYNTHETIC: no recorded set_miner_conf.cgi reply exists (INDEX.md, "Gaps"); this is the shape
// current stock firmware documents for success.
const SET_MINER_CONF_OK = '{"stats":"success","code":"M000","msg":"OK!"}';
// SYNTHETIC: no recorded LuxOS logoff reply exists (INDEX.md, "Gaps").
const LUXOS_LOGOFF_OK = JSON.stringify({ STATUS: [{ Code: 317, Description: 'LUXminer replay', Msg: 'Session terminated', STATUS: 'S', When: 0 }], id: 1 });

export interface ReplaySet {
  type: string;
  label: string;
  /** cgminer table (command or `command|parameter` → recorded file body). */
  cgminer: Record<string, TableEntry>;
  /** Fallback for requests not in the table (Whatsminer encrypted writes). */
  fallback?: (req: ReplayRequest) => TableEntry;
  /** HTTP CGI routes behind Digest auth, when the firmware has them. */
  http?: Record<string, { method?: 'GET' | 'POST'; body: string }>;
  creds?: { username?: string; password?: string };
  config?: ContractTarget['config'];
  expect: NonNullable<ContractTarget['expect']>;
}

const s = sampleText;

/** Recorded replay sets, one per driver type (some types have extra states). */
export function replaySets(): ReplaySet[] {
  const wmToken = parseToken(parseLenientJson(s('whatsminer-m31s__cgminer__get_token.json')) as Record<string, unknown>);
  if (!wmToken) throw new Error('whatsminer get_token sample unreadable');
  const wmKeys = whatsminerKeys(WHATSMINER_SAMPLE_PASSWORD, wmToken);
  return [
    {
      type: 'antminer-stock',
      label: 'antminer-stock (S21, mining, replay)',
      cgminer: {
        version: s('antminer-s21-stock__cgminer__version.json'),
        summary: s('antminer-s21-stock__cgminer__summary.json'),
        stats: s('antminer-s21-stock__cgminer__stats.json'),
        pools: s('antminer-s21-stock__cgminer__pools.json'),
        devs: s('antminer-s21-stock__cgminer__devs.json'),
      },
      http: {
        '/cgi-bin/get_miner_conf.cgi': { body: s('antminer-s21-stock__http__get_miner_conf.cgi.json') },
        '/cgi-bin/set_miner_conf.cgi': { method: 'POST', body: SET_MINER_CONF_OK },
        '/cgi-bin/summary.cgi': { body: s('antminer-s21-stock__http__summary.cgi.json') },
        '/cgi-bin/stats.cgi': { body: s('antminer-s21-stock__http__stats.cgi.json') },
        '/cgi-bin/get_system_info.cgi': { body: s('antminer-s21-stock__http__get_system_info.cgi__fw2025.json') },
      },
      expect: { model: 'Antminer S21', firmware: 'bmminer 49.0.1.3 (Thu Jul 11 16:38:25 CST 2024)', states: ['mining'], powerW: 3250, hashrateThs: 203.00701 },
    },
    {
      type: 'antminer-stock',
      label: 'antminer-stock (S19, asleep, replay)',
      cgminer: {
        stats: s('antminer-s19-stock__cgminer__stats__sleeping.json'),
        pools: s('antminer-s19-stock__cgminer__pools__sleeping.json'),
      },
      http: {
        '/cgi-bin/get_miner_conf.cgi': { body: s('antminer-s19-stock__http__get_miner_conf.cgi__sleeping.txt') },
        '/cgi-bin/set_miner_conf.cgi': { method: 'POST', body: SET_MINER_CONF_OK },
      },
      // Asleep is not offline: it answers, with zero hashrate, and the web conf says mode 1.
      expect: { model: 'Antminer S19', states: ['sleeping'], powerW: 'null', hashrateThs: 0 },
    },
    {
      type: 'luxos',
      label: 'luxos (S19k Pro, replay)',
      cgminer: {
        version: s('luxos-s19kpro__cgminer__version.json'),
        summary: s('luxos-s19kpro__cgminer__summary.json'),
        power: s('luxos-s19kpro__cgminer__power.json'),
        config: s('luxos-s19kpro__cgminer__config.json'),
        fans: s('luxos-s19kpro__cgminer__fans.json'),
        profiles: s('luxos-s19kpro__cgminer__profiles.json'),
        events: s('luxos-s19kpro__cgminer__events.json'),
        atm: s('luxos__cgminer__atm.json'),
        logon: s('luxos__cgminer__logon.json'),
        session: s('luxos__cgminer__session__none.json'),
        'curtail|yJN2nlj1,sleep': s('luxos__cgminer__curtail-sleep.json'),
        'curtail|yJN2nlj1,wakeup': s('luxos__cgminer__curtail-wakeup.json'),
        profileset: (req) => (req.parameter?.startsWith('yJN2nlj1,') ? { kind: 'reply', body: s('luxos__cgminer__profileset.json') } : { kind: 'reply', body: s('luxos__cgminer__updaterun__error.json') }),
        logoff: LUXOS_LOGOFF_OK,
      },
      // IsTuning true while hashing in the recorded config: LuxOS is settling its profile.
      expect: { model: 'Antminer S19k Pro', firmware: 'LUXminer 2025.4.8.220305-57b389c7', states: ['tuning'], powerW: 1051, hashrateThs: 59.75606 },
    },
    {
      type: 'braiins-legacy',
      label: 'braiins-legacy (S9 reads, S17 pause/resume, replay)',
      cgminer: {
        summary: s('braiins-os-plus-s9__cgminer__summary.json'),
        fans: s('braiins-os-plus-s9__cgminer__fans.json'),
        temps: s('braiins-os-plus-s9__cgminer__temps.json'),
        tunerstatus: s('braiins-os-plus-s9__cgminer__tunerstatus.json'),
        pause: s('braiins-os-plus-s17__cgminer__pause.json'),
        resume: s('braiins-os-plus-s17__cgminer__resume.json'),
      },
      expect: { firmware: 'BOSminer+ 0.2.0-36c56a9363', states: ['mining'], powerW: 1419, hashrateThs: 15.740916 },
    },
    {
      type: 'whatsminer-v2',
      label: 'whatsminer-v2 (M31S, replay)',
      cgminer: {
        summary: s('whatsminer-m31s__cgminer__summary.json'),
        status: s('whatsminer-m31s__cgminer__status__sleeping.json'),
        get_token: s('whatsminer-m31s__cgminer__get_token.json'),
      },
      fallback: (req) => {
        // Encrypted writes: check the request decrypts with the derived key, answer with the
        // recorded encrypted "command OK" reply.
        if (req.json?.enc === 1 && typeof req.json.data === 'string') {
          try {
            const plain = JSON.parse(aesDecryptBase64(wmKeys.aesKey, req.json.data)) as Record<string, unknown>;
            if (plain.token === wmKeys.sign) return s('whatsminer-m31s__cgminer__reboot__enc-reply.json');
          } catch {
            // fall through to the recorded decrypt error
          }
        }
        return s('whatsminer__cgminer__enc-json-load-err.json');
      },
      creds: { password: WHATSMINER_SAMPLE_PASSWORD },
      // The recorded status says btmineroff while the (separately recorded) summary hashes: mining wins.
      expect: { firmware: 'btminer 20200512.13.REL', states: ['mining'], powerW: 3232, hashrateThs: 85.03843 },
    },
    {
      type: 'vnish',
      label: 'vnish (S21 Pro, replay)',
      cgminer: {
        stats: s('antminer-s21pro-vnish__cgminer__stats.json'),
        summary: s('antminer-s21pro-vnish__cgminer__summary.json'),
        pools: s('antminer-s21pro-vnish__cgminer__pools.json'),
        version: s('antminer-s21pro-vnish__cgminer__version__invalid-command.json'),
      },
      expect: { model: 'Antminer S21 Pro', firmware: 'Vnish 1.2.7', states: ['tuning'], powerW: 2583, hashrateThs: 173.87094 },
    },
    {
      type: 'avalon',
      label: 'avalon (A1566, replay)',
      cgminer: {
        version: s('avalon-a1566__cgminer__version.json'),
        stats: s('avalon-a1566__cgminer__stats.json'),
      },
      expect: { model: 'AvalonMiner 15-194', firmware: 'Avalon 24102401_25462b2_9ddf522', states: ['mining'], powerW: 3731, hashrateThs: 199.24107 },
    },
  ];
}

export interface StartedReplay {
  api: RunningServer;
  http: RunningServer | undefined;
  host: string;
  close(): Promise<void>;
}

/** Starts the servers of one replay set on `host` (default 127.0.0.1, ephemeral ports). */
export async function startReplay(set: ReplaySet, opts: { host?: string; apiPort?: number; httpPort?: number } = {}): Promise<StartedReplay> {
  const host = opts.host ?? '127.0.0.1';
  const fallback = set.fallback;
  const api = await startTcpReplay(
    tableHandler(set.cgminer, fallback ? (req) => {
      const e = fallback(req);
      return typeof e === 'string' || Buffer.isBuffer(e) ? { kind: 'reply', body: e } : typeof e === 'function' ? e(req) : e;
    } : undefined),
    { host, ...(opts.apiPort === undefined ? {} : { port: opts.apiPort }) },
  );
  const http = set.http ? await startHttpReplay({ host, ...(opts.httpPort === undefined ? {} : { port: opts.httpPort }), routes: set.http }) : undefined;
  return {
    api,
    http,
    host,
    close: async () => {
      await api.close();
      await http?.close();
    },
  };
}

/** A contract target for a replay set. */
export async function replayTarget(set: ReplaySet): Promise<ContractTarget> {
  const r = await startReplay(set);
  return {
    host: r.host,
    ports: { api: r.api.port, ...(r.http ? { http: r.http.port } : {}) },
    ...(set.creds ? { creds: set.creds } : {}),
    ...(set.config ? { config: set.config } : {}),
    stateful: false,
    expect: set.expect,
    close: () => r.close(),
  };
}
