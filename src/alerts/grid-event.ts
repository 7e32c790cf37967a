/**
 * The event a grid-services dispatcher publishes when a deployment was not met — the message the
 * `grid-deployment-missed` rule listens for. Defined here until the grid-deployment code carries
 * it: whoever produces it publishes exactly this shape (as an agent event, or through
 * `AlertService.ingest`), and this schema parses it on arrival.
 *
 *   { "type": "grid.deployment.missed", "v": 1, "atMs": 1754300000000, "deploymentId": "ercot-rrs-2025-08-04T20:15Z",
 *     "product": "RRS", "requestedMW": 12.5, "deliveredMW": 9.1, "deadlineMs": 1754300600000, "detail": "3.4 MW short at the deadline" }
 */
import { z } from 'zod';

export const GRID_DEPLOYMENT_MISSED = 'grid.deployment.missed';

export const gridDeploymentMissedSchema = z.object({
  type: z.literal(GRID_DEPLOYMENT_MISSED),
  v: z.literal(1),
  /** When the miss was established, UTC ms. */
  atMs: z.number().int().nonnegative(),
  /** The deployment's id (the ISO's instruction id or ours): one alert per id. */
  deploymentId: z.string().min(1).max(128),
  /** RRS, ECRS, NSPIN, ERS, … */
  product: z.string().min(1).max(32),
  requestedMW: z.number().finite().nonnegative(),
  /** Load reduction achieved by the deadline, MW (null when it could not be measured). */
  deliveredMW: z.number().finite().nullable(),
  /** When the deployment had to be in effect, UTC ms. */
  deadlineMs: z.number().int().nonnegative(),
  detail: z.string().max(1000).optional(),
});
export type GridDeploymentMissed = z.infer<typeof gridDeploymentMissedSchema>;
