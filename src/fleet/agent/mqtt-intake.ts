/**
 * What every MQTT intake of the agent shares (curtail signals in `mqtt.ts`, grid deployments in
 * `grid-mqtt.ts`): a persistent session (stable client id, `clean: false`, QoS 1) so messages sent
 * while the agent is down arrive when it is back; acks on `<topic>/ack` with the HTTP API's JSON; a
 * payload that is not JSON refused (an `mqtt-ignored` alert and an error ack); and the delivery rule
 * for old messages — a retained message acts only with an `expiresAt` still in the future, and any
 * message past its `expiresAt` is not acted on. The intakes own their payload schemas and actions.
 */
import mqtt, { type IClientSubscribeOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { AgentApi } from './api.js';

export interface MqttIntakeOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883 */
  url: string;
  topic: string;
  /** Stable id of the persistent session; the broker queues QoS 1 messages for it while away. */
  clientId: string;
  connectTimeoutMs?: number;
  log?: (line: string) => void;
  /** What arrives on the topic, for the log ('signals', 'grid deployments'). */
  what: string;
  /** More topics to subscribe to; their messages go to `onOther`. */
  extraTopics?: Record<string, IClientSubscribeOptions>;
  onOther?: (topic: string, payload: Buffer) => void;
  /** Runs first on close (e.g. aborting waits that would still ack). */
  onClose?: () => void;
}

/** What a message handler may do: ack on `<topic>/ack`, or refuse with an alert and an error ack. */
export interface IntakeReply {
  publish: (body: unknown) => void;
  refuse: (code: string, message: string, where?: string) => void;
}

export interface MqttIntake {
  readonly client: MqttClient;
  /** Resolves once subscribed (first connection), rejects when `timeoutMs` passes first. */
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The delivery rule for an old message: false (and refused) when it is retained without an
 * `expiresAt` or when its `expiresAt` has passed. `noun` names it in the refusal ('signal', 'grid message').
 */
export function deliverable(reply: IntakeReply, m: { id: string; expiresAt: string | undefined; retain: boolean; nowMs: number; noun: string }): boolean {
  const expiresAtMs = m.expiresAt === undefined ? null : Date.parse(m.expiresAt);
  if (m.retain && expiresAtMs === null) {
    reply.refuse('BAD_INPUT', `retained message ${m.id} ignored: a retained ${m.noun} is acted on only with an expiresAt in the future`, 'expiresAt');
    return false;
  }
  if (expiresAtMs !== null && expiresAtMs <= m.nowMs) {
    reply.refuse('EXPIRED', `${m.noun} ${m.id} expired at ${m.expiresAt ?? ''}: not acted on`, 'expiresAt');
    return false;
  }
  return true;
}

/** Connects, subscribes and hands every JSON message of `o.topic` to `handle`. */
export function startMqttIntake(agent: Pick<AgentApi, 'publish'>, o: MqttIntakeOptions, handle: (raw: unknown, packet: IPublishPacket, reply: IntakeReply) => void): MqttIntake {
  const log = o.log ?? (() => undefined);
  const ack = `${o.topic}/ack`;
  const client = mqtt.connect(o.url, { clientId: o.clientId, connectTimeout: o.connectTimeoutMs ?? 5_000, reconnectPeriod: 2_000, clean: false });
  let subscribed = false;
  const readyWaiters: (() => void)[] = [];
  const publish = (body: unknown): void => {
    if (client.connected) client.publish(ack, JSON.stringify(body), { qos: 1 }, (err) => err && log(`mqtt: ack on ${ack} not published: ${err.message}`));
  };
  const reply: IntakeReply = {
    publish,
    refuse: (code, message, where) => {
      agent.publish({ type: 'alert', kind: 'mqtt-ignored', detail: `${o.topic}: ${message}` });
      publish({ error: { code, message, ...(where ? { where } : {}) } });
    },
  };
  client.on('connect', (connack) => {
    // A resumed session keeps its subscriptions, but subscribing again is harmless and covers a
    // broker that lost them (restart without persistence).
    client.subscribe({ [o.topic]: { qos: 1 }, ...o.extraTopics }, (err) => {
      if (err) return log(`mqtt: cannot subscribe to ${o.topic}: ${err.message}`);
      if (!subscribed) log(`mqtt: listening for ${o.what} on ${o.topic} at ${o.url} (session ${o.clientId}${connack.sessionPresent ? ', resumed' : ''})`);
      subscribed = true;
      for (const w of readyWaiters.splice(0)) w();
    });
  });
  client.on('error', (err) => log(`mqtt: ${err.message}`));
  client.on('message', (topic, payload, packet) => {
    if (topic !== o.topic) return o.onOther?.(topic, payload);
    let raw: unknown;
    try {
      raw = JSON.parse(payload.toString('utf8'));
    } catch {
      return reply.refuse('BAD_INPUT', 'payload is not JSON');
    }
    handle(raw, packet, reply);
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
      o.onClose?.();
      await client.endAsync(true);
    },
  };
}
