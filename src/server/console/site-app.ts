/**
 * The whole console origin of a command (`mullet serve`, `mullet ops`): the authenticated API under
 * /api/v1, the built dashboard at /, older read paths (`/metrics`, `/v1/ops`, …) answered by their
 * authenticated console routes, and 401 for any other path without a session or key (404 with
 * one), so a stranger learns nothing about what runs here beyond login and health.
 */
import { Hono } from 'hono';
import { errorBody } from '../errors.js';
import { MulletError } from '../../core/errors.js';
import { CONSOLE_API_BASE, mountConsole, type ConsoleApiOptions, type PagesDeps } from './app.js';
import { dashboardBuilt, DEFAULT_DASHBOARD_DIR, mountDashboard } from './dashboard.js';
import type { ConsoleDeps } from './routes.js';

export interface ConsoleSiteOptions extends ConsoleApiOptions {
  /** Old path → console route (relative to /api/v1), same method: e.g. '/metrics' → '/metrics'. */
  aliases?: Readonly<Record<string, string>>;
  /** Built dashboard folder (default dist/web); served only when it has an index.html. */
  dashboardDir?: string;
}

/** Re-dispatches a request to another path of the same app (headers, cookies, method and body kept). */
function forward(app: Hono, req: Request, path: string, env: unknown): Response | Promise<Response> {
  const u = new URL(req.url);
  u.pathname = path;
  return app.fetch(new Request(u, req), env);
}

export function consoleSiteApp(deps: ConsoleDeps & PagesDeps, o: ConsoleSiteOptions = {}): Hono {
  const log = o.log ?? (() => undefined);
  const app = new Hono();
  mountConsole(app, deps, o);
  for (const [from, to] of Object.entries(o.aliases ?? {})) app.all(from, (c) => forward(app, c.req.raw, `${CONSOLE_API_BASE}${to}`, c.env));
  const dir = o.dashboardDir ?? DEFAULT_DASHBOARD_DIR;
  if (dashboardBuilt(dir)) mountDashboard(app, dir);
  else log(`the dashboard is not built (${dir} has no index.html; \`npm run build:web\`): serving the API only`);
  app.all('*', async (c) => {
    // Authenticate as the API would (GET /me): 401 without a valid session or key, else 404.
    const me = await forward(app, new Request(c.req.url, { headers: c.req.raw.headers }), `${CONSOLE_API_BASE}/me`, c.env);
    if (me.status !== 200) return me;
    return c.json(errorBody(new MulletError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}; the API is under ${CONSOLE_API_BASE} (GET ${CONSOLE_API_BASE}/openapi.json)`)), 404);
  });
  return app;
}
