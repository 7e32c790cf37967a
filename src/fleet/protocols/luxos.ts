/**
 * LuxOS (LUXminer) API: cgminer-style TCP 4028 plus session-gated write commands.
 *
 * Sessions (docs.luxor.tech/firmware/api/sessions): `logon` creates the one session the miner
 * allows; its SessionID is the FIRST comma-separated parameter of every write command; it expires
 * after 60 s idle (each use refreshes it). A second `logon` while one is active answers Code 402
 * "Another session is active" (luxos-tooling). Sessions are coordination, not security: `session`
 * returns the active ID to anyone. This client keeps its session while in use, re-logs once when
 * a write is refused for a session reason, and (by default) adopts the active session on 402.
 *
 * Annotated example — `{"command":"logon"}`:
 *   {"SESSION":[{"SessionID":"yJN2nlj1"}],                ← pass as first parameter
 *    "STATUS":[{"Code":316,"Msg":"Session created","STATUS":"S",
 *               "Description":"LUXminer 0.1.0-15436f7140","When":1667917312}],"id":1}
 * `{"command":"curtail","parameter":"yJN2nlj1,sleep"}` → Code 335 "Curtailment command sent",
 *   CURTAIL[0].Action "sleep mode" — sent, not done: hashboards and PSU go off after it returns.
 * `{"command":"power"}` → POWER[0] {"PSU":false,"Watts":1051}  ← W; PSU false = estimate
 * `{"command":"profiles"}` → PROFILES[] {"Profile Name":"290MHz","Watts":1188,"Hashrate":59.8 (TH/s),"Step":"-12"}
 * `{"command":"config"}` → CONFIG[0] {"CurtailMode":"None","IsPowerSupplyOn":true,"IsTuning":true,"Model":"Antminer S19k Pro",...}
 */
import type { Clock } from '../../core/time.js';
import { checkCall, type CallContext } from './call.js';
import { cgminerCommand, msgText, section, type CgminerEndpoint, type CgminerReply } from './cgminer.js';
import { isMinerError, MinerError } from './errors.js';
import { num, str } from './values.js';

/** LuxOS session idle expiry, ms. */
export const LUXOS_SESSION_IDLE_MS = 60_000;
/** Code LuxOS answers to `logon` while another session is active. */
export const LUXOS_CODE_SESSION_ACTIVE = 402;

export interface LuxosProfile {
  name: string;
  /** Nominal power of the profile, W. */
  watts: number | null;
  /** Nominal hashrate of the profile, TH/s. */
  hashrateThs: number | null;
  step: string | null;
}

export interface LuxosClientOptions {
  clock: Clock;
  /** On logon Code 402, use the active session (from `session`) instead of failing. Default true. */
  adoptActiveSession?: boolean;
  /** Renew proactively when the session has been idle this long, ms (a little under 60 s). */
  idleRenewMs?: number;
}

/** A write refused because the session is missing, invalid or expired (message-based: codes vary). */
export function isSessionError(err: unknown): boolean {
  if (!isMinerError(err) || err.fault !== 'status') return false;
  if (err.statusCode === LUXOS_CODE_SESSION_ACTIVE) return false;
  return /session/i.test(err.message) && /(invalid|expired|not found|no active|unknown|required|timed out|does not)/i.test(err.message);
}

export class LuxosClient {
  private sessionId: string | null = null;
  private lastUsedMs = -Infinity;
  private readonly adopt: boolean;
  private readonly idleRenewMs: number;

  constructor(
    readonly ep: CgminerEndpoint,
    private readonly o: LuxosClientOptions,
  ) {
    this.adopt = o.adoptActiveSession ?? true;
    this.idleRenewMs = o.idleRenewMs ?? LUXOS_SESSION_IDLE_MS - 5_000;
  }

  /** Current session id if one is believed alive (for tests and diagnostics). */
  get session(): string | null {
    return this.sessionId;
  }

  read(ctx: CallContext, command: string, parameter?: string): Promise<CgminerReply> {
    return cgminerCommand(this.ep, command, parameter === undefined ? {} : { parameter }, ctx);
  }

  /** `session`: the active session id, or null when none. */
  async activeSession(ctx: CallContext): Promise<string | null> {
    const r = await this.read(ctx, 'session');
    return str(section(r.body, 'SESSION')[0]?.SessionID);
  }

  /** `logon`; on 402 adopts the active session when allowed. */
  async logon(ctx: CallContext): Promise<string> {
    const r = await cgminerCommand(this.ep, 'logon', { allowError: true }, ctx);
    const id = str(section(r.body, 'SESSION')[0]?.SessionID);
    if (r.status.letter !== 'E' && r.status.letter !== 'F' && id !== null) {
      this.setSession(id);
      return id;
    }
    if (r.status.code === LUXOS_CODE_SESSION_ACTIVE && this.adopt) {
      const active = await this.activeSession(ctx);
      if (active !== null) {
        this.setSession(active);
        return active;
      }
      // The other session expired between the two requests: the slot is free now, log on once more.
      const again = await cgminerCommand(this.ep, 'logon', { allowError: true }, ctx);
      const id2 = str(section(again.body, 'SESSION')[0]?.SessionID);
      if (again.status.letter !== 'E' && again.status.letter !== 'F' && id2 !== null) {
        this.setSession(id2);
        return id2;
      }
    }
    throw new MinerError('auth', `logon refused: ${msgText(r.status) || 'no SessionID'} (Code ${r.status.code ?? '?'})`, {
      where: this.ep.host,
      ...(r.status.code === null ? {} : { statusCode: r.status.code }),
      reason: r.status.code === LUXOS_CODE_SESSION_ACTIVE ? 'session-active' : 'logon-failed',
      // Another actor holds the only session: it frees up within a minute.
      transient: r.status.code === LUXOS_CODE_SESSION_ACTIVE,
    });
  }

  /** `logoff` of our session, if any; errors are ignored (the session expires anyway). */
  async logoff(ctx: CallContext): Promise<void> {
    const id = this.sessionId;
    this.sessionId = null;
    if (id === null) return;
    try {
      await this.read(ctx, 'logoff', id);
    } catch (err) {
      if (isMinerError(err) && err.code === 'ABORTED') throw err;
    }
  }

  private setSession(id: string): void {
    this.sessionId = id;
    this.lastUsedMs = this.o.clock.nowMs();
  }

  /** Makes sure a session is open (logs on when none is fresh). */
  async prepare(ctx: CallContext): Promise<void> {
    checkCall(ctx, this.ep.host);
    await this.ensureSession(ctx);
  }

  private async ensureSession(ctx: CallContext): Promise<string> {
    const idle = this.o.clock.nowMs() - this.lastUsedMs;
    if (this.sessionId !== null && idle < this.idleRenewMs) return this.sessionId;
    this.sessionId = null;
    return this.logon(ctx);
  }

  /**
   * A session-gated command: `command` with parameter "SessionID,p1,p2". A refusal for a session
   * reason (expired, invalid) re-logs once and retries.
   */
  async write(ctx: CallContext, command: string, params: readonly string[]): Promise<CgminerReply> {
    for (let attempt = 0; ; attempt++) {
      const id = await this.ensureSession(ctx);
      try {
        const r = await this.read(ctx, command, [id, ...params].join(','));
        this.lastUsedMs = this.o.clock.nowMs();
        return r;
      } catch (err) {
        if (attempt === 0 && isSessionError(err)) {
          this.sessionId = null;
          checkCall(ctx, this.ep.host);
          continue;
        }
        throw err;
      }
    }
  }

  /** `curtail` sleep|wakeup (returns when the command is sent, not when it is done). */
  curtail(ctx: CallContext, action: 'sleep' | 'wakeup'): Promise<CgminerReply> {
    return this.write(ctx, 'curtail', [action]);
  }

  profileset(ctx: CallContext, profile: string): Promise<CgminerReply> {
    return this.write(ctx, 'profileset', [profile]);
  }

  async profiles(ctx: CallContext): Promise<LuxosProfile[]> {
    const r = await this.read(ctx, 'profiles');
    return section(r.body, 'PROFILES')
      .map((p) => ({ name: str(p['Profile Name']) ?? '', watts: num(p.Watts), hashrateThs: num(p.Hashrate), step: str(p.Step) }))
      .filter((p) => p.name !== '');
  }

  /** `power`: estimated or PSU-read power, W (null when absent). */
  async powerW(ctx: CallContext): Promise<number | null> {
    const r = await this.read(ctx, 'power');
    return num(section(r.body, 'POWER')[0]?.Watts);
  }
}
