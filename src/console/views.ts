/**
 * What the console says about users and keys (API replies and `--json` CLI output): one zod schema
 * each, parsed by both ends. Never a hash or a secret; the one exception is `createdKeySchema`,
 * the only reply that carries a key, once.
 */
import { z } from 'zod';
import { MulletError } from '../core/errors.js';
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from '../core/time.js';
import { roleSchema, siteNameSchema } from './roles.js';

export const userNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]*$/, 'must be letters, digits and _ . @ - (at most 64)');
export const keyNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 _.:@-]*$/, 'must be letters, digits, spaces and _ . : @ - (at most 64)');
export const keyIdSchema = z.string().regex(/^[0-9a-f]{12}$/, 'a key id is 12 hex digits (the part after mlt_)');

export const userViewSchema = z.object({
  name: z.string(),
  role: roleSchema,
  /** null: all sites. */
  site: siteNameSchema.nullable(),
  disabled: z.boolean(),
  createdAt: z.string(),
});
export type UserView = z.infer<typeof userViewSchema>;

export const keyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: roleSchema,
  site: siteNameSchema.nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  /** active, expired or revoked (at the time of the reply). */
  state: z.enum(['active', 'expired', 'revoked']),
});
export type KeyView = z.infer<typeof keyViewSchema>;

/** The reply to a key's creation: the key itself, shown this once. */
export const createdKeySchema = z.object({ key: z.string(), info: keyViewSchema });

/** Who is asking (GET /api/v1/me). */
export const principalViewSchema = z.object({
  kind: z.enum(['user', 'key']),
  name: z.string(),
  role: roleSchema,
  site: siteNameSchema.nullable(),
  permissions: z.array(z.string()),
  /** Session end (users) or key expiry, ISO; null: none. */
  expiresAt: z.string().nullable(),
});

/** '30d', '12h', '90m' → ms; at most 10 years. */
export const durationSchema = z.string().regex(/^[1-9]\d{0,5}[mhd]$/, "a duration such as '90m', '12h' or '30d'");

export function durationMs(text: string, where = 'expires'): number {
  const m = /^([1-9]\d{0,5})([mhd])$/.exec(text.trim());
  if (!m) throw new MulletError('BAD_INPUT', `expected a duration such as '90m', '12h' or '30d', got '${text}'`, { where });
  const unit = m[2] === 'd' ? MS_PER_DAY : m[2] === 'h' ? MS_PER_HOUR : MS_PER_MINUTE;
  const ms = Number(m[1]) * unit;
  if (ms > 3650 * MS_PER_DAY) throw new MulletError('BAD_INPUT', `at most 3650d, got '${text}'`, { where });
  return ms;
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
