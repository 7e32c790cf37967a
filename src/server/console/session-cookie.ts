/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
 * it), Path=/, Max-Age = the session's lifetime; over TLS also Secure with the `__Host-` prefix (the
 * browser then refuses it from plain HTTP or for a sub-domain). Plain HTTP is loopback only unless
 * `--insecure-http`, where a Secure cookie would never come back.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-mullet_session' : 'mullet_session';
}

export function setSessionCookie(c: Context, token: string, ttlMs: number, secure: boolean): void {
  setCookie(c, sessionCookieName(secure), token, { httpOnly: true, sameSite: 'Strict', path: '/', secure, maxAge: Math.floor(ttlMs / 1000) });
}

export function clearSessionCookie(c: Context, secure: boolean): void {
  deleteCookie(c, sessionCookieName(secure), { path: '/', secure, httpOnly: true, sameSite: 'Strict' });
}

export function sessionToken(c: Context, secure: boolean): string | undefined {
  return getCookie(c, sessionCookieName(secure));
}
