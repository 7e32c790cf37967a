/**
 * Things the agent wants an operator to see, as typed records: a device that reported the
 * impossible, a command acknowledged and not obeyed, a miner given up on, the meter over the
 * limit. Published to subscribers (logs today; the HTTP edge and NATS later) and kept in a short
 * ring for /v1/status.
 */
export type AgentEventKind =
  | 'implausible-reading' // a miner reading outside physical bounds: counted at nameplate instead
  | 'implausible-meter' // a meter reading outside physical bounds: ignored
  | 'observed-over-commanded' // a sleep read back still drawing after its grace: others shed for it
  | 'relapse' // a proven sleep later read undone: counted awake, retried, others shed
  | 'miner-failed' // retries ran out: left alone for a while, still counted at what it draws
  | 'meter-over-limit' // the meter read above the import limit between ticks
  | 'mqtt-dropped' // the MQTT broker reports dropped messages
  | 'mqtt-ignored'; // an MQTT message not taken (retained without a valid expiry, no id, ...)

export interface AgentEvent {
  kind: AgentEventKind;
  /** UTC ms, from the agent's clock. */
  atMs: number;
  minerId?: string;
  detail: string;
}

export type AgentEventInput = Omit<AgentEvent, 'atMs'>;

/** Fan-out to subscribers plus the last `keep` events. */
export class EventHub {
  private readonly ring: AgentEvent[] = [];
  private readonly subs = new Set<(e: AgentEvent) => void>();

  constructor(private readonly keep = 200) {}

  publish(e: AgentEvent): void {
    this.ring.push(e);
    if (this.ring.length > this.keep) this.ring.splice(0, this.ring.length - this.keep);
    for (const s of this.subs) s(e);
  }

  /** Subscribes; returns the unsubscribe function. */
  subscribe(fn: (e: AgentEvent) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }

  recent(n = this.keep): AgentEvent[] {
    return this.ring.slice(-n);
  }
}
