/**
 * The agent's live event stream over Server-Sent Events, for the agent API (/v1/events) and the
 * console (/api/v1/events): a status snapshot, then every agent event as it happens; a client more
 * than `maxQueued` events behind is told and dropped (a slow browser must never hold the agent's memory).
 */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AgentApi } from '../fleet/agent/api.js';
import type { AgentEvent } from '../fleet/agent/events.js';

export function eventStream(c: Context, api: AgentApi, release: () => void, maxQueued = 1_000): Response {
  return streamSSE(c, async (stream) => {
    const queue: AgentEvent[] = [];
    let wake: (() => void) | null = null;
    let dropped = false;
    const off = api.subscribe((e) => {
      if (queue.length >= maxQueued) dropped = true;
      else queue.push(e);
      wake?.();
    });
    stream.onAbort(() => wake?.());
    try {
      await stream.writeSSE({ event: 'snapshot', data: JSON.stringify(api.status()) });
      while (!stream.aborted && !dropped) {
        const e = queue.shift();
        if (e) {
          await stream.writeSSE({ event: e.type, data: JSON.stringify(e) });
          continue;
        }
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
      if (dropped) await stream.writeSSE({ event: 'dropped', data: JSON.stringify({ reason: `too slow: more than ${maxQueued} events queued; reconnect for a fresh snapshot` }) });
    } finally {
      off();
      release();
    }
  });
}
