/**
 * The control plane's JetStream resources, created by the center (`mullet control init`, and every
 * center command before it acts): four streams, the desired-state bucket, and one durable command
 * consumer per site. A site never creates a stream; with per-site credentials it may only create
 * its own consumer (`creds.ts`), so a site that starts before the center has run still gets its
 * commands. Idempotent: a second run with the same config changes nothing.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { nanos } from '@nats-io/transport-node';
import type { ControlNames } from './names.js';

/** How long the server remembers a `Nats-Msg-Id` (the app-level record covers longer). */
export const DUPLICATE_WINDOW_MS = 2 * 60_000;
const DAY_MS = 86_400_000;

export interface RetentionDays {
  commands: number;
  outcomes: number;
  events: number;
  telemetry: number;
}
export const DEFAULT_RETENTION_DAYS: RetentionDays = { commands: 7, outcomes: 30, events: 30, telemetry: 7 };

/** Creates (or updates) the streams and the bucket; returns the bucket. */
export async function ensureControlPlane(nc: NatsConnection, jsm: JetStreamManager, names: ControlNames, days: RetentionDays = DEFAULT_RETENTION_DAYS): Promise<KV> {
  const stream = async (name: string, subject: string, maxAgeDays: number, extra: { max_msgs_per_subject?: number; allow_direct?: boolean } = {}): Promise<void> => {
    const cfg = {
      name,
      subjects: [subject],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(maxAgeDays * DAY_MS),
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      num_replicas: 1,
      ...extra,
    };
    try {
      await jsm.streams.info(name);
      await jsm.streams.update(name, cfg);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.streams.add(cfg);
    }
  };
  await stream(names.streams.cmd, names.all('cmd'), days.commands);
  await stream(names.streams.outcome, names.all('outcome'), days.outcomes);
  await stream(names.streams.events, names.all('events'), days.events);
  // The latest digest per site is read with a direct get (the site reads its own back to learn the server's clock).
  await stream(names.streams.telemetry, names.all('telemetry'), days.telemetry, { max_msgs_per_subject: 100_000, allow_direct: true });
  return new Kvm(nc).create(names.bucket, { history: 10, allow_direct: true });
}

/** The site's durable command consumer: in order, one at a time, redelivered until acked. */
export function commandConsumerConfig(names: ControlNames, site: string) {
  return {
    durable_name: names.cmdConsumer(site),
    filter_subject: names.cmd(site),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    // One in flight: commands are applied in the order the stream accepted them.
    max_ack_pending: 1,
    ack_wait: nanos(30_000),
    max_deliver: -1,
  };
}

/** Creates the site's command consumer when missing (the center at `init`; the site itself at start). */
export async function ensureCommandConsumer(jsm: JetStreamManager, names: ControlNames, site: string): Promise<void> {
  try {
    await jsm.consumers.info(names.streams.cmd, names.cmdConsumer(site));
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.consumers.add(names.streams.cmd, commandConsumerConfig(names, site));
  }
}

/** Deletes every resource of a prefix (tests and benches clean up after themselves). */
export async function deleteControlPlane(jsm: JetStreamManager, names: ControlNames): Promise<void> {
  for (const s of [...Object.values(names.streams), names.bucketStream]) {
    try {
      await jsm.streams.delete(s);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

export function isNotFound(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number } };
  const code = e.api_error?.err_code;
  return code === 10059 || code === 10014 || (err instanceof Error && /not found/i.test(err.message));
}
