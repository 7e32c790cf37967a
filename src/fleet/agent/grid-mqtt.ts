/**
 * Grid deployments over MQTT, in the signals' topic family (`mullet/<site>/grid`, QoS 1):
 *   {"action":"deploy","id":"ecrs-2025-08-01-17","product":"ECRS","mw":50,"holdMinutes":60,"expiresAt":"…"}
 *   {"action":"recall","id":"ecrs-2025-08-01-17"}
 * Acks (taken, or refused with why) on `<topic>/ack`, with the HTTP API's JSON; how the response
 * went is in the event stream (`grid.deployment`, `grid.deployment.missed`) and the evidence. The
 * same delivery rules as the curtail signals (`mqtt-intake.ts`): a persistent session
 * (client id `<signals client id>-grid`, `clean: false`) so a deployment sent while the agent is
 * down arrives when it is back; an `id` on every message (a redelivery is harmless: a deployment id
 * is acted on once, a recall of a finished deployment changes nothing); a message past its
 * `expiresAt` is not acted on; a retained message acts only with an `expiresAt` still in the future.
 */
import { z } from 'zod';
import { describeError, isMulletError } from '../../core/errors.js';
import type { AgentApi } from './api.js';
import { deliverable, startMqttIntake, type MqttIntake } from './mqtt-intake.js';
import { deploymentRequestSchema, deploymentView, type GridApi } from './grid.js';
import { signalId } from './signals.js';

const expiresAt = z.iso.datetime({ offset: true }).optional();

/** MQTT payload: a deployment with `action: deploy` (and an optional `expiresAt`), or a recall by id. */
export const mqttGridSchema = z.union([
  // The deployment's own fields are checked by deploymentRequestSchema once `action` and `expiresAt` are taken off.
  z.looseObject({ action: z.literal('deploy'), expiresAt }),
  z.strictObject({ action: z.literal('recall'), id: signalId, expiresAt }),
]);

export interface MqttGridOptions {
  url: string;
  /** Default `mullet/<site>/grid`. */
  topic: string;
  clientId: string;
  connectTimeoutMs?: number;
  log?: (line: string) => void;
}

export type MqttGrid = MqttIntake;

export function startMqttGrid(agent: Pick<AgentApi, 'publish'> & GridApi, o: MqttGridOptions): MqttGrid {
  return startMqttIntake(agent, { ...o, what: 'grid deployments' }, (raw, packet, { publish, refuse }) => {
    const p = mqttGridSchema.safeParse(raw);
    if (!p.success) {
      const i = p.error.issues[0];
      return refuse('BAD_INPUT', i?.message ?? 'invalid payload', i?.path.map(String).join('.'));
    }
    const id = typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : '(no id)';
    if (!deliverable({ publish, refuse }, { id, expiresAt: p.data.expiresAt, retain: packet.retain, nowMs: agent.nowMs(), noun: 'grid message' })) return;
    let work: Promise<{ record: Parameters<typeof deploymentView>[0]; duplicate: boolean }>;
    if (p.data.action === 'recall') work = agent.recallDeployment(p.data.id, 'mqtt');
    else {
      const { action: _a, expiresAt: _e, ...rest } = raw as Record<string, unknown>;
      const req = deploymentRequestSchema.safeParse(rest);
      if (!req.success) {
        const i = req.error.issues[0];
        return refuse('BAD_INPUT', i?.message ?? 'invalid deployment', i?.path.map(String).join('.'));
      }
      work = agent.receiveDeployment(req.data, 'mqtt');
    }
    void work.then(
      (r) => publish({ duplicate: r.duplicate, deployment: deploymentView(r.record) }),
      (err: unknown) => publish({ error: { code: isMulletError(err) ? err.code : 'INTERNAL', message: describeError(err), where: 'id' } }),
    );
  });
}
