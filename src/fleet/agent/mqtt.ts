/**
 * Demand-response signals over MQTT: the agent subscribes to a topic (e.g. `mullet/<site>/dr`, QoS 1)
 * and takes the HTTP API's JSON with an `action` and a required `id`:
 *   {"action":"curtail","id":"dr-2025-08-01-1","mw":20,"expiresAt":"2025-08-01T21:00:00Z"}
 *   {"action":"restore","id":"dr-2025-08-01-1-end"}
 * It answers on `<topic>/ack` when a signal is taken (or refused) and again when it settles, with
 * the same timing JSON the CLI prints.
 *
 * Delivery rules (a signal must arrive once, and an old one must never act again):
 *  - Persistent session: a stable client id (default `mullet-agent-<site>`) and `clean: false`, so
 *    the broker queues QoS 1 signals published while the agent is down and delivers them when it
 *    comes back. The id makes a redelivery harmless (the same id is acted on once, 90 days).
 *  - Every message needs an `id`: without one a redelivery or a replay would act twice.
 *  - `expiresAt` (optional, ISO 8601 UTC): a signal past it is not acted on (acked as expired) —
 *    a curtail queued during a long outage must not fire hours later.
 *  - Retained messages (replayed by the broker to every new subscription) are acted on only when
 *    they carry an `expiresAt` still in the future; otherwise they are ignored and acked as such.
 *    A retained id-less `restore` can never clear an emergency curtail after a restart.
 *  - Drops: the broker's own count of dropped messages (`$SYS/broker/publish/messages/dropped`,
 *    Mosquitto) is watched; any increase raises an event and a metric. MQTT cannot say whose
 *    messages were dropped, so the event says the signal source must be checked.
 * The client reconnects on its own; a broker that is down never stops the agent (signals still
 * arrive over HTTP).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import { describeError, isMulletError } from '../../core/errors.js';
import type { AgentApi } from './api.js';
import { curtailFields, ONE_OF, exactlyOne, signalId, signalTiming, type SignalSpec } from './signals.js';

const expiresAt = z.iso.datetime({ offset: true }).optional();

/** MQTT payload: the HTTP body with an `action`, a required `id` and an optional `expiresAt`. */
export const mqttSignalSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('curtail'), ...curtailFields, id: signalId, expiresAt }).refine(exactlyOne, ONE_OF),
  z.strictObject({ action: z.literal('restore'), id: signalId, expiresAt }),
]);

/** Mosquitto's running count of messages it dropped (queue full, inflight limits). */
export const BROKER_DROPPED_TOPIC = '$SYS/broker/publish/messages/dropped';

export interface MqttSignalOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883 */
  url: string;
  topic: string;
  /** Stable id of the persistent session; the broker queues QoS 1 messages for it while away. */
  clientId: string;
  connectTimeoutMs?: number;
  /** Longest the settled ack waits for a signal, ms. */
  settleWaitMs?: number;
  log?: (line: string) => void;
}

export interface MqttSignals {
  readonly client: MqttClient;
  /** Resolves once subscribed (first connection), rejects when `timeoutMs` passes first. */
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function startMqttSignals(agent: AgentApi, o: MqttSignalOptions): MqttSignals {
  const log = o.log ?? (() => undefined);
  const ack = `${o.topic}/ack`;
  const stop = new AbortController();
  const client = mqtt.connect(o.url, {
    clientId: o.clientId,
    connectTimeout: o.connectTimeoutMs ?? 5_000,
    reconnectPeriod: 2_000,
    clean: false,
  });
  let subscribed = false;
  let droppedSeen: number | null = null;
  const readyWaiters: (() => void)[] = [];
  const publish = (body: unknown): void => {
    if (client.connected) client.publish(ack, JSON.stringify(body), { qos: 1 }, (err) => err && log(`mqtt: ack not published: ${err.message}`));
  };
  const refuse = (code: string, message: string, where?: string): void => {
    agent.publish({ type: 'alert', kind: 'mqtt-ignored', detail: `${o.topic}: ${message}` });
    publish({ error: { code, message, ...(where ? { where } : {}) } });
  };
  client.on('connect', (connack) => {
    // A resumed session keeps its subscriptions, but subscribing again is harmless and covers a
    // broker that lost them (restart without persistence).
    client.subscribe({ [o.topic]: { qos: 1 }, [BROKER_DROPPED_TOPIC]: { qos: 0 } }, (err) => {
      if (err) return log(`mqtt: cannot subscribe to ${o.topic}: ${err.message}`);
      if (!subscribed) log(`mqtt: listening for signals on ${o.topic} at ${o.url} (session ${o.clientId}${connack.sessionPresent ? ', resumed' : ''})`);
      subscribed = true;
      for (const w of readyWaiters.splice(0)) w();
    });
  });
  client.on('error', (err) => log(`mqtt: ${err.message}`));
  client.on('message', (topic, payload, packet) => {
    if (topic === BROKER_DROPPED_TOPIC) {
      const n = Number(payload.toString('utf8'));
      if (!Number.isFinite(n)) return;
      if (droppedSeen !== null && n > droppedSeen) {
        agent.publish({ type: 'alert', kind: 'mqtt-dropped', detail: `the broker reports ${n - droppedSeen} more dropped messages (${n} since it started): signals on ${o.topic} may have been lost; check the signal source` });
      }
      droppedSeen = n;
      return;
    }
    if (topic !== o.topic) return;
    let raw: unknown;
    try {
      raw = JSON.parse(payload.toString('utf8'));
    } catch {
      return refuse('BAD_INPUT', 'payload is not JSON');
    }
    const p = mqttSignalSchema.safeParse(raw);
    if (!p.success) {
      const i = p.error.issues[0];
      return refuse('BAD_INPUT', i?.message ?? 'invalid payload', i?.path.map(String).join('.'));
    }
    const d = p.data;
    const nowMs = agent.nowMs();
    const expiresAtMs = d.expiresAt === undefined ? null : Date.parse(d.expiresAt);
    if (packet.retain && expiresAtMs === null) return refuse('BAD_INPUT', `retained message ${d.id} ignored: a retained signal is acted on only with an expiresAt in the future`, 'expiresAt');
    if (expiresAtMs !== null && expiresAtMs <= nowMs) return refuse('EXPIRED', `signal ${d.id} expired at ${d.expiresAt ?? ''}: not acted on`, 'expiresAt');
    const spec: SignalSpec =
      d.action === 'restore'
        ? { kind: 'restore' }
        : { kind: 'curtail', ...(d.mw !== undefined ? { mw: d.mw } : {}), ...(d.pct !== undefined ? { pct: d.pct } : {}), ...(d.all ? { all: true as const } : {}) };
    void agent.receiveSignal(spec, d.id, 'mqtt').then(
      (r) => {
        publish({ duplicate: r.duplicate, signal: signalTiming(r.record) });
        if (r.record.state === 'active') {
          void agent.waitForSignal(r.record.id, o.settleWaitMs ?? 600_000, stop.signal).then((done) => {
            if (done && done.state !== 'active') publish({ duplicate: false, signal: signalTiming(done) });
          });
        }
      },
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
      stop.abort();
      await client.endAsync(true);
    },
  };
}
