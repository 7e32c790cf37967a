/**
 * Stock Antminer web CGI (lighttpd on port 80, Digest auth, default user root/root). Control
 * (sleep/wake) only exists here: the cgminer API on 4028 is read-only on stock firmware
 * ("api-groups":"A:stats:pools:devs:summary:version").
 *
 * Annotated example — `GET /cgi-bin/get_miner_conf.cgi` on an S19 asleep (raw body, which starts
 * with two blank lines and uses " : " spacing):
 *
 *   {
 *   "pools" : [ {"url" : "…", "user" : "…", "pass" : "x"}, … ]
 *   ,
 *   "bitmain-fan-ctrl" : false,
 *   "bitmain-fan-pwm" : "100",             ← fan duty, % (string)
 *   "bitmain-freq" : "675",                ← MHz (string)
 *   "bitmain-work-mode" : "1",             ← 0 normal, 1 sleep (older firmware: "miner-mode")
 *   "bitmain-freq-level" : "100"
 *   }
 *
 * `POST /cgi-bin/set_miner_conf.cgi` takes the web UI's JSON body: the pools, fan settings,
 * "freq-level" and "miner-mode" (a number). We post the current configuration back with only
 * the mode changed, as the UI does, so pools and fan settings survive a sleep.
 *
 * `GET /cgi-bin/stats.cgi` (S21, 2024 firmware): STATUS is an object, rates in "GH/s":
 *   {"STATUS":{"STATUS":"S","when":1766099123,"Msg":"stats","api_version":"1.0.0"},
 *    "INFO":{"miner_version":"uart_trans.1.3","type":"Antminer S21"},
 *    "STATS":[{"rate_5s":206901.8,"rate_unit":"GH/s","fan":[7000,…],
 *              "chain":[{"temp_chip":[59,59,73,73], …}, …]}]}
 */
import type { Clock } from '../../core/time.js';
import { hostPort, type CallContext, type ExchangeLimits } from './call.js';
import { section } from './cgminer.js';
import { MinerError } from './errors.js';
import { DigestHttpClient, type DigestCredentials } from './http-digest.js';
import { HttpSession, type HttpRequestSpec } from './http1.js';
import { LenientJsonError, parseLenientJson } from './lenient-json.js';
import { trimEndNul } from './text.js';
import { isObj, num, rateUnit, toThs, type Obj } from './values.js';

export const ANTMINER_HTTP_PORT = 80;
export const ANTMINER_DEFAULT_CREDS: DigestCredentials = { username: 'root', password: 'root' };

/** Work modes written to "miner-mode" / read from "bitmain-work-mode". */
export const WORK_MODE = { normal: 0, sleep: 1 } as const;

export interface AntminerWebOptions {
  host: string;
  port?: number;
  creds?: DigestCredentials;
  limits?: Partial<ExchangeLimits>;
  /** With a clock, a configuration read less than `confReuseMs` ago is reused for the next write. */
  clock?: Clock;
  /** How long a read configuration may be posted back without re-reading it, ms (default 60 s). */
  confReuseMs?: number;
}

/** Default reuse window for a read configuration, ms: like a web UI page left open a minute. */
export const CONF_REUSE_MS = 60_000;

export class AntminerWebClient {
  private readonly http: DigestHttpClient;
  readonly port: number;
  private conf: { body: Obj; atMs: number } | null = null;

  constructor(private readonly o: AntminerWebOptions) {
    this.http = new DigestHttpClient(o.creds ?? ANTMINER_DEFAULT_CREDS);
    this.port = o.port ?? ANTMINER_HTTP_PORT;
  }

  private where(path: string): string {
    return `http://${hostPort(this.o.host, this.port)}${path}`;
  }

  /** GET or POST a CGI and parse its JSON body (on `session`'s connection when given). */
  async cgi(ctx: CallContext, name: string, body?: Obj, session?: HttpSession): Promise<Obj> {
    const path = `/cgi-bin/${name}.cgi`;
    const where = this.where(path);
    const spec: HttpRequestSpec = {
      method: body === undefined ? 'GET' : 'POST',
      host: this.o.host,
      port: this.port,
      path,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
      ...(this.o.limits ? { limits: this.o.limits } : {}),
    };
    const res = await this.http.request(ctx, spec, session);
    if (res.status === 404) throw new MinerError('unsupported', `${name}.cgi not found on this firmware`, { where, statusCode: 404 });
    if (res.status !== 200) {
      throw new MinerError('http', `HTTP ${res.status} from ${name}.cgi`, { where, statusCode: res.status, transient: res.status >= 500 });
    }
    const text = trimEndNul(res.body.toString('utf8'));
    if (/^\s*socket connect failed/i.test(text)) throw new MinerError('daemon-down', `miner daemon not answering: ${text.trim().slice(0, 120)}`, { where });
    let parsed: unknown;
    try {
      parsed = parseLenientJson(text);
    } catch (err) {
      const fault = err instanceof LenientJsonError && err.atEnd ? 'truncated' : 'garbage';
      throw new MinerError(fault, `unparseable ${name}.cgi body: ${(err as Error).message}`, { where, cause: err });
    }
    if (!isObj(parsed)) throw new MinerError('garbage', `${name}.cgi body is not a JSON object`, { where });
    return parsed;
  }

  async getMinerConf(ctx: CallContext, session?: HttpSession): Promise<Obj> {
    const body = await this.cgi(ctx, 'get_miner_conf', undefined, session);
    if (this.o.clock) this.conf = { body, atMs: this.o.clock.nowMs() };
    return body;
  }

  /** Posts a configuration; rejects when the reply says it failed. */
  async setMinerConf(ctx: CallContext, conf: Obj, session?: HttpSession): Promise<void> {
    const reply = await this.cgi(ctx, 'set_miner_conf', conf, session);
    // Firmware replies {"stats":"success","code":"M000","msg":"OK!"}; older ones may omit fields.
    const stats = typeof reply.stats === 'string' ? reply.stats.toLowerCase() : null;
    if (stats !== null && stats !== 'success') {
      throw new MinerError('status', `set_miner_conf.cgi refused: ${JSON.stringify(reply).slice(0, 200)}`, { where: this.where('/cgi-bin/set_miner_conf.cgi'), reason: 'rejected' });
    }
  }

  /**
   * Posts the configuration back with "miner-mode" set, as the web UI does with the page it
   * loaded: a configuration read within the reuse window (e.g. by prepare) saves one round trip.
   */
  async setWorkMode(ctx: CallContext, mode: number, session?: HttpSession): Promise<void> {
    const fresh = this.conf !== null && this.o.clock !== undefined && this.o.clock.nowMs() - this.conf.atMs < (this.o.confReuseMs ?? CONF_REUSE_MS);
    const conf = fresh && this.conf ? this.conf.body : await this.getMinerConf(ctx, session);
    this.conf = null; // one reuse per read: the next write re-reads unless prepared again
    await this.setMinerConf(ctx, confWithMode(conf, mode), session);
  }

  /**
   * setWorkMode, then stats.cgi (hashrate) and get_miner_conf.cgi (the stored work mode) on the
   * same keep-alive connection: the evidence of a sleep without another handshake. Not summary.cgi:
   * it was seen reporting 0 GH/s while bmminer restarted under the config write. Null when the
   * read-back fails (firmware without stats.cgi, a server that closed): the command itself
   * succeeded and the caller reads back its own way.
   */
  async setWorkModeThenReadBack(ctx: CallContext, mode: number): Promise<{ hashrateThs: number; mode: number | null } | null> {
    const session = new HttpSession(this.o.host, this.port, this.o.limits);
    try {
      await this.setWorkMode(ctx, mode, session);
      try {
        const hashrateThs = statsCgiHashrateThs(await this.cgi(ctx, 'stats', undefined, session));
        if (hashrateThs === null) return null;
        return { hashrateThs, mode: workMode(await this.getMinerConf(ctx, session)) };
      } catch {
        return null;
      }
    } finally {
      session.close();
    }
  }

  summary(ctx: CallContext): Promise<Obj> {
    return this.cgi(ctx, 'summary');
  }

  stats(ctx: CallContext): Promise<Obj> {
    return this.cgi(ctx, 'stats');
  }
}

/** STATS[0].rate_5s of a stats.cgi body in TH/s (unit from rate_unit, GH/s when absent), null if absent. */
export function statsCgiHashrateThs(body: Obj): number | null {
  const dev = section(body, 'STATS')[0];
  if (!dev) return null;
  const rate = num(dev.rate_5s);
  return rate === null ? null : toThs(rate, rateUnit(dev.rate_unit) ?? 'GH');
}

/** The work mode in a get_miner_conf body ("miner-mode" or "bitmain-work-mode"), null if absent. */
export function workMode(conf: Obj): number | null {
  return num(conf['miner-mode']) ?? num(conf['bitmain-work-mode']);
}

/**
 * The body the web UI posts to set_miner_conf.cgi: pools, fan settings, frequency level and the
 * mode as a number. Keys the UI does not send are left out; values keep the types the UI uses.
 */
export function confWithMode(conf: Obj, mode: number): Obj {
  const pools = Array.isArray(conf.pools)
    ? conf.pools.filter(isObj).map((p) => ({ url: typeof p.url === 'string' ? p.url : '', user: typeof p.user === 'string' ? p.user : '', pass: typeof p.pass === 'string' ? p.pass : '' }))
    : [];
  const out: Obj = { pools };
  if (typeof conf['bitmain-fan-ctrl'] === 'boolean') out['bitmain-fan-ctrl'] = conf['bitmain-fan-ctrl'];
  const pwm = conf['bitmain-fan-pwm'];
  if (typeof pwm === 'string' || typeof pwm === 'number') out['bitmain-fan-pwm'] = String(pwm);
  const freqLevel = conf['freq-level'] ?? conf['bitmain-freq-level'];
  if (typeof freqLevel === 'string' || typeof freqLevel === 'number') out['freq-level'] = String(freqLevel);
  out['miner-mode'] = mode;
  return out;
}
