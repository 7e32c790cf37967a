/**
 * MQTT signal delivery against the local Mosquitto (127.0.0.1:1883): signals published while the
 * agent is down arrive once when it is back; retained and expired messages never act; broker
 * drops are reported.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { BROKER_DROPPED_TOPIC, startMqttSignals, type MqttSignals } from './mqtt.js';
import { BROKER, reachable, unique, until } from './testing/broker.js';
import { fakeFleet } from './testing/fake-driver.js';
import { setup } from './testing/harness.js';
import type { SiteAgent } from './agent.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

const brokerUp = await reachable('127.0.0.1', 1883, 500);



async function publisher(): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(BROKER, { connectTimeout: 2_000, reconnectPeriod: 0 });
  open.push({ close: () => c.endAsync(true) });
  return c;
}

async function listen(agent: SiteAgent, topic: string, clientId: string): Promise<MqttSignals> {
  const s = startMqttSignals(agent, { url: BROKER, topic, clientId, connectTimeoutMs: 2_000 });
  await s.ready(5_000);
  return s;
}

describe.skipIf(!brokerUp)('MQTT signals (needs Mosquitto on 127.0.0.1:1883)', () => {
  it('a QoS 1 signal published while the agent is down arrives once when it comes back (persistent session)', async () => {
    const topic = `mullet-test/${unique()}/dr`;
    const clientId = `mullet-test-${unique()}`;
    const { agent } = await setup(fakeFleet(4));
    const first = await listen(agent, topic, clientId);
    await first.close(); // the agent goes down; the broker keeps its session
    const pub = await publisher();
    await pub.publishAsync(topic, JSON.stringify({ action: 'curtail', all: true, id: 'while-down-1' }), { qos: 1 });
    const again = await listen(agent, topic, clientId);
    open.push(again);
    await until(async () => (await agent.signals.get('while-down-1')) !== undefined, 'the queued signal');
    expect(await agent.signals.get('while-down-1')).toMatchObject({ kind: 'curtail', source: 'mqtt' });
    // Clean up the broker's session for this id.
    await again.close();
    const cleaner = await mqtt.connectAsync(BROKER, { clientId, clean: true, reconnectPeriod: 0 });
    await cleaner.endAsync(true);
  });

  it('retained messages: an id-less restore and an unexpiring curtail are ignored; a retained signal with a future expiry acts once', async () => {
    // The broker marks a message retained only when it replays it to a new subscription (an agent
    // that restarts): each case publishes first, then starts a listener.
    const topic = `mullet-test/${unique()}/dr`;
    const pub = await publisher();
    const { agent } = await setup(fakeFleet(4));
    await agent.receiveSignal({ kind: 'curtail', all: true }, 'emergency-1', 'http');
    const ignored = (): number => agent.events.alerts().filter((e) => e.kind === 'mqtt-ignored').length;
    const restart = async (): Promise<void> => {
      const s = await listen(agent, topic, `mullet-test-${unique()}`);
      await new Promise((r) => setTimeout(r, 150));
      await s.close();
    };
    await pub.publishAsync(topic, JSON.stringify({ action: 'restore' }), { qos: 1, retain: true });
    await restart();
    await until(() => ignored() === 1, 'the id-less restore refused');
    // The emergency curtail still holds.
    expect(agent.signals.capMW()).toBe(0);

    await pub.publishAsync(topic, JSON.stringify({ action: 'curtail', pct: 50, id: 'retained-1' }), { qos: 1, retain: true });
    await restart();
    await until(() => ignored() === 2, 'the retained curtail without an expiry ignored');
    expect(await agent.signals.get('retained-1')).toBeUndefined();

    const future = new Date(agent.nowMs() + 3_600_000).toISOString();
    await pub.publishAsync(topic, JSON.stringify({ action: 'curtail', pct: 50, id: 'retained-2', expiresAt: future }), { qos: 1, retain: true });
    await restart();
    await until(async () => (await agent.signals.get('retained-2')) !== undefined, 'the retained signal with an expiry');
    // Every later restart replays it: the id makes it a duplicate, it never acts again.
    await restart();
    await until(() => agent.metrics.signals.get({ kind: 'curtail', source: 'mqtt', duplicate: 'true' }) === 1, 'the replay counted as a duplicate');
    await pub.publishAsync(topic, '', { qos: 1, retain: true }); // clear the retained message
  });

  it('an expired signal is not acted on; a message without an id is refused', async () => {
    const topic = `mullet-test/${unique()}/dr`;
    const { agent } = await setup(fakeFleet(4));
    const s = await listen(agent, topic, `mullet-test-${unique()}`);
    open.push(s);
    const pub = await publisher();
    const acks: string[] = [];
    pub.on('message', (_t, p) => acks.push(p.toString('utf8')));
    await pub.subscribeAsync(`${topic}/ack`, { qos: 1 });
    await pub.publishAsync(topic, JSON.stringify({ action: 'curtail', all: true, id: 'late-1', expiresAt: '2020-01-01T00:00:00Z' }), { qos: 1 });
    await pub.publishAsync(topic, JSON.stringify({ action: 'restore' }), { qos: 1 });
    await until(() => acks.length >= 2, 'two refusals');
    expect(acks.join('\n')).toMatch(/EXPIRED/);
    expect(acks.join('\n')).toMatch(/"where": ?"id"/);
    expect(await agent.signals.get('late-1')).toBeUndefined();
  });

  it("reports the broker's dropped-message count when it grows", async () => {
    const { agent } = await setup(fakeFleet(1));
    const s = await listen(agent, `mullet-test/${unique()}/dr`, `mullet-test-${unique()}`);
    open.push(s);
    // Mosquitto publishes this counter itself (clients may not write $SYS): feed the handler as the broker would.
    s.client.emit('message', BROKER_DROPPED_TOPIC, Buffer.from('10'), { retain: false } as never);
    s.client.emit('message', BROKER_DROPPED_TOPIC, Buffer.from('930'), { retain: false } as never);
    const dropped = agent.events.alerts().filter((e) => e.kind === 'mqtt-dropped');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]?.detail).toMatch(/920 more dropped messages/);
    expect(agent.metrics.alerts.get({ kind: 'mqtt-dropped' })).toBe(1);
  });
});
