import { Raw, toWire, type Wire } from './wire-json.js';

/**
 * Server side of the cgminer API framing on TCP 4028: one request per connection, JSON
 * (`{"command":"summary","parameter":"…"}`, Whatsminer `{"cmd":…}`) or text (`summary|param`),
 * `+`-joined multi-commands, and the reply terminated by a NUL byte (cgminer api.c sends len+1).
 */
export interface ApiRequest {
  /** Command names; more than one for a `+`-joined request. */
  readonly commands: readonly string[];
  readonly parameter: string | undefined;
  /** True for JSON requests (replies are JSON), false for text mode. */
  readonly json: boolean;
  /** Which key named the command: cgminer 'command' or Whatsminer 'cmd'. */
  readonly key: 'command' | 'cmd' | undefined;
  /** The whole JSON object (Whatsminer v2 commands carry named members, `enc`, `token`…). */
  readonly body: Readonly<Record<string, unknown>> | undefined;
}

export type ParseResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'request'; readonly request: ApiRequest }
  | { readonly kind: 'invalid-json' }
  | { readonly kind: 'missing-command' };

/** Largest request the simulator reads (cgminer's RECVSIZE is 8 KB; encrypted Whatsminer commands fit). */
export const MAX_REQUEST_BYTES = 65_536;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses what a client has sent so far. JSON waits until the object is complete (clients do not
 * half-close); text mode is complete on the first bytes, as cgminer reads a single recv().
 */
export function parseApiRequest(buf: Buffer, ended: boolean): ParseResult {
  let text = buf.toString('utf8');
  const nul = text.indexOf('\0');
  if (nul >= 0) text = text.slice(0, nul);
  const trimmed = text.trim();
  if (trimmed === '') return ended ? { kind: 'invalid-json' } : { kind: 'incomplete' };
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return ended || nul >= 0 || buf.length >= MAX_REQUEST_BYTES ? { kind: 'invalid-json' } : { kind: 'incomplete' };
    }
    if (!isRecord(parsed)) return { kind: 'invalid-json' };
    const key = typeof parsed.command === 'string' ? 'command' : typeof parsed.cmd === 'string' ? 'cmd' : undefined;
    // Encrypted Whatsminer envelopes carry no command in the clear.
    if (key === undefined && parsed.enc === undefined) return { kind: 'missing-command' };
    const name = key === undefined ? '' : (parsed[key] as string);
    const p = parsed.parameter;
    const parameter = typeof p === 'string' ? p : typeof p === 'number' || typeof p === 'boolean' ? String(p) : undefined;
    return {
      kind: 'request',
      request: { commands: name.split('+').map((c) => c.trim()), parameter, json: true, key, body: parsed },
    };
  }
  const line = trimmed.split(/\r?\n/)[0] ?? '';
  const bar = line.indexOf('|');
  const cmd = bar >= 0 ? line.slice(0, bar) : line;
  const parameter = bar >= 0 ? line.slice(bar + 1) : undefined;
  return { kind: 'request', request: { commands: [cmd.trim()], parameter, json: false, key: undefined, body: undefined } };
}

export interface StatusFields {
  readonly letter: 'S' | 'I' | 'W' | 'E' | 'F';
  readonly code: number;
  readonly msg: string;
  readonly description: string;
  /** Device clock, unix seconds. */
  readonly whenS: number;
}

/** The cgminer STATUS element in bmminer/btminer key order. */
export function statusObject(s: StatusFields): Record<string, Wire> {
  return { STATUS: s.letter, When: s.whenS, Code: s.code, Msg: s.msg, Description: s.description };
}

/** A plain cgminer error reply (`{"STATUS":[…],"id":1}`). */
export function errorReply(s: Omit<StatusFields, 'letter'>): Record<string, Wire> {
  return { STATUS: [statusObject({ ...s, letter: 'E' })], id: 1 };
}

/** cgminer text-mode rendering: `STATUS=S,When=…,Code=…|SUMMARY,Elapsed=…|`. */
export function toTextReply(reply: Readonly<Record<string, Wire>>): string {
  const scalar = (v: Wire): string => {
    if (v instanceof Raw) return v.text;
    if (v === null) return '';
    if (typeof v === 'object') return toWire(v);
    return String(v);
  };
  const parts: string[] = [];
  for (const [section, value] of Object.entries(reply)) {
    if (section === 'id') continue;
    const items = Array.isArray(value) ? (value as readonly Wire[]) : [value];
    for (const item of items) {
      if (typeof item !== 'object' || item === null || item instanceof Raw || Array.isArray(item)) {
        parts.push(`${section}=${scalar(item as Wire)}`);
        continue;
      }
      const entries = Object.entries(item as Record<string, Wire>);
      const first = entries[0]?.[0];
      // cgminer opens list items with their own key (POOL=0, ASC=0, STATS=0) and other sections with the name.
      const prefix = section === 'STATUS' || first === undefined || /^(POOL|ASC|PGA|STATS|FAN|TEMP)$/.test(first) ? '' : `${section},`;
      parts.push(prefix + entries.map(([k, v]) => `${k}=${scalar(v)}`).join(','));
    }
  }
  return parts.join('|') + '|';
}
