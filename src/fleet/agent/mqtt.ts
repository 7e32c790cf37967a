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
import { z } from 'zod';
import { describeError, isMulletError } from '../../core/errors.js';
import type { AgentApi } from './api.js';
import { deliverable, startMqttIntake, type MqttIntake } from './mqtt-intake.js';
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

export type MqttSignals = MqttIntake;

export function startMqttSignals(agent: AgentApi, o: MqttSignalOptions): MqttSignals {
  const stop = new AbortController();
  let droppedSeen: number | null = null;
  return startMqttIntake(
    agent,
    {
      ...o,
      what: 'signals',
      extraTopics: { [BROKER_DROPPED_TOPIC]: { qos: 0 } },
      onOther: (topic, payload) => {
        if (topic !== BROKER_DROPPED_TOPIC) return;
        const n = Number(payload.toString('utf8'));
        if (!Number.isFinite(n)) return;
        if (droppedSeen !== null && n > droppedSeen) {
          agent.publish({ type: 'alert', kind: 'mqtt-dropped', detail: `the broker reports ${n - droppedSeen} more dropped messages (${n} since it started): signals on ${o.topic} may have been lost; check the signal source` });
        }
        droppedSeen = n;
      },
      onClose: () => stop.abort(),
    },
    (raw, packet, { publish, refuse }) => {
      const p = mqttSignalSchema.safeParse(raw);
      if (!p.success) {
        const i = p.error.issues[0];
        return refuse('BAD_INPUT', i?.message ?? 'invalid payload', i?.path.map(String).join('.'));
      }
      const d = p.data;
      if (!deliverable({ publish, refuse }, { id: d.id, expiresAt: d.expiresAt, retain: packet.retain, nowMs: agent.nowMs(), noun: 'signal' })) return;
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
    },
  );
}
