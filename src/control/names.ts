/**
 * Names on the control plane: subjects, streams, consumers and the KV bucket, all derived from one
 * prefix (default `mullet`; tests use a random one so runs on a shared server never meet) and the
 * site id, which is in every subject. A site id is one NATS subject token: letters, digits, `_`, `-`.
 *
 *   <p>.site.<id>.cmd        center → site: curtail / restore          (stream <P>_CMD)
 *   <p>.site.<id>.outcome    site → center: each command's outcome     (stream <P>_OUTCOME)
 *   <p>.site.<id>.events     site → center: the agent's events, batched (stream <P>_EVENTS)
 *   <p>.site.<id>.telemetry  site → center: a status digest, 1 per telemetryS (stream <P>_TELEMETRY)
 *   KV <p>_desired, key site.<id>: the site's desired state (center writes with CAS, site watches)
 */
import { z } from 'zod';
import { badInput } from '../core/errors.js';

export const siteIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a site id is letters, digits, _ and - (at most 64; one NATS subject token)');
export const prefixSchema = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'a prefix is lower-case letters, digits and _ (at most 32)');

export const DEFAULT_PREFIX = 'mullet';

export function checkSiteId(id: string, where = '--site'): string {
  const p = siteIdSchema.safeParse(id);
  if (!p.success) throw badInput(`${p.error.issues[0]?.message ?? 'invalid'}: '${id}'`, where);
  return id;
}

export interface ControlNames {
  readonly prefix: string;
  readonly streams: { readonly cmd: string; readonly outcome: string; readonly events: string; readonly telemetry: string };
  /** The KV bucket of desired states, and the stream behind it. */
  readonly bucket: string;
  readonly bucketStream: string;
  cmd(site: string): string;
  outcome(site: string): string;
  events(site: string): string;
  telemetry(site: string): string;
  /** Every site's subject of one kind (`<p>.site.*.<kind>`). */
  all(kind: 'cmd' | 'outcome' | 'events' | 'telemetry'): string;
  /** The KV key of a site's desired state. */
  desiredKey(site: string): string;
  /** The site's durable consumer on the command stream. */
  cmdConsumer(site: string): string;
  /** Inbox prefix of a site's connection (its replies never share a subject space with another site). */
  inbox(site: string): string;
}

export function controlNames(prefix = DEFAULT_PREFIX): ControlNames {
  const p = prefixSchema.parse(prefix);
  const P = p.toUpperCase();
  const subj = (site: string, kind: string): string => `${p}.site.${site}.${kind}`;
  return {
    prefix: p,
    streams: { cmd: `${P}_CMD`, outcome: `${P}_OUTCOME`, events: `${P}_EVENTS`, telemetry: `${P}_TELEMETRY` },
    bucket: `${p}_desired`,
    bucketStream: `KV_${p}_desired`,
    cmd: (s) => subj(s, 'cmd'),
    outcome: (s) => subj(s, 'outcome'),
    events: (s) => subj(s, 'events'),
    telemetry: (s) => subj(s, 'telemetry'),
    all: (kind) => `${p}.site.*.${kind}`,
    desiredKey: (s) => `site.${s}`,
    cmdConsumer: (s) => `site_${s}`,
    inbox: (s) => `_INBOX_${p}_${s}`,
  };
}
