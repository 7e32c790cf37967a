/**
 * Demand-response signals over MQTT: the agent subscribes to a topic (e.g. `mullet/<site>/dr`, QoS 1)
 * and takes the HTTP API's JSON with an `action`:
 *   {"action":"curtail","id":"dr-2025-08-01-1","mw":20}   {"action":"restore","id":"dr-...-end"}
 * It answers on `<topic>/ack` when a signal is taken (or rejected) and again when it is settled,
 * with the same timing JSON the CLI prints. The client reconnects on its own; a broker that is down
 * never stops the agent (signals still arrive over HTTP).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { describeError } from '../../core/errors.js';
import type { SiteAgent } from './agent.js';
import { mqttSignalSchema, signalTiming, type SignalSpec } from './signals.js';

export interface MqttSignalOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883 */
  url: string;
  topic: string;
  clientId?: string;
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

export function startMqttSignals(agent: SiteAgent, o: MqttSignalOptions): MqttSignals {
  const log = o.log ?? (() => undefined);
  const ack = `${o.topic}/ack`;
  const stop = new AbortController();
  const client = mqtt.connect(o.url, {
    clientId: o.clientId ?? `mullet-agent-${process.pid}-${Math.floor(Math.random() * 1e9).toString(36)}`,
    connectTimeout: o.connectTimeoutMs ?? 5_000,
    reconnectPeriod: 2_000,
    clean: true,
  });
  let subscribed = false;
  const readyWaiters: (() => void)[] = [];
  const publish = (body: unknown): void => {
    if (client.connected) client.publish(ack, JSON.stringify(body), { qos: 1 }, (err) => err && log(`mqtt: ack not published: ${err.message}`));
  };
  client.on('connect', () => {
    client.subscribe(o.topic, { qos: 1 }, (err) => {
      if (err) return log(`mqtt: cannot subscribe to ${o.topic}: ${err.message}`);
      if (!subscribed) log(`mqtt: listening for signals on ${o.topic} at ${o.url}`);
      subscribed = true;
      for (const w of readyWaiters.splice(0)) w();
    });
  });
  client.on('error', (err) => log(`mqtt: ${err.message}`));
  client.on('message', (topic, payload) => {
    if (topic !== o.topic) return;
    let raw: unknown;
    try {
      raw = JSON.parse(payload.toString('utf8'));
    } catch {
      return publish({ error: { code: 'BAD_INPUT', message: 'payload is not JSON' } });
    }
    const p = mqttSignalSchema.safeParse(raw);
    if (!p.success) {
      const i = p.error.issues[0];
      return publish({ error: { code: 'BAD_INPUT', message: i?.message ?? 'invalid payload', where: i?.path.map(String).join('.') } });
    }
    const d = p.data;
    const spec: SignalSpec =
      d.action === 'restore'
        ? { kind: 'restore' }
        : { kind: 'curtail', ...(d.mw !== undefined ? { mw: d.mw } : {}), ...(d.pct !== undefined ? { pct: d.pct } : {}), ...(d.all ? { all: true as const } : {}) };
    try {
      const r = agent.receiveSignal(spec, d.id, 'mqtt');
      publish({ duplicate: r.duplicate, signal: signalTiming(r.record) });
      if (r.record.state === 'active') {
        void agent.waitForSignal(r.record.id, o.settleWaitMs ?? 600_000, stop.signal).then((done) => {
          if (done && done.state !== 'active') publish({ duplicate: false, signal: signalTiming(done) });
        });
      }
    } catch (err) {
      publish({ error: { code: 'BAD_INPUT', message: describeError(err), where: 'id' } });
    }
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
