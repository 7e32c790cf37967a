/**
 * The event the site agent publishes when a grid deployment's deadline passed short of 95 % of its
 * MW (fleet/agent/events.ts, produced by the agent's grid desk) — the message the
 * `grid-deployment-missed` rule listens for. One schema for both ends: this module only picks it out
 * of the agent's event union, so a producer and this consumer cannot drift apart.
 */
import { agentEventSchema, type AgentEvent } from '../fleet/agent/events.js';

export const GRID_DEPLOYMENT_MISSED = 'grid.deployment.missed';

export type GridDeploymentMissed = Extract<AgentEvent, { type: 'grid.deployment.missed' }>;

/** Parses an event that crossed a boundary; only the missed-deployment event passes. */
export const gridDeploymentMissedSchema = agentEventSchema.refine((e): e is GridDeploymentMissed => e.type === GRID_DEPLOYMENT_MISSED, { message: `expected a ${GRID_DEPLOYMENT_MISSED} event` });
