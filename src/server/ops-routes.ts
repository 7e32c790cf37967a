/**
 * The ops loop's read-only routes, mounted beside the agent's on the same server:
 *   GET /v1/ops          market source, dispatcher, live ledger, replay progress
 *   GET /v1/ops/ledger   the live ledger: today / this month / this run by stream, USD per hour now
 * Writes stay on the agent's routes (signals), so every write path is the one already guarded.
 */
import type { Hono } from 'hono';
import type { OpsApi } from '../ops/api.js';

export function mountOpsRoutes(app: Hono, ops: OpsApi): void {
  app.get('/v1/ops', (c) => c.json(ops.opsStatus()));
  app.get('/v1/ops/ledger', (c) => c.json(ops.ledger()));
}
