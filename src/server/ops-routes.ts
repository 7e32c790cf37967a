/**
 * The ops loop's read-only routes, mounted beside the agent's on the same server:
 *   GET /v1/ops          market source, dispatcher, live ledger, replay progress
 *   GET /v1/ops/ledger   the live ledger: today / this month / this run by stream, USD per hour now
 *   GET /v1/ops/market   RT / DA prices around now and each fleet's break-even, USD/MWh
 * With a console configured (`mullet ops --console-db`), these paths are answered by the
 * authenticated console routes instead (src/server/console/ops-routes.ts), viewers and up.
 * Writes stay on the agent's routes (signals), so every write path is the one already guarded.
 */
import type { Hono } from 'hono';
import type { OpsConsoleApi } from '../ops/api.js';

export function mountOpsRoutes(app: Hono, ops: OpsConsoleApi): void {
  app.get('/v1/ops', (c) => c.json(ops.opsStatus()));
  app.get('/v1/ops/ledger', (c) => c.json(ops.ledger()));
  app.get('/v1/ops/market', (c) => c.json(ops.market()));
}
