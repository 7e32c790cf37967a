/**
 * Roles and permissions of the console (pure: no I/O, no clock). Permissions are `resource:action`
 * (Proto Fleet's model); a role is a fixed set of them; a grant is a role scoped to all sites
 * (`site: null`) or to one site. A holder can hand on (to a key) only a grant it covers: every
 * permission of the wanted role and a scope inside its own.
 */
import { z } from 'zod';

export const ROLES = ['viewer', 'operator', 'admin', 'signals'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'site:read', // status, live events, metrics
  'signals:read', // a signal's phases and timing
  'audit:read', // the audit log
  'site:signal', // post curtail / restore signals
  'site:mode', // change the site's dispatch mode
  'strategy:run', // start and cancel back-test and plan jobs (they take the server's CPU)
  'users:manage', // create users, change roles, disable
  'keys:manage', // list and revoke every key (anyone may manage their own)
  'config:write', // site and agent configuration
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const VIEWER: readonly Permission[] = ['site:read', 'signals:read', 'audit:read'];
const OPERATOR: readonly Permission[] = [...VIEWER, 'site:signal', 'site:mode', 'strategy:run'];

/** What each role may do. `signals` is a machine role: post signals and read their timing, nothing else. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  viewer: new Set(VIEWER),
  operator: new Set(OPERATOR),
  admin: new Set(PERMISSIONS),
  signals: new Set<Permission>(['site:signal', 'signals:read']),
};

/** A site name as it appears in a scope (and in the agent's `siteName`). */
export const siteNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be letters, digits and _ . : - (at most 128)');

export const roleSchema = z.enum(ROLES);

/** A role on all sites (`site: null`) or on one. */
export const grantSchema = z.object({ role: roleSchema, site: siteNameSchema.nullable() });
export type Grant = z.infer<typeof grantSchema>;

/** True when `grant` holds `permission` on `site` (`site` undefined: an action not tied to one site). */
export function allows(grant: Grant, permission: Permission, site?: string): boolean {
  if (!ROLE_PERMISSIONS[grant.role].has(permission)) return false;
  return grant.site === null || site === undefined || grant.site === site;
}

/** True when `holder` may hand on `wanted`: every permission of it, on a scope inside its own. */
export function covers(holder: Grant, wanted: Grant): boolean {
  const mine = ROLE_PERMISSIONS[holder.role];
  for (const p of ROLE_PERMISSIONS[wanted.role]) if (!mine.has(p)) return false;
  return holder.site === null || holder.site === wanted.site;
}

/** 'operator on all sites', 'viewer on site west-1'. */
export function describeGrant(g: Grant): string {
  return `${g.role} on ${g.site === null ? 'all sites' : `site ${g.site}`}`;
}

/** The audit scope of a grant: '*' for all sites. */
export function scopeOf(g: Grant): string {
  return g.site ?? '*';
}
