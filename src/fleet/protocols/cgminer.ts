/**
 * CGMiner API client (TCP 4028): the wire protocol shared by bmminer (stock Antminer), LuxOS,
 * Braiins OS legacy, Whatsminer, VNish and Avalon. One request per connection; the reply ends with
 * a NUL byte and/or the peer closing.
 *
 * Annotated example — request `{"command":"stats"}` to a stock Antminer S21 (bmminer):
 *
 *   {"STATUS":[{"STATUS":"S",            ← S success, I info, W warning, E error, F fatal
 *               "When":1750277150,       ← device clock, unix s (may be uptime on Avalon)
 *               "Code":70,               ← cgminer message code (70 = stats, 14 = invalid cmd)
 *               "Msg":"CGMiner stats","Description":"cgminer 1.0.0"}],
 *    "STATS":[{"BMMiner":"1.0.0","Miner":"49.0.1.3","Type":"Antminer S21"},   ← version block
 *             {"GHS 5s":203007.01,       ← hashrate, GH/s (5 s window); sometimes a string
 *              "chain_power":"3250 W",   ← power, W, as a string with unit (S21 only)
 *              "fan1":6000, ...}],       ← fan speed, RPM
 *    "id":1}\0                           ← NUL terminator (the recorded samples lost it)
 *
 * Multi-command `summary+stats` replies nest each reply under its command name:
 *   {"summary":[{"STATUS":[...],"SUMMARY":[...],"id":1}],"stats":[{...}],"id":1}
 * Text-mode requests (`summary|`) get text replies: `STATUS=S,When=..,Code=11,Msg=Summary|SUMMARY,...|`.
 * Quirks tolerated here: see lenient-json.ts; STATUS as an array, object or bare string (Whatsminer
 * puts When/Code/Msg beside it); non-standard codes ("Invalid command" with Code 0 on VNish);
 * plain-text "Socket connect failed" from a box whose miner daemon is down.
 */
import { startCall, hostPort, type CallContext, type CallOptions, type ExchangeLimits } from './call.js';
import { MinerError } from './errors.js';
import { LenientJsonError, parseLenientJson } from './lenient-json.js';
import { tcpExchange } from './tcp.js';
import { trimEndNulAndSpace } from './text.js';
import { isObj, num, str, type Obj } from './values.js';

export const CGMINER_PORT = 4028;

/** The normalised STATUS of one reply. */
export interface CgminerStatus {
  /** 'S' success, 'I' info, 'W' warning, 'E' error, 'F' fatal (other letters kept as sent). */
  letter: string;
  /** Message code, null when absent or non-numeric. */
  code: number | null;
  /** Msg as sent: usually a string; an object on Whatsminer v2 (`get_token`, `status`). */
  msg: unknown;
  description: string | null;
  /** Device time of the reply, unix s as sent (may be uptime when the clock is not set). */
  when: number | null;
}

/** One parsed reply: its STATUS and the full body (sections such as SUMMARY, STATS stay as sent). */
export interface CgminerReply {
  command: string;
  status: CgminerStatus;
  body: Obj;
}

export type RequestForm = 'json' | 'text';

export interface CgminerRequest {
  command: string;
  /** Joined with ',' by callers that have several parameters (cgminer convention). */
  parameter?: string;
  /** 'json' (default) sends {"command","parameter"}; 'text' sends `command|parameter`. */
  form?: RequestForm;
  /** Request key for JSON form: 'command' (cgminer) or 'cmd' (Whatsminer API v2). */
  key?: 'command' | 'cmd';
  /** Extra JSON members (Whatsminer v2 commands take named parameters). */
  extra?: Obj;
}

export interface CgminerEndpoint {
  host: string;
  port?: number;
  limits?: Partial<ExchangeLimits>;
}

/** Encodes a request as the bytes a cgminer-style API expects. */
export function encodeRequest(req: CgminerRequest): string {
  if ((req.form ?? 'json') === 'text') {
    return req.parameter === undefined ? req.command : `${req.command}|${req.parameter}`;
  }
  const body: Obj = { [req.key ?? 'command']: req.command };
  if (req.parameter !== undefined) body.parameter = req.parameter;
  if (req.extra) Object.assign(body, req.extra);
  return JSON.stringify(body);
}

/** Sends raw bytes and returns the reply text with the terminator stripped. */
export async function cgminerRaw(ctx: CallContext, ep: CgminerEndpoint, payload: string): Promise<{ text: string; complete: boolean; where: string }> {
  const port = ep.port ?? CGMINER_PORT;
  const reply = await tcpExchange(ctx, { host: ep.host, port, payload, ...(ep.limits ? { limits: ep.limits } : {}) });
  // Some firmware pads with several NULs or a trailing newline after the JSON.
  const text = trimEndNulAndSpace(reply.bytes.toString('utf8'));
  return { text, complete: reply.endedWithNul, where: hostPort(ep.host, port) };
}

/**
 * Parses reply text into a JSON body. Throws MinerError: 'daemon-down' for the plain-text
 * "Socket connect failed", 'truncated' when the text ends early and no NUL terminator was seen,
 * else 'garbage'.
 */
export function parseReplyText(text: string, where: string, complete: boolean): Obj {
  if (text === '') throw new MinerError('closed', 'empty reply', { where });
  if (/^socket connect failed/i.test(text)) {
    throw new MinerError('daemon-down', `miner daemon not answering: ${text.slice(0, 120)}`, { where });
  }
  const first = text[0];
  if (first !== '{' && first !== '[') {
    if (/^STATUS=/.test(text)) return parseTextReply(text);
    throw new MinerError('garbage', `not a cgminer reply: ${preview(text)}`, { where });
  }
  let parsed: unknown;
  try {
    parsed = parseLenientJson(text);
  } catch (err) {
    const atEnd = err instanceof LenientJsonError && err.atEnd;
    if (atEnd && !complete) throw new MinerError('truncated', `reply cut short after ${text.length} bytes`, { where, cause: err });
    throw new MinerError('garbage', `unparseable reply: ${(err as Error).message}`, { where, cause: err });
  }
  if (!isObj(parsed)) throw new MinerError('garbage', 'reply is not a JSON object', { where });
  return parsed;
}

/**
 * Parses a cgminer text-mode reply: sections separated by '|', fields by ',', `key=value`,
 * with '\' escaping ',', '|', '=' and '\'. The first section is STATUS; each later section is
 * named by its first key (e.g. `SUMMARY,Elapsed=5` or `POOL=0,URL=...` → POOLS-like list under
 * the first key). Numeric-looking values become numbers.
 */
export function parseTextReply(text: string): Obj {
  const sections = splitEscaped(text, '|').filter((s) => s.trim() !== '');
  const out: Obj = {};
  sections.forEach((section, idx) => {
    const fields = splitEscaped(section, ',');
    const rec: Obj = {};
    let name: string | undefined;
    for (const f of fields) {
      const eq = indexOfUnescaped(f, '=');
      const key = unescapeText(eq >= 0 ? f.slice(0, eq) : f);
      const raw = eq >= 0 ? unescapeText(f.slice(eq + 1)) : '';
      name ??= key;
      if (eq < 0) continue; // bare section name such as `SUMMARY`
      rec[key] = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw) ? Number(raw) : raw;
    }
    const sectionName = idx === 0 ? 'STATUS' : (name ?? `SECTION${idx}`);
    const list = (out[sectionName] as Obj[] | undefined) ?? [];
    list.push(rec);
    out[sectionName] = list;
  });
  return out;
}

function splitEscaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + (s[i + 1] as string);
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function indexOfUnescaped(s: string, ch: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === ch) return i;
  }
  return -1;
}

function unescapeText(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

function preview(text: string): string {
  const t = text.slice(0, 80).replace(/[^\x20-\x7e]/g, '?');
  return `'${t}'${text.length > 80 ? '…' : ''}`;
}

/**
 * Normalises STATUS whatever its shape: `[{"STATUS":"S",...}]` (cgminer), `{"STATUS":"S",...}`
 * (stats.cgi), or `"S"` with When/Code/Msg beside it at the top level (Whatsminer v2).
 */
export function readStatus(body: Obj): CgminerStatus | null {
  let st: unknown = body.STATUS;
  if (Array.isArray(st)) st = st[0];
  let rec: Obj;
  if (isObj(st)) rec = st;
  else if (typeof st === 'string') rec = { ...body, STATUS: st };
  else return null;
  const letter = str(rec.STATUS) ?? str(rec.status);
  if (letter === null) return null;
  return {
    letter: letter.toUpperCase(),
    code: num(rec.Code ?? rec.code),
    msg: rec.Msg ?? rec.msg ?? null,
    description: str(rec.Description ?? rec.description),
    when: num(rec.When ?? rec.when),
  };
}

/** A textual Msg, or '' when Msg is an object. */
export function msgText(status: CgminerStatus): string {
  return typeof status.msg === 'string' ? status.msg : '';
}

/** cgminer message codes that map to a specific reason (ckolivas/cgminer api.c). */
const REASON_BY_CODE: Record<number, string> = {
  14: 'invalid-command', // MSG_INVCMD
  23: 'invalid-json', // MSG_INVJSON
  24: 'missing-command', // MSG_MISCMD: old Whatsminer firmware rejecting the "cmd" key
  45: 'access-denied', // MSG_ACCDENY ("Access denied to 'x' command"); Whatsminer "can't access write cmd"
};

/** Classifies an error STATUS into a reason; also matches messages when codes are non-standard. */
export function errorReason(status: CgminerStatus): string {
  const m = msgText(status).toLowerCase();
  if (m.includes('invalid command') || m.includes('invalid api command')) return 'invalid-command';
  if (m.includes('access denied') || m.includes("can't access") || m.includes('permission denied')) return 'access-denied';
  if (status.code !== null && REASON_BY_CODE[status.code]) return REASON_BY_CODE[status.code] as string;
  return 'error';
}

/**
 * Throws a PROTOCOL MinerError for E/F replies; S, I (info: Avalon puts results in Msg) and W
 * (warning) pass. A reply without any STATUS is garbage.
 */
export function checkStatus(reply: { command: string; status: CgminerStatus | null; body: Obj }, where: string): CgminerStatus {
  const st = reply.status;
  if (!st) throw new MinerError('garbage', `reply to '${reply.command}' has no STATUS`, { where });
  if (st.letter === 'E' || st.letter === 'F') {
    const text = msgText(st) || JSON.stringify(st.msg);
    throw new MinerError('status', `'${reply.command}' failed: ${text} (STATUS ${st.letter}, Code ${st.code ?? '?'})`, {
      where,
      statusLetter: st.letter,
      ...(st.code === null ? {} : { statusCode: st.code }),
      reason: errorReason(st),
    });
  }
  return st;
}

/** Options for one cgminer call. */
export interface CgminerCallOptions extends CallOptions, Omit<CgminerRequest, 'command'> {
  /** Skip the E/F check (callers that interpret error replies themselves). */
  allowError?: boolean;
}

/** Sends one command and returns its checked reply (E/F STATUS → PROTOCOL MinerError). */
export async function cgminerCommand(ep: CgminerEndpoint, command: string, opts: CgminerCallOptions = {}, ctx?: CallContext): Promise<CgminerReply> {
  const call = ctx ?? startCall(opts);
  const { text, complete, where } = await cgminerRaw(call, ep, encodeRequest({ command, ...pickRequest(opts) }));
  const body = parseReplyText(text, where, complete);
  const reply = { command, status: readStatus(body), body };
  if (opts.allowError) {
    if (!reply.status) throw new MinerError('garbage', `reply to '${command}' has no STATUS`, { where });
    return reply as CgminerReply;
  }
  return { command, status: checkStatus(reply, where), body };
}

function pickRequest(o: CgminerCallOptions): Omit<CgminerRequest, 'command'> {
  const r: Omit<CgminerRequest, 'command'> = {};
  if (o.parameter !== undefined) r.parameter = o.parameter;
  if (o.form !== undefined) r.form = o.form;
  if (o.key !== undefined) r.key = o.key;
  if (o.extra !== undefined) r.extra = o.extra;
  return r;
}

/**
 * Sends a `+`-joined multi-command and splits the reply per command. Each sub-reply's STATUS is
 * checked; a firmware that answers a multi-command with a single error STATUS (not joinable)
 * raises that error.
 */
export async function cgminerMulti(ep: CgminerEndpoint, commands: readonly string[], opts: CallOptions = {}, ctx?: CallContext): Promise<Map<string, CgminerReply>> {
  const call = ctx ?? startCall(opts);
  const joined = commands.join('+');
  const { text, complete, where } = await cgminerRaw(call, ep, encodeRequest({ command: joined }));
  const body = parseReplyText(text, where, complete);
  return splitMulti(body, commands, joined, where);
}

/** Splits a parsed multi-command body into per-command checked replies. */
export function splitMulti(body: Obj, commands: readonly string[], joined: string, where: string): Map<string, CgminerReply> {
  const out = new Map<string, CgminerReply>();
  const missing = commands.filter((c) => !Object.hasOwn(body, c));
  if (missing.length === commands.length) {
    // Not a multi reply: the firmware answered with one STATUS (usually "Invalid command").
    checkStatus({ command: joined, status: readStatus(body), body }, where);
    throw new MinerError('garbage', `multi-command reply lacks sections ${missing.join(', ')}`, { where });
  }
  for (const c of commands) {
    const part: unknown = body[c];
    const sub: unknown = Array.isArray(part) ? (part as unknown[])[0] : part;
    if (!isObj(sub)) throw new MinerError('garbage', `multi-command reply has no '${c}' reply`, { where });
    out.set(c, { command: c, status: checkStatus({ command: c, status: readStatus(sub), body: sub }, where), body: sub });
  }
  return out;
}

/** The list under a section key (e.g. 'SUMMARY', 'STATS'), keeping only objects. */
export function section(body: Obj, ...keys: string[]): Obj[] {
  for (const k of keys) {
    const v = body[k];
    if (Array.isArray(v)) return v.filter(isObj);
    if (isObj(v)) return [v];
  }
  return [];
}
