/**
 * The site's own record of the commands it has processed, in the agent's state store, beyond the
 * stream's duplicate window (2 min): a command id seen again — a center retrying after its own
 * timeout, a redelivery after a crash, a replay — is answered from this record and never reaches
 * the agent twice. Also remembered: the newest `issuedAt` applied (an older command arriving later
 * is stale) and the commands whose outcome is not yet settled (followed again after a restart).
 * Kept `retentionMs` (90 days, as the agent keeps its signals) and at most `maxIds` ids.
 */
import { z } from 'zod';
import type { AgentStateStore } from '../../fleet/agent/state-port.js';

/** What the record needs of the agent's store (atomic multi-key writes). */
export type ProcessedStore = Pick<AgentStateStore, 'getKv' | 'saveSignals'>;

const KEY_INDEX = 'control:processed';
const KEY_LAST = 'control:lastIssuedAtMs';
const KEY_PENDING = 'control:unsettled';
const keyOf = (id: string): string => `control:cmd:${id}`;

export const processedSchema = z.object({
  id: z.string(),
  /** received: taken by the agent; settled: its outcome known; rejected: not acted on. */
  state: z.enum(['received', 'settled', 'rejected']),
  reason: z.string().optional(),
  atMs: z.number(),
  issuedAtMs: z.number(),
});
export type Processed = z.infer<typeof processedSchema>;

const indexSchema = z.array(z.tuple([z.string(), z.number()]));

export class ProcessedCommands {
  private index: [string, number][] = [];
  private lastIssuedAtMs = -Infinity;
  private unsettled: string[] = [];

  private constructor(
    private readonly store: ProcessedStore,
    private readonly o: { retentionMs: number; maxIds: number },
  ) {}

  static async open(store: ProcessedStore, o: { retentionMs?: number; maxIds?: number } = {}): Promise<ProcessedCommands> {
    const p = new ProcessedCommands(store, { retentionMs: o.retentionMs ?? 90 * 86_400_000, maxIds: o.maxIds ?? 10_000 });
    const [idx, last, pend] = await Promise.all([store.getKv(KEY_INDEX), store.getKv(KEY_LAST), store.getKv(KEY_PENDING)]);
    p.index = idx ? (indexSchema.safeParse(JSON.parse(idx)).data ?? []) : [];
    p.lastIssuedAtMs = last !== undefined && Number.isFinite(Number(last)) ? Number(last) : -Infinity;
    p.unsettled = pend ? (z.array(z.string()).safeParse(JSON.parse(pend)).data ?? []) : [];
    return p;
  }

  async get(id: string): Promise<Processed | undefined> {
    const raw = await this.store.getKv(keyOf(id));
    if (raw === undefined) return undefined;
    return processedSchema.safeParse(JSON.parse(raw)).data;
  }

  /** The newest issuedAt of a command the agent took, UTC ms (-Infinity before any). */
  newestIssuedAtMs(): number {
    return this.lastIssuedAtMs;
  }

  /** Ids taken but not yet settled (followed again after a restart). */
  pending(): readonly string[] {
    return this.unsettled;
  }

  /** Records a command (new or an update of its state) in one atomic write; prunes old ids. */
  async put(p: Processed): Promise<void> {
    const kv: Record<string, string | null> = { [keyOf(p.id)]: JSON.stringify(p) };
    if (!this.index.some(([id]) => id === p.id)) this.index.push([p.id, p.atMs]);
    const cutoff = p.atMs - this.o.retentionMs;
    while (this.index.length > 0 && ((this.index[0]?.[1] ?? Infinity) < cutoff || this.index.length > this.o.maxIds)) {
      const [old] = this.index.shift() as [string, number];
      kv[keyOf(old)] = null;
    }
    kv[KEY_INDEX] = JSON.stringify(this.index);
    if (p.state === 'received') {
      if (p.issuedAtMs > this.lastIssuedAtMs) {
        this.lastIssuedAtMs = p.issuedAtMs;
        kv[KEY_LAST] = String(p.issuedAtMs);
      }
      if (!this.unsettled.includes(p.id)) this.unsettled.push(p.id);
    } else this.unsettled = this.unsettled.filter((x) => x !== p.id);
    kv[KEY_PENDING] = JSON.stringify(this.unsettled);
    await this.store.saveSignals([], kv);
  }
}
