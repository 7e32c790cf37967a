/**
 * Grid deployments over MQTT, in the signals' topic family (`mullet/<site>/grid`, QoS 1):
 *   {"action":"deploy","id":"ecrs-2025-08-01-17","product":"ECRS","mw":50,"holdMinutes":60,"expiresAt":"…"}
 *   {"action":"recall","id":"ecrs-2025-08-01-17"}
 * Acks (taken, or refused with why) on `<topic>/ack`, with the HTTP API's JSON; how the response
 * went is in the event stream (`grid.deployment`, `grid.deployment.missed`) and the evidence. The same delivery rules as the curtail signals (`mqtt.ts`): a persistent session
 * (client id `<signals client id>-grid`, `clean: false`) so a deployment sent while the agent is
 * down arrives when it is back; an `id` on every message (a redelivery is harmless: a deployment id
 * is acted on once, a recall of a finished deployment changes nothing); a message past its
 * `expiresAt` is not acted on; a retained message acts only with an `expiresAt` still in the future.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import { describeError, isMulletError } from '../../core/errors.js';
import type { AgentApi } from './api.js';
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

export interface MqttGrid {
  readonly client: MqttClient;
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function startMqttGrid(agent: Pick<AgentApi, 'publish'> & GridApi, o: MqttGridOptions): MqttGrid {
  const log = o.log ?? (() => undefined);
  const ack = `${o.topic}/ack`;
  const client = mqtt.connect(o.url, { clientId: o.clientId, connectTimeout: o.connectTimeoutMs ?? 5_000, reconnectPeriod: 2_000, clean: false });
  let subscribed = false;
  const readyWaiters: (() => void)[] = [];
  const publish = (body: unknown): void => {
    if (client.connected) client.publish(ack, JSON.stringify(body), { qos: 1 }, (err) => err && log(`mqtt: grid ack not published: ${err.message}`));
  };
  const refuse = (code: string, message: string, where?: string): void => {
    agent.publish({ type: 'alert', kind: 'mqtt-ignored', detail: `${o.topic}: ${message}` });
    publish({ error: { code, message, ...(where ? { where } : {}) } });
  };
  client.on('connect', () => {
    client.subscribe({ [o.topic]: { qos: 1 } }, (err) => {
      if (err) return log(`mqtt: cannot subscribe to ${o.topic}: ${err.message}`);
      if (!subscribed) log(`mqtt: listening for grid deployments on ${o.topic} at ${o.url} (session ${o.clientId})`);
      subscribed = true;
      for (const w of readyWaiters.splice(0)) w();
    });
  });
  client.on('error', (err) => log(`mqtt: ${err.message}`));
  client.on('message', (topic, payload, packet) => {
    if (topic !== o.topic) return;
    let raw: unknown;
    try {
      raw = JSON.parse(payload.toString('utf8'));
    } catch {
      return refuse('BAD_INPUT', 'payload is not JSON');
    }
    const p = mqttGridSchema.safeParse(raw);
    if (!p.success) {
      const i = p.error.issues[0];
      return refuse('BAD_INPUT', i?.message ?? 'invalid payload', i?.path.map(String).join('.'));
    }
    const expiresAtMs = p.data.expiresAt === undefined ? null : Date.parse(p.data.expiresAt);
    const id = typeof (raw as { id?: unknown }).id === 'string' ? ((raw as { id: string }).id) : '(no id)';
    if (packet.retain && expiresAtMs === null) return refuse('BAD_INPUT', `retained message ${id} ignored: a retained grid message is acted on only with an expiresAt in the future`, 'expiresAt');
    if (expiresAtMs !== null && expiresAtMs <= agent.nowMs()) return refuse('EXPIRED', `grid message ${id} expired at ${p.data.expiresAt ?? ''}: not acted on`, 'expiresAt');
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
  return {
    client,
    ready: (timeoutMs) =>
      subscribed
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`not subscribed to ${o.topic} at ${o.url} within ${timeoutMs} ms`)), timeoutMs);
            readyWaiters.push(() => {
              clearTimeout(t);
              resolve();
            });
          }),
    close: async () => {
      await client.endAsync(true);
    },
  };
}
