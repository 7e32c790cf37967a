/**
 * Serves the built dashboard (`npm run build:web` → dist/web: index.html and hashed assets) from
 * memory: read once at start, looked up by exact path (no file system path from a request is ever
 * opened, so no traversal), `index.html` for `/`, hashed assets cached as immutable. The pages
 * are public (the login page must load); everything they show comes from the authenticated API.
 * Content-Security-Policy: scripts, styles and connections from this origin only — the build
 * inlines nothing and loads nothing from a CDN.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

/** dist/web of this checkout (the same from src/ under vitest and from dist/ when built). */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/** True when a built dashboard is there to serve. */
export function dashboardBuilt(dir = DEFAULT_DASHBOARD_DIR): boolean {
  return existsSync(join(dir, 'index.html'));
}

function files(dir: string): Map<string, { body: Buffer; type: string }> {
  const out = new Map<string, { body: Buffer; type: string }>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.set(`/${relative(dir, full).split(sep).join('/')}`, { body: readFileSync(full), type: TYPES[extname(name)] ?? 'application/octet-stream' });
    }
  };
  walk(dir);
  return out;
}

/** Mounts the dashboard's pages at `/` of `app` (the API lives under /api/v1 beside it). */
export function mountDashboard(app: Hono, dir = DEFAULT_DASHBOARD_DIR): void {
  const table = files(dir);
  const serve = (path: string) => {
    const f = table.get(path);
    if (!f) return undefined;
    const headers: Record<string, string> = {
      'content-type': f.type,
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    };
    return new Response(new Uint8Array(f.body), { status: 200, headers });
  };
  app.get('/', () => serve('/index.html') as Response);
  app.get('/index.html', () => serve('/index.html') as Response);
  app.get('/assets/*', (c) => serve(c.req.path) ?? c.text('not found', 404));
}
