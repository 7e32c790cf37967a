/**
 * `mullet ops`'s figures in the console API (viewers may read): the ops status, the live ledger
 * (today / month / run by stream, USD) and the market around now (RT/DA prices and each fleet's
 * break-even, USD/MWh) that the dashboard's price chart and "earned today" panel draw.
 */
import { z } from 'zod';
import { ledgerSummarySchema, opsMarketSchema, opsStatusSchema, type OpsConsoleApi } from '../../ops/api.js';
import { route, type AnyRoute } from './define.js';

export function opsConsoleRoutes(ops: OpsConsoleApi): AnyRoute[] {
  const read = { kind: 'permission', permission: 'site:read', onSite: true } as const;
  return [
    route({
      method: 'get',
      path: '/ops',
      operationId: 'ops.status',
      summary: 'The ops loop: market source, dispatcher, live ledger, replay progress, feeds',
      tag: 'ops',
      access: read,
      replies: { 200: { description: 'the ops status', schema: opsStatusSchema } },
      handler: ({ c }) => c.json(ops.opsStatus() as unknown as z.infer<typeof opsStatusSchema>),
    }),
    route({
      method: 'get',
      path: '/ops/ledger',
      operationId: 'ops.ledger',
      summary: 'The live ledger: today, this month and this run by stream (USD), USD per hour now',
      tag: 'ops',
      access: read,
      replies: { 200: { description: 'the ledger summary', schema: ledgerSummarySchema } },
      handler: ({ c }) => c.json(ops.ledger() as unknown as z.infer<typeof ledgerSummarySchema>),
    }),
    route({
      method: 'get',
      path: '/ops/market',
      operationId: 'ops.market',
      summary: 'RT and DA prices around now (USD/MWh) and each fleet’s break-even at that interval’s hashprice',
      tag: 'ops',
      access: read,
      replies: { 200: { description: 'prices and break-evens', schema: opsMarketSchema } },
      handler: ({ c }) => c.json(ops.market()),
    }),
  ];
}
