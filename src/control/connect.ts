/**
 * Connecting to the control plane: the `control:` block of agent.yaml (and the same flags of
 * `mullet control`), the credentials it names, and the NATS connection options. A secret comes
 * from an environment variable or a file, is read at start and never logged or echoed; errors say
 * which source failed, never its contents.
 *
 *   control:
 *     servers: [nats://127.0.0.1:4222]
 *     siteId: west-texas-1
 *     auth: { user: site-west-texas-1, password: { env: MULLET_NATS_PASSWORD } }   # or { token: {file: …} } or { nkeySeed: {file: …} }
 *     holdS: 600          # keep the last desired state this long after losing the center
 *     fallback: price-only  # then: price-only (the site's own target) | hold (keep it) | safe-mode
 *     telemetryS: 10
 */
import { readFileSync } from 'node:fs';
import { connect, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { z } from 'zod';
import { badInput, describeError, MulletError } from '../core/errors.js';
import { DEFAULT_PREFIX, prefixSchema, siteIdSchema } from './names.js';

/** Where a secret is: an environment variable or a file (its first line). */
export const secretSourceSchema = z.union([z.strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name') }), z.strictObject({ file: z.string().min(1) })]);
export type SecretSource = z.infer<typeof secretSourceSchema>;

export const natsAuthSchema = z.union([
  z.strictObject({ token: secretSourceSchema }),
  z.strictObject({ user: z.string().min(1).max(128), password: secretSourceSchema }),
  z.strictObject({ nkeySeed: secretSourceSchema }),
]);
export type NatsAuth = z.infer<typeof natsAuthSchema>;

export const FALLBACKS = ['price-only', 'hold', 'safe-mode'] as const;
export type Fallback = (typeof FALLBACKS)[number];

const natsUrl = z.string().regex(/^(nats|tls):\/\/[^\s/]+$/, 'must be nats://HOST:PORT or tls://HOST:PORT');

/** The `control:` block of agent.yaml. */
export const siteControlConfigSchema = z.strictObject({
  servers: z.array(natsUrl).min(1).max(16),
  siteId: siteIdSchema.optional(),
  prefix: prefixSchema.optional(),
  auth: natsAuthSchema.optional(),
  holdS: z.number().min(0).max(7 * 86_400).optional(),
  fallback: z.enum(FALLBACKS).optional(),
  telemetryS: z.number().min(1).max(3600).optional(),
});
export type SiteControlConfig = z.infer<typeof siteControlConfigSchema>;

export const CONTROL_DEFAULTS = { prefix: DEFAULT_PREFIX, holdS: 600, fallback: 'price-only' as Fallback, telemetryS: 10 };

/** Reads a secret; `env` is the environment to read from (process.env in the CLI). */
export function readSecret(s: SecretSource, env: Record<string, string | undefined>, where: string): string {
  if ('env' in s) {
    const v = env[s.env];
    if (v === undefined || v === '') throw new MulletError('AUTH', `environment variable ${s.env} is not set`, { where });
    return v.trim();
  }
  let text: string;
  try {
    text = readFileSync(s.file, 'utf8');
  } catch (err) {
    throw new MulletError('AUTH', `cannot read the secret file: ${describeError(err)}`, { where: `${where}: ${s.file}` });
  }
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (line === undefined) throw new MulletError('AUTH', 'the secret file is empty', { where: `${where}: ${s.file}` });
  return line.trim();
}

/** NATS connection options for `auth` (secrets read now). */
export function authOptions(auth: NatsAuth | undefined, env: Record<string, string | undefined>): Partial<NodeConnectionOptions> {
  if (!auth) return {};
  if ('token' in auth) return { token: readSecret(auth.token, env, 'control.auth.token') };
  if ('user' in auth) return { user: auth.user, pass: readSecret(auth.password, env, 'control.auth.password') };
  const seed = readSecret(auth.nkeySeed, env, 'control.auth.nkeySeed');
  if (!/^SU[A-Z2-7]{56}$/.test(seed)) throw new MulletError('AUTH', 'not a user nkey seed (SU…)', { where: 'control.auth.nkeySeed' });
  return { authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)) };
}

export interface ConnectOptions {
  servers: readonly string[];
  auth?: NatsAuth | undefined;
  env: Record<string, string | undefined>;
  /** Connection name shown by the server (`mullet-site-<id>`, `mullet-control`). */
  name: string;
  inboxPrefix?: string;
  /** First connection deadline, ms. */
  timeoutMs: number;
  /** Keep reconnecting forever (a site) or give up (a CLI run). */
  reconnectForever: boolean;
}

/** Connects within `timeoutMs`; AUTH when the server refuses the credentials, NETWORK when unreachable. */
export async function connectControl(o: ConnectOptions): Promise<NatsConnection> {
  for (const s of o.servers) {
    if (!natsUrl.safeParse(s).success) throw badInput(`expected nats://HOST:PORT, got '${s}'`, 'control.servers');
  }
  try {
    return await connect({
      servers: [...o.servers],
      name: o.name,
      timeout: o.timeoutMs,
      ...(o.inboxPrefix ? { inboxPrefix: o.inboxPrefix } : {}),
      maxReconnectAttempts: o.reconnectForever ? -1 : 3,
      reconnectTimeWait: 500,
      reconnectJitter: 250,
      // A dead link is noticed within ~10 s even when no packet says so (a cut cable, a partition).
      pingInterval: 5_000,
      maxPingOut: 2,
      waitOnFirstConnect: o.reconnectForever,
      ...authOptions(o.auth, o.env),
    });
  } catch (err) {
    if (err instanceof MulletError) throw err;
    const msg = describeError(err);
    const auth = /authoriz|authenticat|permission/i.test(msg);
    throw new MulletError(auth ? 'AUTH' : 'NETWORK', `cannot connect to NATS at ${o.servers.join(', ')}: ${msg}`, { where: 'control.servers', cause: err });
  }
}
