/**
 * Grid deployments over MQTT against the local Mosquitto (127.0.0.1:1883), a unique topic per test:
 * a deployment and its recall arrive and are acked; a deployment sent while the agent is down
 * arrives when it is back (persistent session); retained and expired messages never act.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startMqttGrid, type MqttGrid } from './grid-mqtt.js';
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

async function listen(agent: SiteAgent, topic: string, clientId: string): Promise<MqttGrid> {
  const g = startMqttGrid(agent, { url: BROKER, topic, clientId, connectTimeoutMs: 2_000 });
  await g.ready(5_000);
  return g;
}

/** A clean session ends the broker's record of a persistent one (no queue left behind by tests). */
async function forget(clientId: string): Promise<void> {
  const c = await mqtt.connectAsync(BROKER, { clientId, clean: true, connectTimeout: 2_000, reconnectPeriod: 0 });
  await c.endAsync(true);
}

describe.skipIf(!brokerUp)('grid deployments over MQTT (needs Mosquitto on 127.0.0.1:1883)', { timeout: 20_000 }, () => {
  it('deploy and recall arrive, acked on <topic>/ack with the HTTP JSON', async () => {
    const topic = `mullet-test/${unique()}/grid`;
    const clientId = `mullet-test-${unique()}`;
    const { agent } = await setup(fakeFleet(4));
    const g = await listen(agent, topic, clientId);
    open.push({
      close: async () => {
        await g.close();
        await forget(clientId);
      },
    });
    const pub = await publisher();
    const acks: unknown[] = [];
    await pub.subscribeAsync(`${topic}/ack`, { qos: 1 });
    pub.on('message', (_t, p) => acks.push(JSON.parse(p.toString('utf8'))));
    await pub.publishAsync(topic, JSON.stringify({ action: 'deploy', id: 'm-ecrs-1', product: 'ECRS', mw: 0.003, holdMinutes: 10 }), { qos: 1 });
    await until(async () => (await agent.getDeployment('m-ecrs-1')) !== undefined, 'the deployment');
    expect(await agent.getDeployment('m-ecrs-1')).toMatchObject({ product: 'ECRS', mw: 0.003, source: 'mqtt' });
    await pub.publishAsync(topic, JSON.stringify({ action: 'recall', id: 'm-ecrs-1' }), { qos: 1 });
    await until(async () => (await agent.getDeployment('m-ecrs-1'))?.state === 'recalled', 'the recall');
    await until(() => acks.length >= 2, 'two acks');
    expect(acks[0]).toMatchObject({ duplicate: false, deployment: { id: 'm-ecrs-1', state: 'scheduled' } });
    expect(acks[1]).toMatchObject({ duplicate: false, deployment: { id: 'm-ecrs-1', state: 'recalled' } });
    // Bad payloads are refused with why (and an mqtt-ignored alert), never acted on.
    await pub.publishAsync(topic, JSON.stringify({ action: 'deploy', id: 'bad-1', product: 'NonSpin', mw: 1 }), { qos: 1 });
    await until(() => acks.length >= 3, 'the refusal');
    expect(acks[2]).toMatchObject({ error: { code: 'BAD_INPUT', where: 'product' } });
    expect(await agent.getDeployment('bad-1')).toBeUndefined();
  });

  it('a deployment published while the agent is down arrives once it is back (persistent session)', async () => {
    const topic = `mullet-test/${unique()}/grid`;
    const clientId = `mullet-test-${unique()}`;
    const { agent } = await setup(fakeFleet(4));
    const first = await listen(agent, topic, clientId);
    await first.close();
    const pub = await publisher();
    await pub.publishAsync(topic, JSON.stringify({ action: 'deploy', id: 'while-down', product: 'NSPIN', mw: 0.002 }), { qos: 1 });
    const again = await listen(agent, topic, clientId);
    open.push({
      close: async () => {
        await again.close();
        await forget(clientId);
      },
    });
    await until(async () => (await agent.getDeployment('while-down')) !== undefined, 'the queued deployment');
  });

  it('retained without an expiry, and expired, are not acted on', async () => {
    const topic = `mullet-test/${unique()}/grid`;
    const clientId = `mullet-test-${unique()}`;
    const pub = await publisher();
    await pub.publishAsync(topic, JSON.stringify({ action: 'deploy', id: 'retained-1', product: 'ECRS', mw: 0.001 }), { qos: 1, retain: true });
    const { agent } = await setup(fakeFleet(4));
    const alerts: string[] = [];
    agent.subscribe((e) => e.type === 'alert' && e.kind === 'mqtt-ignored' && alerts.push(e.detail));
    const g = await listen(agent, topic, clientId);
    open.push({
      close: async () => {
        await g.close();
        await forget(clientId);
        await pub.publishAsync(topic, '', { qos: 1, retain: true }); // clears the retained message
      },
    });
    await until(() => alerts.length >= 1, 'the retained message refused');
    expect(alerts[0]).toMatch(/retained message retained-1 ignored/);
    await pub.publishAsync(topic, JSON.stringify({ action: 'deploy', id: 'late-1', product: 'ECRS', mw: 0.001, expiresAt: new Date(agent.nowMs() - 1000).toISOString() }), { qos: 1 });
    await until(() => alerts.length >= 2, 'the expired message refused');
    expect(alerts[1]).toMatch(/expired/);
    expect(await agent.getDeployment('retained-1')).toBeUndefined();
    expect(await agent.getDeployment('late-1')).toBeUndefined();
  });
});
