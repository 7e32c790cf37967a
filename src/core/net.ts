/** Address helpers shared by every listener: what counts as reachable from this machine only. */
import { isIP } from 'node:net';

/** True for host names and addresses only this machine can reach (127.0.0.0/8 also IPv4-mapped, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** True for an IPv4 or IPv6 literal (brackets allowed). */
export function isIpLiteral(host: string): boolean {
  return isIP(host.replace(/^\[|\]$/g, '')) !== 0;
}

/** Host part of a Host header or URL authority ('[::1]:8420' → '[::1]', 'a.b:80' → 'a.b'). */
export function hostOf(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) return a.slice(0, a.indexOf(']') + 1);
  const i = a.lastIndexOf(':');
  return i >= 0 && a.indexOf(':') === i ? a.slice(0, i) : a;
}
